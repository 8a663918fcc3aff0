"""Meetings: rows, lookups by id, the open items whose fields refer to one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select, update

from ..rows import ItemRow
from .engine import Tx
from .items import item_of
from .models import Item, Meeting


@dataclass(slots=True)
class MeetingRow:
    id: int
    kind: str
    day: date
    title: str
    created_at: datetime
    created_by: str | None
    moved_at: datetime | None


def add(tx: Tx, *, kind: str, day: date, title: str, at: datetime, by: str | None) -> int:
    return tx.execute(insert(Meeting).values(kind=kind, day=day, title=title, created_at=at, created_by=by)
                      .returning(Meeting.id)).scalar_one()


def get(tx: Tx, meeting_id: int, lock: bool = False) -> MeetingRow | None:
    q = select(Meeting.__table__).where(Meeting.id == meeting_id)
    r = tx.execute(q.with_for_update() if lock else q).mappings().first()
    return None if r is None else MeetingRow(**r)


def days(tx: Tx, ids: list[int]) -> dict[int, date]:
    if not ids:
        return {}
    return {r.id: r.day for r in tx.execute(select(Meeting.id, Meeting.day).where(Meeting.id.in_(sorted(set(ids)))))}


def search(tx: Tx, since: date | None, limit: int) -> list[MeetingRow]:
    q = select(Meeting.__table__).order_by(Meeting.day, Meeting.id).limit(limit)
    if since is not None:
        q = q.where(Meeting.day >= since)
    return [MeetingRow(**r) for r in tx.execute(q).mappings()]


def move(tx: Tx, meeting_id: int, day: date, at: datetime) -> None:
    tx.execute(update(Meeting).where(Meeting.id == meeting_id).values(day=day, moved_at=at))


def open_items_of(tx: Tx, templates: list[str]) -> list[ItemRow]:
    """Open items of the templates that have meeting fields (the caller looks into their values), oldest first."""
    if not templates:
        return []
    rows = tx.execute(select(Item.__table__).where(Item.template_key.in_(templates), Item.finished_at.is_(None))
                      .order_by(Item.id)).mappings()
    return [item_of(dict(r)) for r in rows]
