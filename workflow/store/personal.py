"""A person's own workbench: his saved filters, his 最新动态 mark, and the events on items he may see after it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from ..rows import AuditEventRow
from .engine import Tx
from .models import Assignment, AuditEvent, Item
from .organisations import in_orgs
from .personal_models import NewsMark, SavedFilter


@dataclass(slots=True)
class SavedFilterRow:
    id: int
    person_id: int
    name: str
    page: str
    query: str
    created_at: datetime


def filters_of(tx: Tx, person_id: int) -> list[SavedFilterRow]:
    rows = tx.execute(select(SavedFilter.__table__).where(SavedFilter.person_id == person_id)
                      .order_by(SavedFilter.page, SavedFilter.name)).mappings()
    return [SavedFilterRow(**r) for r in rows]


def save_filter(tx: Tx, person_id: int, name: str, page: str, query: str, at: datetime) -> int:
    """Save under `name`, replacing his filter of that name (the unique (person, name) decides, also for two tabs)."""
    values = {"page": page, "query": query, "created_at": at}
    ins = (postgresql if tx.dialect == "postgresql" else sqlite).insert(SavedFilter).values(
        person_id=person_id, name=name, **values)
    return tx.execute(ins.on_conflict_do_update(index_elements=["person_id", "name"], set_=values)
                      .returning(SavedFilter.id)).scalar_one()


def delete_filter(tx: Tx, person_id: int, filter_id: int) -> bool:
    """Delete one of his filters; False when he has none of that id (another's is never touched)."""
    r = tx.execute(delete(SavedFilter).where(SavedFilter.id == filter_id, SavedFilter.person_id == person_id))
    return r.rowcount == 1


def mark_of(tx: Tx, person_id: int) -> tuple[int, datetime] | None:
    """(the last event's seq he has seen, when he looked), or None before his first look."""
    r = tx.execute(select(NewsMark.seen_seq, NewsMark.seen_at).where(NewsMark.person_id == person_id)).first()
    return None if r is None else (r.seen_seq, r.seen_at)


def set_mark(tx: Tx, person_id: int, seq: int, at: datetime) -> None:
    """Move his mark forward to `seq` (never back: an older tab's look does not undo a newer one's)."""
    values = {"seen_seq": seq, "seen_at": at}
    ins = (postgresql if tx.dialect == "postgresql" else sqlite).insert(NewsMark).values(person_id=person_id, **values)
    tx.execute(ins.on_conflict_do_update(index_elements=["person_id"], set_=values,
                                         where=NewsMark.__table__.c.seen_seq < seq))


def last_seq(tx: Tx) -> int:
    return tx.execute(select(func.coalesce(func.max(AuditEvent.seq), 0))).scalar_one()


def _visible(q, member_id: int | None, orgs: list[int | None] | None, exclude_actor: str | None):
    """Events on items he holds a role on or whose organisation's staff he is (`member_id` None: every item)."""
    q = q.where(AuditEvent.item_id.is_not(None), AuditEvent.kind != "refused")
    if exclude_actor:
        q = q.where(or_(AuditEvent.actor.is_(None), AuditEvent.actor != exclude_actor))
    if member_id is not None:
        mine = AuditEvent.item_id.in_(select(Assignment.item_id).where(Assignment.person_id == member_id))
        if orgs:
            mine = or_(mine, AuditEvent.item_id.in_(select(Item.id).where(in_orgs(Item.organisation_id, orgs))))
        q = q.where(mine)
    return q


def events_after(tx: Tx, seq: int, *, member_id: int | None, orgs: list[int | None] | None, exclude_actor: str | None,
                 since: datetime | None = None, limit: int = 100) -> tuple[list[AuditEventRow], int]:
    """(the newest `limit` events after `seq` (and at or after `since`) on the items he may see, latest in time first;
    how many there are in all). His own acts and refusals are not news."""
    where = [AuditEvent.seq > seq] + ([AuditEvent.at >= since] if since is not None else [])
    total = tx.execute(_visible(select(func.count()).select_from(AuditEvent.__table__).where(*where),
                                member_id, orgs, exclude_actor)).scalar_one()
    rows = tx.execute(_visible(select(AuditEvent.__table__).where(*where), member_id, orgs, exclude_actor)
                      .order_by(AuditEvent.at.desc(), AuditEvent.seq.desc()).limit(limit)).mappings()
    return [AuditEventRow(**r) for r in rows], total
