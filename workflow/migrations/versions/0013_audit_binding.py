"""The audit trail's binding checkpoint: the head records the number of the event that bound the trail to its key.

With it the head's MAC covers where the signed part of the trail begins, so a trail once signed cannot be
stripped of its MACs, cut back before its binding, or re-hashed without the key. A keyed database is bound
by `wuzhuan db upgrade` itself (run with the key configured); an unkeyed one when a key is first configured.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch_op:
        batch_op.add_column(sa.Column("bound_seq", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch_op:
        batch_op.drop_column("bound_seq")
