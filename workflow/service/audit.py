"""The audit trail as the office checks it: verify end to end, take a checkpoint to keep on paper, make the key."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from .. import audit_key
from ..audit_chain import Head, head_mac, key_id, storage_order, verify
from ..audit_replay import Directory, ItemState, Mismatch, apply_calendar, compare_item, replay_item
from ..errors import InvalidInput, WuzhuanError
from ..store import Store
from ..store import audit as audit_store
from ..store import meta as meta_store
from ..store import replay as replay_store
from . import common, documents

CHUNK = 2000  # items replayed at a time: memory stays bounded whatever the size of the database
SHOWN = 100  # mismatches kept for the report (all are counted)


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
    unexplained: list[str] = field(default_factory=list)  # rows the trail does not account for, as sentences
    mismatches: list[dict] = field(default_factory=list)  # the same as data: table, id, column, expected, found
    differing: int = 0  # how many rows differ in all (the lists keep the first SHOWN)
    items: int = 0  # items replayed
    files: int | None = None  # blobs re-hashed (None: not checked, --no-files)
    file_bytes: int = 0


@dataclass
class Checkpoint:
    seq: int
    code: str  # the head's MAC with a key, else its hash
    signed: bool

    def __str__(self) -> str:
        return f"{self.seq}:{self.code}"


def verify_audit(store: Store, checkpoint: str | None = None, files: bool = True) -> AuditReport:
    """Check the whole trail: storage order, the hash chain, the MACs and the binding checkpoint (with the key), the
    head, a checkpoint the office kept; then replay it and compare what it implies with the rows (items, steps,
    role holders, template versions, administrators and disabled people): a row changed behind the trail is named.

    Everything is read in one snapshot, a range of items at a time (memory stays bounded). With `files`, every
    document's content is re-hashed and each file row held against the move that recorded it."""
    expected_seq = expected_code = None
    if checkpoint is not None:
        expected_seq, expected_code = _parse_checkpoint(checkpoint)
    key = store.audit_key
    with store.read(snapshot=True) as tx:
        kid = meta_store.get(tx, meta_store.AUDIT_KEY)
        if key is not None and kid is not None and kid != key_id(key):
            raise InvalidInput(f"配置的审计密钥（指纹 {key_id(key)}）不是为这份审计记录签名的密钥（{kid}）："
                               "请用该数据库启用时的密钥核验")
        seqs = audit_store.storage_seqs(tx)
        bad, what = storage_order(seqs)
        if bad is not None:
            return AuditReport(False, len(seqs), bad, what)
        h = audit_store.head(tx)
        head = Head(h.last_seq, h.last_hash, h.mac, h.bound_seq) if h else None
        r = verify(audit_store.iter_raw(tx), head, key)
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
        _replay(tx, report)
        if files:
            checked = documents.check_files(tx)
            report.files, report.file_bytes = checked.blobs, checked.bytes
            if checked.problems:
                report.ok = False
                report.problem = report.problem or checked.problems[0]
                report.unexplained += checked.problems
        return report


def _replay(tx, report: AuditReport) -> None:
    """Compare every row the trail accounts for with what it implies; fill the report's mismatches."""
    directory, calendars, published = Directory(), [], {}
    for e in replay_store.global_events(tx):
        directory.apply(e)
        if e.kind == "calendar_imported":
            steps = e.data.get("steps")
            calendars.append((e.seq, {int(k): v for k, v in steps.items()} if isinstance(steps, dict) else None))
        elif e.kind == "template_published":
            published[e.data.get("version_id")] = e.data.get("hash")
    found: list[Mismatch] = []
    count = 0

    def keep(ms: list[Mismatch]) -> None:
        nonlocal count
        count += len(ms)
        found.extend(ms[: max(0, SHOWN - len(found))])

    stored = replay_store.versions(tx)
    keep([Mismatch("template_versions", vid, "content_hash", published.get(vid) or "no publication in the trail", h)
          for vid, h in sorted(stored.items()) if published.get(vid) != h])
    keep([Mismatch("template_versions", vid, "id", f"a version published with hash {h}", "no such row (deleted)")
          for vid, h in sorted(published.items()) if vid not in stored])
    finals: dict[tuple[int | None, str], bool] = {}

    def is_final(version_id: int | None, state: str) -> bool:
        if (version_id, state) not in finals:
            try:
                defn = common.definition(tx, version_id) if isinstance(version_id, int) else None
            except WuzhuanError:
                defn = None
            finals[(version_id, state)] = bool(defn and state in defn.states and defn.states[state].final)
        return finals[(version_id, state)]

    last = replay_store.last_item_id(tx)
    for lo in range(1, last + 1, CHUNK):
        hi = lo + CHUNK
        rows, steps, roles = replay_store.items_in(tx, lo, hi), replay_store.steps_in(tx, lo, hi), replay_store.roles_in(tx, lo, hi)
        seen = set()
        for item_id, events in groupby(replay_store.item_events(tx, lo, hi), key=lambda e: e.item_id):
            state = replay_item(item_id, events, is_final)
            apply_calendar(state, calendars)
            keep(compare_item(state, rows.get(item_id), steps.get(item_id, []), roles.get(item_id, {})))
            seen.add(item_id)
        for item_id in sorted(set(rows) - seen):
            keep(compare_item(ItemState(item_id), rows[item_id], steps.get(item_id, []), roles.get(item_id, {})))
        report.items += len(rows)
    keep(directory.compare(replay_store.people_flags(tx)))
    if directory.admins is None:
        report.notes.append("administrators and disabled people not checked: no event of this trail records them all yet "
                            "(the next people import or `db upgrade` does)")
    report.differing = count
    report.mismatches = [{"table": m.table, "id": m.id, "column": m.column, "expected": m.expected, "found": m.found}
                         for m in found]
    report.unexplained = [str(m) for m in found]
    if count:
        report.ok = False
        report.problem = (f"{count} value(s) in the tables differ from what the audit trail records, first: {found[0]} — "
                          "they were changed behind the trail (or their events deleted)")


def _parse_checkpoint(text: str) -> tuple[int, str]:
    seq, _, code = text.partition(":")
    if not seq.strip().isdigit() or len(code.strip()) != 64 or any(c not in "0123456789abcdef" for c in code.strip()):
        raise InvalidInput(f"“{text[:80]}”不是审计检查点（格式为 序号:校验码）", next="checkpoint")
    return int(seq), code.strip()


def checkpoint(store: Store) -> Checkpoint:
    """The head as it stands: its number, and its MAC (with the key) or hash, to keep outside the database."""
    with store.read() as tx:
        head = audit_store.head(tx)
        if head is None:
            raise InvalidInput("审计记录的链头缺失：请核验审计记录", next="verify")
        if head.last_seq == 0:
            raise InvalidInput("审计记录还是空的，尚无可留存的检查点")
        if store.audit_key is not None:
            return Checkpoint(head.last_seq, _event_code(tx, head.last_seq, store.audit_key), True)
        return Checkpoint(head.last_seq, head.last_hash, False)


def _event_code(tx, seq: int, key: bytes) -> str:
    found = audit_store.event_at(tx, seq)
    if found is None:  # an empty trail: the head's own MAC
        return head_mac(key, 0, "0" * 64, None)
    return found[1] or found[0]


def init_key(path: str | Path) -> Path:
    """Make a new audit key file (never overwriting one)."""
    return audit_key.new_key_file(path)
