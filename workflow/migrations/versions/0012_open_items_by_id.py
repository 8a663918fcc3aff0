"""An index of the open items by id (the inbox of a person who holds a role on a few thousand items probes them by id).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 20:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OPEN_ID_COLUMNS = ["template_version_id", "state", "paused_at", "due_at", "yellow_at", "group_unit_id"]


def upgrade() -> None:
    op.create_index("ix_items_open_id", "items", ["id"], unique=False, postgresql_include=OPEN_ID_COLUMNS,
                    postgresql_where=sa.text("finished_at IS NULL"), sqlite_where=sa.text("finished_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_items_open_id", table_name="items")
