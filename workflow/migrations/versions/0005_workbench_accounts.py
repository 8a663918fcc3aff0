"""The workbench: passwords and login throttling, sessions, API tokens, and the indexes of a person's lists.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 16:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("login_failures", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(sa.Column("failures_since", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
    op.create_table("sessions",
                    sa.Column("id", sa.String(length=64), nullable=False),
                    sa.Column("person_id", sa.Integer(), nullable=False),
                    sa.Column("csrf", sa.String(length=64), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.Column("last_seen_at", sa.DateTime(), nullable=False),
                    sa.Column("expires_at", sa.DateTime(), nullable=False),
                    sa.Column("revoked_at", sa.DateTime(), nullable=True),
                    sa.Column("client", sa.String(length=200), nullable=True),
                    sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
                    sa.PrimaryKeyConstraint("id"))
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.create_index("ix_sessions_person_id", ["person_id"], unique=False)
    op.create_table("api_tokens",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("person_id", sa.Integer(), nullable=False),
                    sa.Column("digest", sa.String(length=64), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.Column("created_by", sa.String(length=64), nullable=True),
                    sa.Column("revoked_at", sa.DateTime(), nullable=True),
                    sa.Column("last_used_at", sa.DateTime(), nullable=True),
                    sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("digest"))
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.create_index("ix_api_tokens_person_id", ["person_id"], unique=False)
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.create_index("ix_assignments_person", ["person_id", "item_id"], unique=False)
    with op.batch_alter_table("steps") as batch_op:
        batch_op.create_index("ix_steps_left_by", ["left_by", "left_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("steps") as batch_op:
        batch_op.drop_index("ix_steps_left_by")
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.drop_index("ix_assignments_person")
    op.drop_table("api_tokens")
    op.drop_table("sessions")
    with op.batch_alter_table("people") as batch_op:
        for c in ("locked_until", "failures_since", "login_failures", "password_hash"):
            batch_op.drop_column(c)
