"""Reports: deputies' activities on items, evaluators' scores, the digest claims.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("activities",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("item_id", sa.Integer(), nullable=False),
                    sa.Column("kind", sa.String(length=20), nullable=False),
                    sa.Column("day", sa.Date(), nullable=False),
                    sa.Column("note", sa.String(length=500), nullable=True),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.Column("created_by", sa.String(length=64), nullable=True),
                    sa.ForeignKeyConstraint(["item_id"], ["items.id"]),
                    sa.PrimaryKeyConstraint("id"))
    op.create_index("ix_activities_item_id", "activities", ["item_id"], unique=False)
    op.create_table("activity_deputies",
                    sa.Column("activity_id", sa.Integer(), nullable=False),
                    sa.Column("person_id", sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(["activity_id"], ["activities.id"]),
                    sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
                    sa.PrimaryKeyConstraint("activity_id", "person_id"))
    op.create_index("ix_activity_deputies_person_id", "activity_deputies", ["person_id"], unique=False)
    op.create_table("scores",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("scorecard", sa.String(length=32), nullable=False),
                    sa.Column("year", sa.Integer(), nullable=False),
                    sa.Column("unit_id", sa.Integer(), nullable=False),
                    sa.Column("evaluator_id", sa.Integer(), nullable=False),
                    sa.Column("score", sa.Integer(), nullable=False),
                    sa.Column("comment", sa.String(length=500), nullable=True),
                    sa.Column("at", sa.DateTime(), nullable=False),
                    sa.ForeignKeyConstraint(["unit_id"], ["org_units.id"]),
                    sa.ForeignKeyConstraint(["evaluator_id"], ["people.id"]),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("scorecard", "year", "unit_id", "evaluator_id"))
    op.create_table("digests",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("scorecard", sa.String(length=32), nullable=False),
                    sa.Column("period", sa.String(length=16), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.Column("messages", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("scorecard", "period"))


def downgrade() -> None:
    op.drop_table("digests")
    op.drop_table("scores")
    op.drop_index("ix_activity_deputies_person_id", table_name="activity_deputies")
    op.drop_table("activity_deputies")
    op.drop_index("ix_activities_item_id", table_name="activities")
    op.drop_table("activities")
