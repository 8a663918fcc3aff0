"""Meetings (常委会会议, 主任会议, …) that items refer to instead of copying their dates.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("meetings",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("kind", sa.String(length=32), nullable=False),
                    sa.Column("day", sa.Date(), nullable=False),
                    sa.Column("title", sa.String(length=200), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.Column("created_by", sa.String(length=64), nullable=True),
                    sa.Column("moved_at", sa.DateTime(), nullable=True),
                    sa.PrimaryKeyConstraint("id"))
    op.create_index("ix_meetings_day", "meetings", ["day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_meetings_day", table_name="meetings")
    op.drop_table("meetings")
