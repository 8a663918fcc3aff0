"""The reads the audit trail's replay compares, streamed a range of items at a time: their events and their rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, func, select, type_coerce

from ..audit_replay import Event
from ..rows import ItemRow, StepRow
from .driver import stream
from .engine import Tx
from .items import ITEM_COLUMNS, STEP_COLUMNS
from .models import Assignment, AuditEvent, Item, Person, Step, TemplateVersion

# The events outside any item that the replay reads: the directory's flags, calendar imports, template versions.
GLOBAL_KINDS = ("people_imported", "schema_upgraded", "person_enabled", "person_disabled", "admin_set",
                "calendar_imported", "template_published")


def _when(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    t = datetime.fromisoformat(str(value))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _event(seq, at, kind, item_id, from_state, to_state, data) -> Event:
    parsed = json.loads(data) if isinstance(data, str) else data
    return Event(seq, _when(at), kind, item_id, from_state, to_state, parsed if isinstance(parsed, dict) else {})


_COLS = (AuditEvent.seq, type_coerce(AuditEvent.at, Text), AuditEvent.kind, AuditEvent.item_id, AuditEvent.from_state,
         AuditEvent.to_state, type_coerce(AuditEvent.data, Text))


def last_item_id(tx: Tx) -> int:
    """The highest item id that the rows or the trail know."""
    a = tx.execute(select(func.max(Item.id))).scalar() or 0
    b = tx.execute(select(func.max(AuditEvent.item_id))).scalar() or 0
    return max(a, b)


def item_events(tx: Tx, lo: int, hi: int) -> Iterator[Event]:
    """Events of the items lo ≤ id < hi, by item and then in trail order."""
    q = (select(*_COLS).where(AuditEvent.item_id >= lo, AuditEvent.item_id < hi)
         .order_by(AuditEvent.item_id, AuditEvent.seq))
    for r in stream(tx, q):
        yield _event(*r)


def global_events(tx: Tx) -> list[Event]:
    """The events outside items that the replay needs, in trail order."""
    q = select(*_COLS).where(AuditEvent.item_id.is_(None), AuditEvent.kind.in_(GLOBAL_KINDS)).order_by(AuditEvent.seq)
    return [_event(*r) for r in tx.execute(q)]


def items_in(tx: Tx, lo: int, hi: int) -> dict[int, ItemRow]:
    q = select(*(Item.__table__.c[c] for c in ITEM_COLUMNS)).where(Item.id >= lo, Item.id < hi)
    return {r[0]: ItemRow(*r) for r in stream(tx, q)}


def steps_in(tx: Tx, lo: int, hi: int) -> dict[int, list[StepRow]]:
    out: dict[int, list[StepRow]] = {}
    at = STEP_COLUMNS.index("item_id")
    for r in stream(tx, select(*(Step.__table__.c[c] for c in STEP_COLUMNS)).where(Step.item_id >= lo, Step.item_id < hi)):
        out.setdefault(r[at], []).append(StepRow(*r))
    return out


def roles_in(tx: Tx, lo: int, hi: int) -> dict[int, dict[str, set[str]]]:
    """Item id → role → codes of the people holding it."""
    q = (select(Assignment.item_id, Assignment.role, Person.code).join(Person, Person.id == Assignment.person_id)
         .where(Assignment.item_id >= lo, Assignment.item_id < hi))
    out: dict[int, dict[str, set[str]]] = {}
    for item_id, role, code in stream(tx, q):
        out.setdefault(item_id, {}).setdefault(role, set()).add(code)
    return out


def people_flags(tx: Tx) -> list[tuple[str, bool, bool]]:
    """(code, admin, active) of everyone."""
    return [(c, bool(a), bool(b)) for c, a, b in tx.execute(select(Person.code, Person.admin, Person.active))]


def versions(tx: Tx) -> dict[int, str]:
    """Template version id → content hash."""
    return dict(tx.execute(select(TemplateVersion.id, TemplateVersion.content_hash)).all())
