"""Drop the outbox's foreign key to escalations: PostgreSQL made a burst of notices quadratic.

The check ran once per queued notice, and each backend keeps the plan it made for it: made while
the escalations table was small, that plan is a sequential scan, and it stayed one while a sweep
added thousands of escalations (measured: 10,000 rungs at once took 3.1 s to queue their 20,000
notices, the last batch 14x slower than the first; without the check, 0.3 s). The key added
nothing: the sweep writes the escalation and its notices in one transaction from the id the claim
returned, and escalations are never deleted.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 00:40:00
"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# SQLite keeps 0001's key unnamed; a naming convention lets batch mode find it by this name.
_SQLITE_FK = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table("outbox", naming_convention=_SQLITE_FK) as batch_op:
            batch_op.drop_constraint("fk_outbox_escalation_id_escalations", type_="foreignkey")
    else:
        op.drop_constraint("outbox_escalation_id_fkey", "outbox", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.create_foreign_key("outbox_escalation_id_fkey", "escalations", ["escalation_id"], ["id"])
