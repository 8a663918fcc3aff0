"""The workbench's inbox: assignments indexed by (person, role, item), and open items by (template, state);
the index on assignments.item_id alone dropped (the unique (item_id, role, person_id) one serves every lookup by item).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 18:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.drop_index("ix_assignments_person")
        batch_op.drop_index("ix_assignments_item_id")
        batch_op.create_index("ix_assignments_person_role", ["person_id", "role", "item_id"], unique=False)
    with op.batch_alter_table("items") as batch_op:
        batch_op.create_index("ix_items_open_state", ["template_key", "paused_at", "state", "template_version_id", "due_at",
                                                      "yellow_at", "group_unit_id", "finished_at"], unique=False,
                              postgresql_where=sa.text("finished_at IS NULL"), sqlite_where=sa.text("finished_at IS NULL"))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch_op:
        batch_op.drop_index("ix_items_open_state")
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.drop_index("ix_assignments_person_role")
        batch_op.create_index("ix_assignments_item_id", ["item_id"], unique=False)
        batch_op.create_index("ix_assignments_person", ["person_id", "item_id"], unique=False)
