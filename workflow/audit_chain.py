"""The audit trail's hash chain, pure: how an event is hashed and how a run of events is checked."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def event_hash(seq: int, at: datetime, actor: str | None, kind: str, item_id: int | None,
               from_state: str | None, to_state: str | None, data: Any, prev_hash: str) -> str:
    body = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, kind, item_id, from_state, to_state, data, prev_hash],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(events: Iterable[Any], head_seq: int, head_hash: str) -> VerifyResult:
    """Walk events in storage order; report the first event modified, deleted, reordered or inserted."""
    prev, expected, count = GENESIS, 1, 0
    for ev in events:
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
    if head_seq != expected - 1 or head_hash != prev:
        return VerifyResult(False, count, expected, f"the chain ends at event {expected - 1} but the head says {head_seq}: events at the end were deleted")
    return VerifyResult(True, count)
