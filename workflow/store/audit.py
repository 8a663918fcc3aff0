"""The audit tables: append events under the head row's lock, read them back in order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, func, insert, select, type_coerce, update

from ..audit_chain import BOUND, RawEvent, event_hash, event_mac, head_mac, key_id
from ..rows import AuditEventRow, AuditHeadRow
from .driver import Prepared, insert_rows
from .engine import Tx
from .models import AuditEvent, AuditHead
from .schema import key_required

_LOCK_HEAD = Prepared(lambda: select(AuditHead.last_seq, AuditHead.last_hash, AuditHead.bound_seq)
                      .where(AuditHead.id == 1).with_for_update())
_INSERT = Prepared(lambda: insert(AuditEvent).values({c: bindparam(c) for c in (
    "seq", "at", "actor", "kind", "item_id", "from_state", "to_state", "data", "prev_hash", "hash", "mac")}))
_ADVANCE_HEAD = Prepared(lambda: update(AuditHead).where(AuditHead.id == 1)
                         .values(last_seq=bindparam("last_seq"), last_hash=bindparam("last_hash"), mac=bindparam("mac"),
                                 bound_seq=bindparam("bound_seq")))

def _chain(tx: Tx, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events as rows numbered, hashed and signed after the head (locked until commit), and the head moved past them.

    A trail bound to a key is never written without it (KeyRequired). The first event signed with a key is
    preceded by the binding checkpoint, whose number the head's MAC covers from then on."""
    seq, prev, bound = _LOCK_HEAD.all(tx)[0]
    key = tx.key
    if key is None and bound is not None:
        raise key_required("", None)
    if key is not None and bound is None and events:
        events = [{"at": events[0]["at"], "actor": None, "kind": BOUND, "data": {"key_id": key_id(key)}}, *events]
        bound = seq + 1
    rows = []
    for ev in events:
        seq += 1
        row = {"seq": seq, "at": ev["at"], "actor": ev.get("actor"), "kind": ev["kind"], "item_id": ev.get("item_id"),
               "from_state": ev.get("from_state"), "to_state": ev.get("to_state"), "data": ev.get("data") or {},
               "prev_hash": prev}
        row["hash"] = prev = event_hash(seq, row["at"], row["actor"], row["kind"], row["item_id"], row["from_state"],
                                        row["to_state"], row["data"], row["prev_hash"])
        row["mac"] = event_mac(key, prev) if key else None
        rows.append(row)
    _ADVANCE_HEAD.run(tx, {"last_seq": seq, "last_hash": prev, "mac": head_mac(key, seq, prev, bound) if key else None,
                           "bound_seq": bound})
    return rows


def append(tx: Tx, *, at: datetime, actor: str | None, kind: str, item_id: int | None = None,
           from_state: str | None = None, to_state: str | None = None, data: dict[str, Any] | None = None) -> int:
    """Append one event in the transaction; the head row lock orders concurrent appends. Returns its seq."""
    data = json.loads(json.dumps(data or {}, ensure_ascii=False, default=str))
    rows = _chain(tx, [{"at": at, "actor": actor, "kind": kind, "item_id": item_id, "from_state": from_state,
                        "to_state": to_state, "data": data}])
    for row in rows:  # one row (two when it binds the trail to its key): a prepared INSERT, not COPY's second round trip
        _INSERT.run(tx, row)
    return rows[-1]["seq"]


def append_many(tx: Tx, events: list[dict[str, Any]]) -> None:
    """Append events in order with one head read and one head write (the sweep's batches).

    The events' data must already be plain JSON values (text, numbers, lists, mappings).
    """
    if events:
        insert_rows(tx, AuditEvent.__table__, _chain(tx, events))


def latest_item_event(tx: Tx) -> datetime | None:
    """When the last event about an item happened (None without one)."""
    return tx.execute(select(func.max(AuditEvent.at)).where(AuditEvent.item_id.is_not(None))).scalar()


def head(tx: Tx) -> AuditHeadRow | None:
    r = tx.execute(select(AuditHead.last_seq, AuditHead.last_hash, AuditHead.mac, AuditHead.bound_seq)
                   .where(AuditHead.id == 1)).first()
    return None if r is None else AuditHeadRow(r.last_seq, r.last_hash, r.mac, r.bound_seq)


def storage_seqs(tx: Tx) -> list[int]:
    """Every event's number, in the order the events are stored."""
    return list(tx.execute(select(AuditEvent.seq).order_by(AuditEvent.id)).scalars())


def iter_raw(tx: Tx, batch: int = 5000) -> Iterator[RawEvent]:
    """Every event in number order as stored: time and data unconverted, so a damaged row is reported, not fatal."""
    cols = [AuditEvent.id, AuditEvent.seq, type_coerce(AuditEvent.at, Text).label("at"), AuditEvent.actor, AuditEvent.kind,
            AuditEvent.item_id, AuditEvent.from_state, AuditEvent.to_state, type_coerce(AuditEvent.data, Text).label("data"),
            AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.mac]
    last = 0
    while True:
        rows = tx.execute(select(*cols).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            return
        for r in rows:
            last = r.seq
            yield RawEvent(*r)


def event_at(tx: Tx, seq: int) -> tuple[str, str | None] | None:
    """(hash, mac) of event `seq`, or None when there is none."""
    r = tx.execute(select(AuditEvent.hash, AuditEvent.mac).where(AuditEvent.seq == seq)).first()
    return None if r is None else (r.hash, r.mac)


_OF_ITEM = Prepared(lambda: select(AuditEvent.__table__).where(AuditEvent.item_id == bindparam("id")).order_by(AuditEvent.seq))


def of_item(tx: Tx, item_id: int) -> list[AuditEventRow]:
    return [AuditEventRow(**r) for r in _OF_ITEM.dicts(tx, {"id": item_id})]
