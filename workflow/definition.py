"""A validated process template as frozen dataclasses; no I/O, no parsing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNITS = ("hours", "days", "workdays", "months")
FIELD_TYPES = ("text", "date", "integer", "choice", "person", "list")
GUARD_OPS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "set", "unset")
OWNER = "owner"  # pseudo-role in a rung's `notify`: whoever holds the state's owner role

# Nominal hours per unit: used only to check that rungs are in time order.
NOMINAL_HOURS = {"hours": 1.0, "days": 24.0, "workdays": 24.0 * 7 / 5, "months": 24.0 * 30.4}


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str

    def nominal_hours(self) -> float:
        return self.amount * NOMINAL_HOURS[self.unit]

    def __str__(self) -> str:
        names = {"hours": "小时", "days": "日", "workdays": "个工作日", "months": "个月"}
        return f"{self.amount}{names[self.unit]}"


@dataclass(frozen=True)
class Deadline:
    """`amount unit` after entering the state, or before/after the date in `field`."""

    amount: int
    unit: str
    field: str | None = None
    direction: str = "after"  # "before" only with a field

    @property
    def duration(self) -> Duration:
        return Duration(self.amount, self.unit)

    def describe(self, field_label: str | None = None) -> str:
        if self.field is None:
            return f"进入后{self.duration}"
        word = "前" if self.direction == "before" else "后"
        return f"{field_label or self.field}{word}{self.duration}"


@dataclass(frozen=True)
class Rung:
    """One step of an escalation ladder, firing `offset` before or after the due time."""

    name: str
    label: str
    offset: Duration
    direction: str  # "before" | "after"
    notify: tuple[str, ...]
    notice: str


@dataclass(frozen=True)
class Guard:
    kind: str  # "field" | "counter"
    name: str
    op: str
    value: Any = None

    def describe(self) -> str:
        return f"{self.kind} {self.name} {self.op} {self.value!r}"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    label: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class State:
    name: str
    label: str
    owner: str | None
    tags: tuple[str, ...] = ()
    deadline: Deadline | None = None
    yellow: Duration = Duration(3, "workdays")
    ladder: tuple[Rung, ...] = ()
    final: bool = False
    pause_roles: tuple[str, ...] = ()
    extension_approvers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transition:
    trigger: str
    label: str
    sources: tuple[str, ...]
    dest: str
    roles: tuple[str, ...]
    requires: tuple[str, ...] = ()
    comment_required: bool = False
    guards: tuple[Guard, ...] = ()
    increments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Urgency:
    """Items whose `field` holds one of the keys start escalation at the mapped rung."""

    field: str
    start_rung: dict[str, str]


@dataclass(frozen=True)
class Definition:
    key: str
    title: str
    description: str
    calendar: str  # "cn" (China working days) | "none" (every day counts)
    roles: dict[str, str]
    fields: dict[str, FieldSpec]
    counters: dict[str, str]
    tags: dict[str, str]
    initial: str
    states: dict[str, State]
    transitions: tuple[Transition, ...]
    urgency: Urgency | None = None
    handover_notice: str | None = None
    content_hash: str = ""
    source_name: str = ""
    source_text: str = field(default="", repr=False, compare=False)

    def transitions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]

    def triggers_from(self, state: str) -> list[str]:
        seen: dict[str, None] = {}
        for t in self.transitions_from(state):
            seen.setdefault(t.trigger)
        return list(seen)

    def deadline_text(self, state: State) -> str:
        """A state's deadline in words, naming a date field by its label."""
        if state.deadline is None:
            return "无时限"
        spec = self.fields.get(state.deadline.field or "")
        return state.deadline.describe(spec.label if spec else None)

    def notices(self) -> set[str]:
        names = {r.notice for s in self.states.values() for r in s.ladder}
        if self.handover_notice:
            names.add(self.handover_notice)
        return names
