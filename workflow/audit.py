"""The append-only, hash-chained audit trail: append under a row lock, verify end to end."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from .db import connection_of
from .driver import Prepared, insert_rows
from .models import AuditEvent, AuditHead

GENESIS = "0" * 64


def event_hash(seq: int, at: datetime, actor: str | None, kind: str, item_id: int | None,
               from_state: str | None, to_state: str | None, data: dict[str, Any], prev_hash: str) -> str:
    body = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, kind, item_id, from_state, to_state, data, prev_hash],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


_LOCK_HEAD = Prepared(select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.id == 1).with_for_update())
_INSERT = Prepared(insert(AuditEvent).values({c: bindparam(c) for c in (
    "seq", "at", "actor", "kind", "item_id", "from_state", "to_state", "data", "prev_hash", "hash")}))
_ADVANCE_HEAD = Prepared(update(AuditHead).where(AuditHead.id == 1)
                         .values(last_seq=bindparam("last_seq"), last_hash=bindparam("last_hash")))


def _chain(conn, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events as rows numbered and hashed after the head (locked until commit), and the head moved past them."""
    seq, prev = _LOCK_HEAD.all(conn)[0]
    rows = []
    for ev in events:
        seq += 1
        row = {"seq": seq, "at": ev["at"], "actor": ev.get("actor"), "kind": ev["kind"], "item_id": ev.get("item_id"),
               "from_state": ev.get("from_state"), "to_state": ev.get("to_state"), "data": ev.get("data") or {},
               "prev_hash": prev}
        row["hash"] = prev = event_hash(seq, row["at"], row["actor"], row["kind"], row["item_id"], row["from_state"],
                                        row["to_state"], row["data"], row["prev_hash"])
        rows.append(row)
    _ADVANCE_HEAD.run(conn, {"last_seq": seq, "last_hash": prev})
    return rows


def append(session: Session, *, at: datetime, actor: str | None, kind: str, item_id: int | None = None,
           from_state: str | None = None, to_state: str | None = None, data: dict[str, Any] | None = None) -> int:
    """Append one event in the caller's transaction; the head row lock orders concurrent appends. Returns its seq."""
    data = json.loads(json.dumps(data or {}, ensure_ascii=False, default=str))
    conn = connection_of(session)
    (row,) = _chain(conn, [{"at": at, "actor": actor, "kind": kind, "item_id": item_id, "from_state": from_state,
                            "to_state": to_state, "data": data}])
    _INSERT.run(conn, row)  # one row: a prepared INSERT (COPY would cost PostgreSQL a second round trip)
    return row["seq"]


def append_many(session: Session, events: list[dict[str, Any]]) -> None:
    """Append events in order with one head read and one head write (the sweep's batches).

    The events' data must already be plain JSON values (text, numbers, lists, mappings).
    """
    if events:
        conn = connection_of(session)
        insert_rows(conn, AuditEvent.__table__, _chain(conn, events))


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; report the first event modified, deleted, reordered or inserted."""
    prev, expected, count = GENESIS, 1, 0
    last_id = 0
    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for ev in rows:
            last_id = ev.id
            count += 1
            if ev.seq != expected:
                what = "deleted" if ev.seq > expected else "inserted or reordered"
                return VerifyResult(False, count, expected, f"event {expected} is missing or out of place (found event {ev.seq} next): an event was {what}")
            if ev.prev_hash != prev:
                return VerifyResult(False, count, ev.seq, f"event {ev.seq} does not follow event {ev.seq - 1}: an event was inserted, deleted or reordered")
            h = event_hash(ev.seq, ev.at, ev.actor, ev.kind, ev.item_id, ev.from_state, ev.to_state, ev.data, ev.prev_hash)
            if h != ev.hash:
                return VerifyResult(False, count, ev.seq, f"event {ev.seq} ({ev.kind}, item {ev.item_id}, {ev.at.isoformat()}) was modified after it was written")
            prev, expected = ev.hash, expected + 1
        session.expunge_all()
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    if head.last_seq != expected - 1 or head.last_hash != prev:
        return VerifyResult(False, count, expected, f"the chain ends at event {expected - 1} but the head says {head.last_seq}: events at the end were deleted")
    return VerifyResult(True, count)
