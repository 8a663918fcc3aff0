"""督办单 numbers count per series: each organisation's 代字 and pattern has its own gapless numbers in a year.

One counter a year used to serve every pattern, so each series had gaps. The counter gains its series (the
slip's number text with {n} left open, e.g. "〔2026〕东人大督字第{n}号"); a year's old counter stays as the series
'' and a series first used in that year starts after it, so no number already given is given again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 18:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("slip_series",
                    sa.Column("series", sa.String(length=200), nullable=False),
                    sa.Column("year", sa.Integer(), nullable=False),
                    sa.Column("last", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("series", "year"))
    op.execute("INSERT INTO slip_series (series, year, last) SELECT '', year, last FROM slip_counters")
    op.drop_table("slip_counters")
    op.rename_table("slip_series", "slip_counters")


def downgrade() -> None:
    op.create_table("slip_years",
                    sa.Column("year", sa.Integer(), nullable=False),
                    sa.Column("last", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("year"))
    op.execute("INSERT INTO slip_years (year, last) SELECT year, MAX(last) FROM slip_counters GROUP BY year")
    op.drop_table("slip_counters")
    op.rename_table("slip_years", "slip_counters")
