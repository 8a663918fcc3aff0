"""Administrators, the time of each item's last action, and the field values entered in each step visit.

- people.admin: people files mark administrators (`admin: true`). The database had no administrators before:
  the members of the office units (kind `office`) become administrators, so that someone may publish, import
  and retry after the upgrade; `wuzhuan db upgrade` prints their names (`wuzhuan people set-admin` changes it).
- items.updated_at: the time of the item's last recorded action; no later action may be dated before it.
  Filled from the audit trail (refusals do not count).
- steps.fields: the values entered during that visit (its round); a move's required fields count only
  when entered in the current round unless the template marks them `keep`. Filled by replaying each
  item's audit events: values given at creation belong to the first visit, values set or given with a
  move belong to the visit they were entered in.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 06:00:00
"""
import json

import sqlalchemy as sa
from alembic import context, op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _json(value):
    return value if not isinstance(value, str) else json.loads(value)


def upgrade() -> None:
    with op.batch_alter_table("people") as batch_op:
        batch_op.add_column(sa.Column("admin", sa.Boolean(), nullable=False, server_default=sa.text("false")))
    with op.batch_alter_table("items") as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("steps") as batch_op:
        batch_op.add_column(sa.Column("fields", sa.JSON(), nullable=True))

    conn = op.get_bind()
    office = conn.execute(sa.text(
        "SELECT DISTINCT p.id, p.code, p.name FROM people p JOIN memberships m ON m.person_id = p.id "
        "JOIN org_units u ON u.id = m.unit_id WHERE u.kind = 'office' AND p.active ORDER BY p.code")).all()
    for pid, _code, _name in office:
        conn.execute(sa.text("UPDATE people SET admin = :t WHERE id = :id"), {"t": True, "id": pid})
    if context.config is not None:
        context.config.attributes["made_admins"] = [(code, name) for _pid, code, name in office]
    conn.execute(sa.text(
        "UPDATE items SET updated_at = (SELECT max(e.at) FROM audit_events e "
        "WHERE e.item_id = items.id AND e.kind <> 'refused')"))
    rounds: dict[int, dict] = {}
    current: dict[int, int] = {}
    rows = conn.execute(sa.text(
        "SELECT item_id, kind, data FROM audit_events WHERE item_id IS NOT NULL "
        "AND kind IN ('created', 'advanced', 'fields_set') ORDER BY seq"))
    for item_id, kind, data in rows:
        data = _json(data) or {}
        if kind == "created":
            current[item_id] = data.get("step_id")
            rounds[data.get("step_id")] = dict(data.get("fields") or {})
            continue
        step = current.get(item_id)
        changed = {k: v[1] for k, v in (data.get("fields_changed") or {}).items() if isinstance(v, list) and len(v) == 2}
        if step is not None:
            rounds.setdefault(step, {}).update(changed)
        if kind == "advanced":
            current[item_id] = data.get("step_id")
    steps = sa.table("steps", sa.column("id", sa.Integer), sa.column("fields", sa.JSON))
    for step_id, values in rounds.items():
        if step_id is not None:
            conn.execute(steps.update().where(steps.c.id == step_id).values(fields=values))


def downgrade() -> None:
    with op.batch_alter_table("steps") as batch_op:
        batch_op.drop_column("fields")
    with op.batch_alter_table("items") as batch_op:
        batch_op.drop_column("updated_at")
    with op.batch_alter_table("people") as batch_op:
        batch_op.drop_column("admin")
