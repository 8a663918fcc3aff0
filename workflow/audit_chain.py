"""The audit trail's chain, pure: how an event is hashed and signed, and how a trail is checked.

Each event's `hash` covers its content and the previous event's hash (integrity: an edit breaks
the chain from there on). With an audit key kept outside the database, each event also carries
`mac` = HMAC-SHA256(key, hash), and the head row a MAC of (last seq, last hash): someone who can
write to the database but does not hold the key can no longer recompute the chain after an edit,
delete events and rewind the head, or cut the tail unnoticed (authenticity).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def event_hash(seq: int, at: datetime, actor: str | None, kind: str, item_id: int | None,
               from_state: str | None, to_state: str | None, data: Any, prev_hash: str) -> str:
    body = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, kind, item_id, from_state, to_state, data, prev_hash],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def event_mac(key: bytes, hash_: str) -> str:
    return hmac.new(key, b"event:" + hash_.encode(), hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, hash_: str) -> str:
    return hmac.new(key, f"head:{seq}:{hash_}".encode(), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A fingerprint naming a key without revealing it (recorded in the database it signs)."""
    return hashlib.sha256(b"wuzhuan-audit-key-id:" + key).hexdigest()[:16]


@dataclass(frozen=True)
class RawEvent:
    """An event as stored, its time and data possibly unreadable (a tampered row must not crash the check)."""

    id: int
    seq: int
    at: Any
    actor: str | None
    kind: str
    item_id: int | None
    from_state: str | None
    to_state: str | None
    data: Any
    prev_hash: str
    hash: str
    mac: str | None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    problem: str | None = None
    authenticated: bool = False  # the MACs were checked with the audit key
    unsigned: int = 0  # events written before a key was set: their integrity is checked, not their authenticity
    notes: list[str] = field(default_factory=list)


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _data(value: Any) -> tuple[bool, Any]:
    if isinstance(value, str):
        try:
            return True, json.loads(value)
        except ValueError:
            return False, None
    return True, value


def storage_order(seqs: list[int]) -> tuple[int | None, str | None]:
    """From the events' numbers in storage order: the first number out of place and what happened there."""
    n = len(seqs)
    if seqs == list(range(1, n + 1)):
        return None, None
    seen: set[int] = set()
    for s in seqs:
        if s in seen or s < 1:
            return s, f"event {s} appears twice: an event was inserted"
        seen.add(s)
    p = next(k for k, s in enumerate(seqs) if s != k + 1)
    e = p + 1
    if sorted(seqs) == list(range(1, n + 1)):
        return e, f"events {e} and {seqs[p]} are stored out of order: events were reordered"
    if e not in seen:
        gone = 1
        while e + gone not in seen and e + gone <= max(seqs):
            gone += 1
        return e, (f"event {e} is missing: it was deleted" if gone == 1 else
                   f"events {e} to {e + gone - 1} are missing: {gone} events were deleted")
    return e, f"event {e} is stored where event {seqs[p]} should be, and numbers are missing: events were inserted or renumbered"


def verify(events: Iterable[RawEvent], head_seq: int | None, head_hash: str | None, head_mac_: str | None,
           key: bytes | None) -> VerifyResult:
    """Walk events in seq order (storage order already checked); the first event modified or forged, or a cut tail."""
    prev, expected, count, unsigned, signed_seen = GENESIS, 1, 0, 0, False
    for ev in events:
        count += 1
        at = _when(ev.at)
        ok_data, data = _data(ev.data)
        if at is None or not ok_data:
            what = "time" if at is None else "data"
            return VerifyResult(False, count, ev.seq, f"event {ev.seq} ({ev.kind}, item {ev.item_id}) was modified: its {what} cannot be read")
        if ev.prev_hash != prev:
            return VerifyResult(False, count, ev.seq, f"event {ev.seq} does not follow event {ev.seq - 1} (its link to the previous "
                                                      "event was changed): an event before it was modified, inserted or deleted")
        h = event_hash(ev.seq, at, ev.actor, ev.kind, ev.item_id, ev.from_state, ev.to_state, data, ev.prev_hash)
        if h != ev.hash:
            return VerifyResult(False, count, ev.seq, f"event {ev.seq} ({ev.kind}, item {ev.item_id}, {at.isoformat()}) "
                                                      "was modified after it was written")
        if key is not None:
            if ev.mac:
                if not hmac.compare_digest(ev.mac, event_mac(key, ev.hash)):
                    return VerifyResult(False, count, ev.seq, f"event {ev.seq} ({ev.kind}, item {ev.item_id}) carries a MAC the audit "
                                                              "key did not make: it was rewritten by someone without the key")
                signed_seen = True
            elif signed_seen:
                return VerifyResult(False, count, ev.seq, f"event {ev.seq} has no MAC although events before it have: it was "
                                                          "inserted or rewritten by someone without the key")
            else:
                unsigned += 1
        elif not ev.mac:
            unsigned += 1
        prev, expected = ev.hash, expected + 1
    last = expected - 1
    if head_seq is None:
        return VerifyResult(False, count, last + 1, "the audit head row is missing: where the trail ends cannot be checked")
    if head_seq != last:
        if head_seq > last:
            return VerifyResult(False, count, last + 1, f"the trail ends at event {last} but the head records {head_seq}: "
                                                        f"{head_seq - last} event(s) at the end were deleted (truncated)")
        return VerifyResult(False, count, head_seq + 1, f"the trail goes on to event {last} but the head records {head_seq}: "
                                                        "the head was rewound, or events were added without it")
    if head_hash != prev:
        return VerifyResult(False, count, last, f"the head row was modified: it does not name event {last}'s hash")
    notes = []
    if key is not None and head_mac_ and not hmac.compare_digest(head_mac_, head_mac(key, head_seq, head_hash)):
        return VerifyResult(False, count, last, "the head row's MAC is not the audit key's: the head was rewritten "
                                                "(events at the end may have been cut)")
    if key is None:
        notes.append("authenticity not checked: no audit key is configured (set audit_key_file or WUZHUAN_AUDIT_KEY); "
                     "the chain's integrity was checked")
    elif unsigned:
        notes.append(f"{unsigned} event(s) were written before the audit key was set: their integrity was checked, "
                     "not their authenticity")
    return VerifyResult(True, count, authenticated=key is not None, unsigned=unsigned, notes=notes)
