"""A keyed audit trail and facts about the database.

- audit_events.mac, audit_head.mac: an HMAC-SHA256 under a key kept outside the database (see
  docs/deployment.md, "The audit key"). Events written before a key was set have none.
- meta: key/value facts about the database itself, e.g. that it is a demo's simulation (so a copy of
  the file stays one) and the fingerprint of the audit key that signs its trail.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 12:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    with op.batch_alter_table("audit_head") as batch_op:
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    op.create_table("meta",
                    sa.Column("key", sa.String(length=64), nullable=False),
                    sa.Column("value", sa.Text(), nullable=False),
                    sa.PrimaryKeyConstraint("key"))


def downgrade() -> None:
    op.drop_table("meta")
    with op.batch_alter_table("audit_head") as batch_op:
        batch_op.drop_column("mac")
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_column("mac")
