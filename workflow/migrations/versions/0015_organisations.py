"""Organisations: the People's Congresses of one deployment (the city's, its districts', townships'), each owning
its units and items.

A unit or item whose `organisation_id` is NULL belongs to the root organisation (the one without a parent), so a
database from before organisations needs no rewrite: everything in it belongs to that one organisation.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("slip_code", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["parent_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("org_units") as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_org_units_organisation", "organisations", ["organisation_id"], ["id"])
    with op.batch_alter_table("items") as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_items_organisation", "organisations", ["organisation_id"], ["id"])
        batch_op.create_index("ix_items_organisation_id", ["organisation_id"])


def downgrade() -> None:
    with op.batch_alter_table("items") as batch_op:
        batch_op.drop_index("ix_items_organisation_id")
        batch_op.drop_constraint("fk_items_organisation", type_="foreignkey")
        batch_op.drop_column("organisation_id")
    with op.batch_alter_table("org_units") as batch_op:
        batch_op.drop_constraint("fk_org_units_organisation", type_="foreignkey")
        batch_op.drop_column("organisation_id")
    op.drop_table("organisations")
