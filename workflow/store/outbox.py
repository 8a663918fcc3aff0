"""The outbox: queued notices, their leases while being sent, outcomes and revival."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..rows import OutboxRow
from .driver import Prepared, insert_rows
from .engine import Tx
from .models import Outbox, OutboxStatus

QUEUE_COLUMNS = ("message_id", "escalation_id", "item_id", "notice", "person_id", "to_addr", "to_name", "context",
                 "status", "attempts", "next_attempt_at", "created_at", "recipients", "channel")
_INSERT = Prepared(lambda: insert(Outbox).values({c: bindparam(c) for c in QUEUE_COLUMNS}))
_INSERT_ONCE = {
    "sqlite": Prepared(lambda: sqlite.insert(Outbox).values({c: bindparam(c) for c in QUEUE_COLUMNS})
                       .on_conflict_do_nothing(index_elements=["message_id"])),
    "postgresql": Prepared(lambda: postgresql.insert(Outbox).values({c: bindparam(c) for c in QUEUE_COLUMNS})
                           .on_conflict_do_nothing(index_elements=["message_id"])),
}


def _defaults(row: dict[str, Any]) -> dict[str, Any]:
    """An e-mail to to_addr alone unless the row says otherwise."""
    return row if "recipients" in row and "channel" in row else {"recipients": None, "channel": "email"} | row


def queue(tx: Tx, rows: list[dict[str, Any]]) -> None:
    """Queue rows (each with QUEUE_COLUMNS); a Message-ID already queued is an error (a bug)."""
    rows = [_defaults(r) for r in rows]
    if len(rows) <= 2:  # one or two people a handover: a prepared INSERT each beats executemany's set-up
        for row in rows:
            _INSERT.run(tx, row)
    else:
        insert_rows(tx, Outbox.__table__, rows)


def queue_once(tx: Tx, rows: list[dict[str, Any]]) -> int:
    """Queue rows whose Message-ID was never queued before; returns how many were new."""
    rows = [_defaults(r) for r in rows]
    stmt = _INSERT_ONCE[tx.dialect]
    return sum(stmt.rowcount(tx, row) for row in rows)


def lease(tx: Tx, now: datetime, batch: int, lease_for: timedelta) -> list[OutboxRow]:
    """Due messages (pending and due, or sending with an expired lease), marked sending until `now + lease_for`."""
    q = (select(Outbox.__table__)
         .where(or_(and_(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= now),
                    and_(Outbox.status == OutboxStatus.SENDING, Outbox.lease_until <= now)))
         .order_by(Outbox.id).limit(batch).with_for_update(skip_locked=True))
    rows = [OutboxRow(**r) for r in tx.execute(q).mappings()]
    if rows:
        until = now + lease_for
        tx.execute(update(Outbox).where(Outbox.id.in_([r.id for r in rows]))
                   .values(status=OutboxStatus.SENDING, lease_until=until))
        for r in rows:
            r.status, r.lease_until = OutboxStatus.SENDING, until
    return rows


def by_ids(tx: Tx, ids: list[int]) -> list[OutboxRow]:
    if not ids:
        return []
    return [OutboxRow(**r) for r in tx.execute(select(Outbox.__table__).where(Outbox.id.in_(list(ids)))
                                                .order_by(Outbox.id)).mappings()]


def record(tx: Tx, message_id: int, **values: Any) -> None:
    tx.execute(update(Outbox).where(Outbox.id == message_id).values(**values))


def search(tx: Tx, status: str | None, limit: int, item_id: int | None = None) -> list[OutboxRow]:
    q = select(Outbox.__table__).order_by(Outbox.id.desc()).limit(limit)
    if status:
        q = q.where(Outbox.status == status)
    if item_id is not None:
        q = q.where(Outbox.item_id == item_id)
    return [OutboxRow(**r) for r in tx.execute(q).mappings()]


def dead(tx: Tx, ids: list[int] | None) -> list[OutboxRow]:
    q = select(Outbox.__table__).where(Outbox.status == OutboxStatus.DEAD).order_by(Outbox.id)
    if ids:
        q = q.where(Outbox.id.in_(ids))
    return [OutboxRow(**r) for r in tx.execute(q).mappings()]


def revive(tx: Tx, ids: list[int], now: datetime) -> None:
    if ids:
        tx.execute(update(Outbox).where(Outbox.id.in_(ids))
                   .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, last_error=None))
