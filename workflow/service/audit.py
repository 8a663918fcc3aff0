"""The audit trail as the office checks it: verify end to end, take a checkpoint to keep on paper, make the key."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path

from .. import audit_key
from ..audit_chain import head_mac, key_id, storage_order, verify
from ..errors import InvalidInput
from ..store import Store
from ..store import audit as audit_store
from ..store import meta as meta_store

# The events that change an item's version: the trail must account for every version an item has.
VERSION_KINDS = ("advanced", "fields_set", "assigned", "unassigned", "paused", "resumed", "extension_approved",
                 "extension_rejected", "migrated", "deadline_moved")


@dataclass
class AuditReport:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    problem: str | None = None
    authenticated: bool = False
    unsigned: int = 0
    key_id: str | None = None
    notes: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)  # items the trail does not account for


@dataclass
class Checkpoint:
    seq: int
    code: str  # the head's MAC with a key, else its hash
    signed: bool

    def __str__(self) -> str:
        return f"{self.seq}:{self.code}"


def verify_audit(store: Store, checkpoint: str | None = None) -> AuditReport:
    """Check the whole trail: storage order, the hash chain, the MACs (with the key), the head, a checkpoint the
    office kept, and that every item's version and steps are accounted for by events."""
    expected_seq = expected_code = None
    if checkpoint is not None:
        expected_seq, expected_code = _parse_checkpoint(checkpoint)
    key = store.audit_key
    with store.read() as tx:
        kid = meta_store.get(tx, meta_store.AUDIT_KEY)
        if key is not None and kid is not None and kid != key_id(key):
            raise InvalidInput(f"the configured audit key (fingerprint {key_id(key)}) is not the one that signs this trail "
                               f"({kid}): verify with the key the database was started with")
        seqs = audit_store.storage_seqs(tx)
        bad, what = storage_order(seqs)
        if bad is not None:
            return AuditReport(False, len(seqs), bad, what)
        head = audit_store.head(tx)
        r = verify(audit_store.iter_raw(tx), head.last_seq if head else None, head.last_hash if head else None,
                   head.mac if head else None, key)
        report = AuditReport(r.ok, r.events, r.first_bad_seq, r.problem, r.authenticated, r.unsigned,
                             key_id(key) if key else kid, list(r.notes))
        if not r.ok:
            return report
        if expected_seq is not None:
            found = audit_store.event_at(tx, expected_seq)
            code = None if found is None else (found[1] if key is not None and found[1] else found[0])
            if found is None or not hmac.compare_digest(code or "", expected_code):
                report.ok, report.first_bad_seq = False, expected_seq
                report.problem = (f"checkpoint {expected_seq}: the trail no longer holds the event the office recorded "
                                  f"({'it is gone' if found is None else 'it is different'}): the trail was cut or rewritten")
                return report
            report.notes.append(f"checkpoint {expected_seq} matches")
        for item_id, version, steps, created, advanced, bumps in audit_store.explained(tx, VERSION_KINDS):
            if created != 1:
                report.unexplained.append(f"item {item_id} has {'no' if created == 0 else created} 'created' event(s)")
            elif steps != 1 + advanced:
                report.unexplained.append(f"item {item_id} has {steps} step(s) but the trail records {advanced} move(s)")
            elif version != 1 + bumps:
                report.unexplained.append(f"item {item_id} is at version {version} but the trail records {bumps} change(s)")
        if report.unexplained:
            report.ok = False
            report.problem = (f"{len(report.unexplained)} item(s) are not accounted for by the trail, first: "
                              f"{report.unexplained[0]} — their events were deleted or their rows changed behind the trail")
        return report


def _parse_checkpoint(text: str) -> tuple[int, str]:
    seq, _, code = text.partition(":")
    if not seq.strip().isdigit() or len(code.strip()) != 64 or any(c not in "0123456789abcdef" for c in code.strip()):
        raise InvalidInput(f"'{text}' is not a checkpoint (it reads SEQ:CODE, as `wuzhuan audit checkpoint` prints it)")
    return int(seq), code.strip()


def checkpoint(store: Store) -> Checkpoint:
    """The head as it stands: its number, and its MAC (with the key) or hash, to keep outside the database."""
    with store.read() as tx:
        head = audit_store.head(tx)
        if head is None:
            raise InvalidInput("the audit head row is missing: run `wuzhuan audit verify`")
        if head.last_seq == 0:
            raise InvalidInput("the audit trail is empty: there is nothing to take a checkpoint of yet")
        if store.audit_key is not None:
            return Checkpoint(head.last_seq, _event_code(tx, head.last_seq, store.audit_key), True)
        return Checkpoint(head.last_seq, head.last_hash, False)


def _event_code(tx, seq: int, key: bytes) -> str:
    found = audit_store.event_at(tx, seq)
    if found is None:  # an empty trail: the head's own MAC
        return head_mac(key, 0, "0" * 64)
    return found[1] or found[0]


def init_key(path: str | Path) -> Path:
    """Make a new audit key file (never overwriting one)."""
    return audit_key.new_key_file(path)
