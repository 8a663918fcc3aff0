"""The deputies' registry: their mandates (level, 选举单位, 代表小组, 联络站, 届次, since, until) from people files.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 04:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deputy_mandates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("constituency", sa.String(length=200), nullable=True),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("station", sa.String(length=200), nullable=True),
        sa.Column("term", sa.Integer(), nullable=True),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_deputy_mandates_person", "deputy_mandates", ["person_id"])
    op.create_index("ix_deputy_mandates_level", "deputy_mandates", ["level"])


def downgrade() -> None:
    op.drop_index("ix_deputy_mandates_level", "deputy_mandates")
    op.drop_index("ix_deputy_mandates_person", "deputy_mandates")
    op.drop_table("deputy_mandates")
