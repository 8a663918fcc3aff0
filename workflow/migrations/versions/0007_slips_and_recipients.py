"""督办单 that fit their readers: one message per rung with To and Cc, numbered slips with a new 限期, webhooks per unit.

outbox.recipients (To and Cc of one message) and outbox.channel (email | webhook); escalations.slip_no and
escalations.limit_at; org_units.webhook_url; slip_counters, the last slip number of each year.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("recipients", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=False, server_default="email"))
    with op.batch_alter_table("escalations") as batch_op:
        batch_op.add_column(sa.Column("slip_no", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("limit_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("org_units") as batch_op:
        batch_op.add_column(sa.Column("webhook_url", sa.String(length=500), nullable=True))
    op.create_table("slip_counters",
                    sa.Column("year", sa.Integer(), nullable=False),
                    sa.Column("last", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("year"))


def downgrade() -> None:
    op.drop_table("slip_counters")
    with op.batch_alter_table("org_units") as batch_op:
        batch_op.drop_column("webhook_url")
    with op.batch_alter_table("escalations") as batch_op:
        batch_op.drop_column("limit_at")
        batch_op.drop_column("slip_no")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("channel")
        batch_op.drop_column("recipients")
