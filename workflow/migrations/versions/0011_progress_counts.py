"""The board's progress counts (per unit, template, year and day), counted from the steps already there, and the
indexes by which the board reads the steps it still reads (by state, by the move that left them, open at a day)
and the activities of a year.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 15:00:00
"""
import sqlalchemy as sa
from alembic import op

from workflow.calendar import build_calendar
from workflow.store import calendar as calendar_store
from workflow.store import progress
from workflow.store.engine import Tx

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("progress_counts",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("unit_id", sa.Integer(), nullable=False),
                    sa.Column("template_key", sa.String(length=64), nullable=False),
                    sa.Column("year", sa.Integer(), nullable=False),
                    sa.Column("day", sa.Date(), nullable=False),
                    sa.Column("items", sa.Integer(), nullable=False),
                    sa.Column("closed", sa.Integer(), nullable=False),
                    sa.Column("on_time", sa.Integer(), nullable=False),
                    sa.Column("late_workdays", sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(["unit_id"], ["org_units.id"]),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("unit_id", "template_key", "year", "day"))
    op.create_index("ix_steps_state", "steps", ["state", "entered_at"], unique=False)
    op.create_index("ix_steps_left_via", "steps", ["left_via", "left_at"], unique=False)
    op.create_index("ix_steps_left_at", "steps", ["left_at", "entered_at"], unique=False)
    op.create_index("ix_activities_day", "activities", ["day"], unique=False)
    tx = Tx(op.get_bind())
    progress.rebuild(tx, build_calendar(calendar_store.days(tx), calendar_store.imported_years(tx)))


def downgrade() -> None:
    op.drop_index("ix_activities_day", table_name="activities")
    op.drop_index("ix_steps_left_at", table_name="steps")
    op.drop_index("ix_steps_left_via", table_name="steps")
    op.drop_index("ix_steps_state", table_name="steps")
    op.drop_table("progress_counts")
