"""Failed logins counted by the name typed, whether or not a person has it: one lock rule for every name.

The counters used to live on the person's row, so a name nobody has was never locked out and answered
differently from a real one (a way to learn which names exist). They move to a table keyed by the SHA-256 of
the name as typed (trimmed, lower-cased): the old columns on `people` go (a lock lasts a minute: none is kept).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("people") as batch_op:
        batch_op.drop_column("login_failures")
        batch_op.drop_column("failures_since")
        batch_op.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("people") as batch_op:
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("failures_since", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("login_failures", sa.Integer(), nullable=False, server_default=sa.text("0")))
    op.drop_table("login_throttle")
