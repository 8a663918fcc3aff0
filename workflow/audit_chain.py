"""The audit trail's chain, pure: how an event is hashed and signed, and how a trail is checked.

Each event's `hash` covers its content and the previous event's hash (integrity: an edit breaks
the chain from there on). With an audit key kept outside the database, each event also carries
`mac` = HMAC-SHA256(key, hash), and the head row a MAC of (last seq, last hash, binding seq): someone who
can write to the database but does not hold the key can no longer recompute the chain after an edit,
delete events and rewind the head, or cut the tail unnoticed (authenticity).

The binding checkpoint: the first event signed with a key is preceded by an `audit_key_bound` event naming
the key's fingerprint, and the head records its number under its MAC. From there on every event must carry
a valid MAC; events before it (written before the trail had a key) are checked for integrity only. So a
trail cannot be downgraded: stripping the MACs, cutting the trail back to before the binding, or removing
the binding itself leaves a head whose MAC cannot be made without the key.
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


def head_mac(key: bytes, seq: int, hash_: str, bound_seq: int | None = None) -> str:
    """The head's MAC: over its last event and, once the trail is bound to a key, the binding checkpoint's number."""
    text = f"head:{seq}:{hash_}" if bound_seq is None else f"head:{seq}:{hash_}:bound:{bound_seq}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


BOUND = "audit_key_bound"  # the kind of the binding checkpoint event


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


@dataclass(frozen=True)
class Head:
    """The head row as stored: the last event's number and hash, its MAC, and the binding checkpoint's number."""

    seq: int
    hash: str
    mac: str | None = None
    bound_seq: int | None = None


NO_SIGNATURE = ("the trail carries no signature although a key was given: its MACs were stripped, or it was never "
                "signed with this key")


def _bad(count: int, seq: int | None, problem: str) -> VerifyResult:
    return VerifyResult(False, count, seq, problem)


def _signature(ev: RawEvent, key: bytes, bound: int | None, signed_seen: bool) -> str | None:
    """What is wrong with an event's MAC under the key, or None (`bound`: the binding checkpoint's number)."""
    if ev.mac:
        if not hmac.compare_digest(ev.mac, event_mac(key, ev.hash)):
            return (f"event {ev.seq} ({ev.kind}, item {ev.item_id}) carries a MAC the audit key did not make: it was "
                    "rewritten by someone without the key")
        if bound is not None and ev.seq == bound:
            data = _data(ev.data)[1]
            if ev.kind != BOUND or not isinstance(data, dict) or data.get("key_id") != key_id(key):
                return (f"event {ev.seq}, which the head names as the binding checkpoint, is not this key's binding: "
                        "the trail was rewritten")
        return None
    if bound is not None and ev.seq >= bound:
        what = "the binding checkpoint" if ev.seq == bound else "an event after the binding checkpoint"
        return (f"event {ev.seq} ({ev.kind}, item {ev.item_id}) has no MAC although it is {what} "
                f"{'' if ev.seq == bound else f'(event {bound}) '}: it was inserted or rewritten by someone without the key")
    if signed_seen:
        return (f"event {ev.seq} has no MAC although events before it have: it was inserted or rewritten by someone "
                "without the key")
    return None


def verify(events: Iterable[RawEvent], head: Head | None, key: bytes | None) -> VerifyResult:
    """Walk events in seq order (storage order already checked); the first event modified or forged, or a cut tail.

    With a key, the head must carry a valid MAC over its binding checkpoint, and every event from that
    checkpoint on a valid MAC: a trail with no MAC at all, or whose binding is gone, fails."""
    if key is not None and head is not None:
        if not head.mac:
            return _bad(0, None, NO_SIGNATURE)
        if head.bound_seq is None:
            return _bad(0, None, "the trail has no binding checkpoint although a key was given (the head names none): "
                                 "the trail was cut back or rewritten by someone without the key")
        if not hmac.compare_digest(head.mac, head_mac(key, head.seq, head.hash, head.bound_seq)):
            return _bad(0, None, "the head row's MAC is not the audit key's: the head was rewritten (events at the end may "
                                 "have been cut, or the binding checkpoint moved)")
    bound = head.bound_seq if key is not None and head is not None else None
    prev, expected, count, unsigned, signed_seen = GENESIS, 1, 0, 0, False
    for ev in events:
        count += 1
        at = _when(ev.at)
        ok_data, data = _data(ev.data)
        if at is None or not ok_data:
            what = "time" if at is None else "data"
            return _bad(count, ev.seq, f"event {ev.seq} ({ev.kind}, item {ev.item_id}) was modified: its {what} cannot be read")
        if ev.prev_hash != prev:
            return _bad(count, ev.seq, f"event {ev.seq} does not follow event {ev.seq - 1} (its link to the previous "
                                       "event was changed): an event before it was modified, inserted or deleted")
        h = event_hash(ev.seq, at, ev.actor, ev.kind, ev.item_id, ev.from_state, ev.to_state, data, ev.prev_hash)
        if h != ev.hash:
            return _bad(count, ev.seq, f"event {ev.seq} ({ev.kind}, item {ev.item_id}, {at.isoformat()}) "
                                       "was modified after it was written")
        if key is not None:
            wrong = _signature(ev, key, bound, signed_seen)
            if wrong:
                return _bad(count, ev.seq, wrong)
            signed_seen = signed_seen or bool(ev.mac)
            unsigned += not ev.mac
        elif not ev.mac:
            unsigned += 1
        prev, expected = ev.hash, expected + 1
    last = expected - 1
    if head is None:
        return _bad(count, last + 1, "the audit head row is missing: where the trail ends cannot be checked")
    if head.seq != last:
        if head.seq > last:
            return _bad(count, last + 1, f"the trail ends at event {last} but the head records {head.seq}: "
                                         f"{head.seq - last} event(s) at the end were deleted (truncated)")
        return _bad(count, head.seq + 1, f"the trail goes on to event {last} but the head records {head.seq}: "
                                         "the head was rewound, or events were added without it")
    if head.hash != prev:
        return _bad(count, last, f"the head row was modified: it does not name event {last}'s hash")
    if bound is not None and bound > last:
        return _bad(count, last, f"the binding checkpoint (event {bound}) is gone: the trail was cut back")
    notes = []
    if key is None:
        notes.append("authenticity not checked: no audit key is configured (set audit_key_file or WUZHUAN_AUDIT_KEY_FILE); "
                     "the chain's integrity was checked"
                     + ("; this trail is signed, so give its key to check who wrote it" if head.mac else ""))
    elif unsigned:
        notes.append(f"{unsigned} event(s) were written before the trail was bound to the audit key (event {bound}): "
                     "their integrity was checked, not their authenticity")
    return VerifyResult(True, count, authenticated=key is not None, unsigned=unsigned, notes=notes)
