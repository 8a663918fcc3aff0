"""Sub-items: the child items a step hands to several units (spawn), one row per child.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("sub_items",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("parent_id", sa.Integer(), nullable=False),
                    sa.Column("parent_step_id", sa.Integer(), nullable=False),
                    sa.Column("child_id", sa.Integer(), nullable=False),
                    sa.Column("unit_id", sa.Integer(), nullable=False),
                    sa.Column("position", sa.Integer(), nullable=False),
                    sa.Column("closed_at", sa.DateTime(), nullable=True),
                    sa.Column("closed_reason", sa.String(length=500), nullable=True),
                    sa.ForeignKeyConstraint(["parent_id"], ["items.id"]),
                    sa.ForeignKeyConstraint(["parent_step_id"], ["steps.id"]),
                    sa.ForeignKeyConstraint(["child_id"], ["items.id"]),
                    sa.ForeignKeyConstraint(["unit_id"], ["org_units.id"]),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("child_id"),
                    sa.UniqueConstraint("parent_step_id", "unit_id"))
    op.create_index("ix_sub_items_parent", "sub_items", ["parent_id", "parent_step_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sub_items_parent", table_name="sub_items")
    op.drop_table("sub_items")
