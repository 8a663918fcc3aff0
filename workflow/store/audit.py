"""The audit tables: append events under the head row's lock, read them back in order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from ..audit_chain import event_hash
from ..rows import AuditEventRow, AuditHeadRow
from .driver import Prepared, insert_rows
from .engine import Tx
from .models import AuditEvent, AuditHead

_LOCK_HEAD = Prepared(lambda: select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.id == 1).with_for_update())
_INSERT = Prepared(lambda: insert(AuditEvent).values({c: bindparam(c) for c in (
    "seq", "at", "actor", "kind", "item_id", "from_state", "to_state", "data", "prev_hash", "hash")}))
_ADVANCE_HEAD = Prepared(lambda: update(AuditHead).where(AuditHead.id == 1)
                         .values(last_seq=bindparam("last_seq"), last_hash=bindparam("last_hash")))


def _chain(tx: Tx, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events as rows numbered and hashed after the head (locked until commit), and the head moved past them."""
    seq, prev = _LOCK_HEAD.all(tx)[0]
    rows = []
    for ev in events:
        seq += 1
        row = {"seq": seq, "at": ev["at"], "actor": ev.get("actor"), "kind": ev["kind"], "item_id": ev.get("item_id"),
               "from_state": ev.get("from_state"), "to_state": ev.get("to_state"), "data": ev.get("data") or {},
               "prev_hash": prev}
        row["hash"] = prev = event_hash(seq, row["at"], row["actor"], row["kind"], row["item_id"], row["from_state"],
                                        row["to_state"], row["data"], row["prev_hash"])
        rows.append(row)
    _ADVANCE_HEAD.run(tx, {"last_seq": seq, "last_hash": prev})
    return rows


def append(tx: Tx, *, at: datetime, actor: str | None, kind: str, item_id: int | None = None,
           from_state: str | None = None, to_state: str | None = None, data: dict[str, Any] | None = None) -> int:
    """Append one event in the transaction; the head row lock orders concurrent appends. Returns its seq."""
    data = json.loads(json.dumps(data or {}, ensure_ascii=False, default=str))
    (row,) = _chain(tx, [{"at": at, "actor": actor, "kind": kind, "item_id": item_id, "from_state": from_state,
                          "to_state": to_state, "data": data}])
    _INSERT.run(tx, row)  # one row: a prepared INSERT (COPY would cost PostgreSQL a second round trip)
    return row["seq"]


def append_many(tx: Tx, events: list[dict[str, Any]]) -> None:
    """Append events in order with one head read and one head write (the sweep's batches).

    The events' data must already be plain JSON values (text, numbers, lists, mappings).
    """
    if events:
        insert_rows(tx, AuditEvent.__table__, _chain(tx, events))


def head(tx: Tx) -> AuditHeadRow:
    r = tx.execute(select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.id == 1)).one()
    return AuditHeadRow(r.last_seq, r.last_hash)


def iter_events(tx: Tx, batch: int = 5000) -> Iterator[AuditEventRow]:
    """Every event in storage (id) order, read in batches."""
    last_id = 0
    while True:
        rows = tx.execute(select(AuditEvent.__table__).where(AuditEvent.id > last_id)
                          .order_by(AuditEvent.id).limit(batch)).mappings().all()
        if not rows:
            return
        for r in rows:
            last_id = r["id"]
            yield AuditEventRow(**r)


def of_item(tx: Tx, item_id: int) -> list[AuditEventRow]:
    rows = tx.execute(select(AuditEvent.__table__).where(AuditEvent.item_id == item_id).order_by(AuditEvent.seq)).mappings()
    return [AuditEventRow(**r) for r in rows]
