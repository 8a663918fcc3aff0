"""Templates published per organisation: a version is published to the root (every organisation uses it) or to
one organisation and those below it; the nearest publication wins. Every version so far is the root's.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 18:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "template_scopes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["version_id"], ["template_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO template_scopes (version_id, organisation_id, published_at, published_by) "
               "SELECT id, NULL, published_at, published_by FROM template_versions ORDER BY id")


def downgrade() -> None:
    op.drop_table("template_scopes")
