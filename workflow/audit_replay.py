"""What the audit trail says the rows must be, pure: replay an item's events into its expected state and compare.

The hash chain proves the events were not changed; this proves the rows were not changed behind them. Each
event kind changes an item as the use case that wrote it did: its state and template version, its version
number, its field values (the item's and each step visit's round), its finished and paused times, each step's
due time, and its role holders. The directory's administrators and disabled people are replayed from the
events that record them (imports, upgrades, enabling, disabling, set-admin).

Events written before a fact was recorded (a due time kept only to the minute, a calendar import that did not
list the steps it recomputed, an import that did not list the administrators) are checked as far as they go.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .calendar import TZ
from .present import fmt

_ABSENT = "(no value)"

# Events that add one to an item's version (what the use case that wrote them did to the row).
VERSION_KINDS = frozenset({"advanced", "fields_set", "assigned", "unassigned", "paused", "resumed", "extension_approved",
                           "extension_rejected", "migrated", "deadline_moved", "closed"})


@dataclass(frozen=True)
class Mismatch:
    """A row that is not what the trail says: which table, row and column, what the trail implies, what is there."""

    table: str
    id: Any
    column: str
    expected: Any
    found: Any

    def __str__(self) -> str:
        return f"{self.table} {self.id} {self.column}: the trail says {_shown(self.expected)}, the row holds {_shown(self.found)}"


def _shown(v: Any) -> str:
    if isinstance(v, datetime):
        return v.astimezone(TZ).isoformat(timespec="microseconds" if v.microsecond else "seconds")
    text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:119] + "…"


@dataclass(frozen=True)
class Event:
    """An event as the replay reads it: its data already parsed."""

    seq: int
    at: datetime
    kind: str
    item_id: int | None
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]


@dataclass
class StepState:
    state: str
    entered_seq: int
    due: tuple[str, Any] | None = None  # ("at", exact datetime) | ("text", as fmt() shows it) | None: not known
    due_seq: int = 0
    fields: dict[str, Any] = field(default_factory=dict)
    left_seq: int | None = None
    paused: bool = False


@dataclass
class ItemState:
    id: int
    created: bool = False
    version: int = 0
    version_id: int | None = None
    state: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    finished_at: datetime | None = None
    paused_at: datetime | None = None
    current: int | None = None
    steps: dict[int, StepState] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)
    requests: dict[int, int] = field(default_factory=dict)  # extension request id → step id


def _due(data: dict[str, Any], exact: str, text: str) -> tuple[str, Any] | None:
    if data.get(exact):
        try:
            return "at", datetime.fromisoformat(data[exact])
        except (TypeError, ValueError):
            return "text", str(data[exact])
    return ("text", data[text]) if isinstance(data.get(text), str) else None


def _new_values(data: dict[str, Any]) -> dict[str, Any]:
    """The values a move or a change gave: `fields` (every value given), else the new side of `fields_changed`."""
    if isinstance(data.get("fields"), dict):
        return dict(data["fields"])
    changed = data.get("fields_changed") or {}
    return {k: v[1] for k, v in changed.items() if isinstance(v, list) and len(v) == 2}


def replay_item(item_id: int, events: Iterable[Event], is_final: Callable[[int | None, str], bool]) -> ItemState:
    """The item as its events (in seq order) make it; `is_final(version id, state)` from the templates."""
    s = ItemState(item_id)
    for e in events:
        _apply(s, e, is_final)
    return s


def _set_due(step: StepState | None, due: tuple[str, Any] | None, seq: int) -> None:
    if step is not None and due is not None:
        step.due, step.due_seq = due, seq


def _enter(s: ItemState, e: Event, step_id: Any, fields: dict[str, Any], final: bool) -> None:
    """The item enters the event's state: a new step visit (closed at once when the state is final)."""
    if isinstance(step_id, int):
        s.steps[step_id] = StepState(e.to_state or "", e.seq, _due(e.data, "due_at", "due"), e.seq, fields)
        s.current = step_id
    s.state = e.to_state
    s.paused_at = None
    if final:
        s.finished_at = e.at
        if isinstance(step_id, int):
            s.steps[step_id].left_seq = e.seq


def _apply(s: ItemState, e: Event, is_final: Callable[[int | None, str], bool]) -> None:
    d = e.data
    kind = e.kind
    if kind in VERSION_KINDS:
        s.version += 1
    if kind == "created":
        s.created, s.version, s.version_id = True, 1, d.get("version_id")
        s.fields = dict(d.get("fields") or {})
        s.roles = {r: list(cs) for r, cs in (d.get("assignments") or {}).items()}
        _enter(s, e, d.get("step_id"), dict(d.get("fields") or {}), is_final(s.version_id, e.to_state or ""))
    elif kind == "advanced":
        values = _new_values(d)
        left = s.steps.get(d.get("left_step_id") if isinstance(d.get("left_step_id"), int) else s.current)
        s.fields |= values
        if left is not None:
            left.fields |= values
            left.left_seq = e.seq
            left.paused = False
        _enter(s, e, d.get("step_id"), {}, is_final(s.version_id, e.to_state or ""))
    elif kind == "fields_set":
        values = _new_values(d)
        s.fields |= values
        step = s.steps.get(d.get("step_id") if isinstance(d.get("step_id"), int) else s.current)
        if step is not None:
            step.fields |= values
            _set_due(step, _due(d, "due_at", "due_recomputed"), e.seq)
    elif kind in ("assigned", "unassigned"):
        role = d.get("role")
        if isinstance(d.get("holders"), list):
            s.roles[role] = list(d["holders"])
        else:
            now = [c for c in s.roles.get(role, []) if c not in (d.get("removed") or [])]
            s.roles[role] = now + [c for c in (d.get("added") or []) if c not in now]
        if not s.roles.get(role):
            s.roles.pop(role, None)
    elif kind == "paused":
        s.paused_at = e.at
        step = s.steps.get(d.get("step_id", s.current))
        if step is not None:
            step.paused = True
    elif kind == "resumed":
        s.paused_at = None
        step = s.steps.get(d.get("step_id", s.current))
        if step is not None:
            step.paused = False
            _set_due(step, _due(d, "due_at", "new_due"), e.seq)
    elif kind == "extension_requested":
        if isinstance(d.get("request"), int):
            s.requests[d["request"]] = d.get("step_id")
    elif kind == "extension_approved":
        step = s.steps.get(d.get("step_id") or s.requests.get(d.get("request")))
        _set_due(step, _due(d, "due_at", "new_due"), e.seq)
    elif kind == "migrated":
        s.version_id, s.state = d.get("to_version"), e.to_state
        step = s.steps.get(d.get("step_id", s.current))
        if step is not None:
            step.state = e.to_state or step.state
            _set_due(step, _due(d, "due_at", "due"), e.seq)
    elif kind == "deadline_moved":
        s.fields |= _new_values({"fields_changed": d.get("fields_changed") or {}})
        _set_due(s.steps.get(d.get("step_id", s.current)), _due(d, "due_at", "due"), e.seq)
    elif kind == "closed":
        s.finished_at = e.at
        step = s.steps.get(d.get("step_id", s.current))
        if step is not None:
            step.left_seq = e.seq


def apply_calendar(s: ItemState, imports: list[tuple[int, dict[int, str] | None]]) -> None:
    """Calendar imports recompute the due times of open provisional steps: `imports` is (seq, {step id: exact due}),
    or (seq, None) for an import that did not list them (the due time of every step open then is not known)."""
    for seq, steps in imports:
        for sid, st in s.steps.items():
            if st.entered_seq > seq or (st.left_seq is not None and st.left_seq < seq) or st.due_seq > seq:
                continue
            if steps is None:
                st.due, st.due_seq = None, seq
            elif sid in steps:
                _set_due(st, ("at", datetime.fromisoformat(steps[sid])), seq)


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values (a stored number may come back as a float or a string key as text); {} is no values."""
    if a == b or a in (None, {}) and b in (None, {}):
        return True
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _fields(table: str, id_: Any, want: dict[str, Any] | None, got: dict[str, Any] | None) -> list[Mismatch]:
    """One mismatch per field whose value differs (column `fields.NAME`)."""
    want, got = want or {}, got or {}
    return [Mismatch(table, id_, f"fields.{k}", want.get(k, _ABSENT), got.get(k, _ABSENT))
            for k in sorted(set(want) | set(got), key=str) if not _same(want.get(k, _ABSENT), got.get(k, _ABSENT))]


def _due_matches(due: tuple[str, Any] | None, found: datetime | None) -> bool:
    if due is None:
        return True  # not recorded precisely enough to check
    kind, value = due
    return found == value if kind == "at" else fmt(found) == value


def compare_item(s: ItemState, row: Any | None, steps: list[Any], roles: dict[str, set[str]]) -> list[Mismatch]:
    """The item, its step rows and its role holders (role → codes) against what the trail says."""
    if row is None:
        return [Mismatch("items", s.id, "id", "an item the trail created", "no such row (deleted)")] if s.created else []
    if not s.created:
        return [Mismatch("items", s.id, "id", "no item (the trail never created it)", f"item '{row.title}'")]
    out = [Mismatch("items", s.id, col, want, got) for col, want, got in (
        ("state", s.state, row.state), ("version", s.version, row.version),
        ("template_version_id", s.version_id, row.template_version_id), ("finished_at", s.finished_at, row.finished_at),
        ("paused_at", s.paused_at, row.paused_at), ("current_step_id", s.current, row.current_step_id)) if want != got]
    out += _fields("items", s.id, s.fields, row.fields)
    by_id = {st.id: st for st in steps}
    for sid, want in s.steps.items():
        got = by_id.pop(sid, None)
        if got is None:
            out.append(Mismatch("steps", sid, "id", f"a visit of '{want.state}' of item {s.id}", "no such row (deleted)"))
            continue
        if got.state != want.state:
            out.append(Mismatch("steps", sid, "state", want.state, got.state))
        if not _due_matches(want.due, got.due_at):
            out.append(Mismatch("steps", sid, "due_at", want.due[1], got.due_at))
        out += _fields("steps", sid, want.fields, got.fields)
        if (want.left_seq is None) != (got.left_at is None):
            out.append(Mismatch("steps", sid, "left_at", "open" if want.left_seq is None else "left", got.left_at))
    for sid, got in by_id.items():
        out.append(Mismatch("steps", sid, "id", "no such visit (the trail never entered it)", f"a visit of '{got.state}'"))
    current = s.steps.get(s.current) if s.current is not None else None
    if current is not None and current.left_seq is None and current.due is not None and not _due_matches(current.due, row.due_at):
        out.append(Mismatch("items", s.id, "due_at", current.due[1], row.due_at))
    want_roles = {r: set(cs) for r, cs in s.roles.items() if cs}
    for role in sorted(set(want_roles) | set(roles)):
        if want_roles.get(role, set()) != roles.get(role, set()):
            out.append(Mismatch("assignments", s.id, role, sorted(want_roles.get(role, set())), sorted(roles.get(role, set()))))
    return out


@dataclass
class Directory:
    """Administrators and disabled people as the trail records them (None until an event records them all)."""

    admins: set[str] | None = None
    inactive: set[str] | None = None

    def apply(self, e: Event) -> None:
        d = e.data
        if e.kind in ("people_imported", "schema_upgraded") and isinstance(d.get("admins"), list):
            self.admins, self.inactive = set(d["admins"]), set(d.get("inactive") or [])
        elif e.kind in ("person_enabled", "person_disabled") and self.inactive is not None:
            (self.inactive.discard if e.kind == "person_enabled" else self.inactive.add)(d.get("person"))
        elif e.kind == "admin_set" and self.admins is not None:
            (self.admins.add if d.get("admin") else self.admins.discard)(d.get("person"))

    def compare(self, people: Iterable[tuple[str, bool, bool]]) -> list[Mismatch]:
        """(code, admin, active) of every person against the recorded flags."""
        if self.admins is None:
            return []
        out = []
        for code, admin, active in people:
            if bool(admin) != (code in self.admins):
                out.append(Mismatch("people", code, "admin", code in self.admins, bool(admin)))
            if bool(active) != (code not in self.inactive):
                out.append(Mismatch("people", code, "active", code not in self.inactive, bool(active)))
        return out
