"""A validated process template as frozen dataclasses, and what its guards mean; no I/O, no parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

UNITS = ("hours", "days", "workdays", "months")
# Amounts a committee could mean: at most 10 years in days, 2000 working days, 10 years in months, a year in hours.
AMOUNT_LIMITS = {"days": 3650, "workdays": 2000, "months": 120, "hours": 8760}
FIELD_TYPES = ("text", "date", "integer", "choice", "person", "list", "units", "tally", "duration", "meeting", "file")
SLIP_PATTERN = "〔{year}〕督字第{n}号"  # the number of a 督办单, when the template does not give its own
GUARD_OPS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "set", "unset")
OWNER = "owner"  # pseudo-role in a rung's `notify`: whoever holds the state's owner role
# The built-in role of 联动: on a sub-item handed to another organisation (a district's unit), the parent's holders
# of the spawn's `watchers` hold it — they see the sub-item and get a copy (知会) of its notices; no template lists
# it among the roles that move, pause, extend or assign, so they never do.
WATCH = "watch"
WATCH_LABEL = "知会（上级人大）"
DEFAULT_WATCHERS = ("group_lead", "office")  # a spawn's watchers when it names none (those of the parent's roles it has)

# Who may grant a role on an item, pause a step, approve an extension, when the template does not say.
DEFAULT_ASSIGNERS = ("office", "council")
DEFAULT_PAUSE_ROLES = ("council", "committee", "group_lead")
DEFAULT_EXTENSION_APPROVERS = ("council",)
# Who may change a `keep` field (such as the meeting date) at any step, when the field does not say.
DEFAULT_KEEP_EDITORS = ("office", "council")

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
    """`amount unit` after entering the state, or before/after the date in `field`.

    `set_by` names a date field that, once filled, is the due date itself (e.g. the 决议's 期限).
    """

    amount: int
    unit: str
    field: str | None = None
    direction: str = "after"  # "before" only with a field
    set_by: str | None = None
    amount_from: str | None = None  # a `duration` field: a decision's 限期 ("1个月") replaces amount and unit when given
    fixed: str | None = None  # "MM-DD": that day of the year the step is entered (rolled to a working day)
    field_label: str | None = None  # the label of `field`, for the rule people read ("会议日期 2026-06-25 前25日…")

    @property
    def duration(self) -> Duration:
        return Duration(self.amount, self.unit)

    def describe(self, field_label: str | None = None, set_by_label: str | None = None,
                 amount_label: str | None = None) -> str:
        if self.fixed:
            month, day = self.fixed.split("-")
            text = f"当年{int(month)}月{int(day)}日（遇休息日顺延）"
        elif self.field is None:
            text = f"进入后{self.duration}"
        else:
            word = "前" if self.direction == "before" else "后"
            text = f"{field_label or self.field}{word}{self.duration}"
        if self.amount_from:
            text += f"（{amount_label or self.amount_from}另有决定的，从其决定）"
        if self.set_by:
            text += f"；填写{set_by_label or self.set_by}时以其为准"
        return text


@dataclass(frozen=True)
class Rung:
    """One step of an escalation ladder, firing `offset` before or after the due time."""

    name: str
    label: str
    offset: Duration
    direction: str  # "before" | "after"
    notify: tuple[str, ...]
    notice: str
    meaning: str = ""  # what the colour means in this template (宿迁: 蓝 = near the deadline)
    limit: Duration | None = None  # the new 限期 the slip sets, counted from the moment it fires
    slip: bool = False  # a numbered 督办单 (default: the rungs after the due time)
    attach_slip: bool = False  # the e-mail carries the 督办单's PDF (the one attachment a notice may have)


_MISSING = object()


def guard_holds(op: str, actual: Any, value: Any) -> bool:
    """Evaluate one guard comparison; a missing value fails every comparison but `unset`/`ne`/`not_in`."""
    if op == "set":
        return actual is not None and actual is not _MISSING
    if op == "unset":
        return actual is None or actual is _MISSING
    if actual is None or actual is _MISSING:
        return op in ("ne", "not_in")
    try:
        if op == "eq":
            return actual == value
        if op == "ne":
            return actual != value
        if op == "in":
            return actual in value
        if op == "not_in":
            return actual not in value
        if op == "lt":
            return actual < value
        if op == "le":
            return actual <= value
        if op == "gt":
            return actual > value
        if op == "ge":
            return actual >= value
    except TypeError:
        return False
    return False


@dataclass(frozen=True)
class Guard:
    kind: str  # "field" | "counter"
    name: str
    op: str
    value: Any = None

    def holds(self, fields: dict[str, Any], counters: dict[str, int]) -> bool:
        if self.kind == "field":
            return guard_holds(self.op, fields.get(self.name), self.value)
        return guard_holds(self.op, counters.get(self.name, 0), self.value)

    def describe(self) -> str:
        return f"{self.kind} {self.name} {self.op} {self.value!r}"


@dataclass(frozen=True)
class Tally:
    """A vote counted, not typed: 满意 iff the votes for are more than half of all members.

    `members`, `for_` and `against` must be given; `basic` and `abstain` count as 0 when not given.
    With `basic` (基本满意 votes), a result that is not 满意 is 基本满意 when the votes for and the
    基本满意 votes together are more than half; otherwise 不满意. Every count is an integer field.
    """

    members: str
    for_: str
    against: str
    abstain: str | None = None
    basic: str | None = None

    def count_fields(self) -> tuple[str, ...]:
        return tuple(f for f in (self.members, self.for_, self.basic, self.against, self.abstain) if f)

    def result(self, values: dict[str, Any]) -> str | None:
        """满意 / 基本满意 / 不满意, None while a count is missing; ValueError for counts that cannot be."""
        counts = {f: values.get(f) for f in self.count_fields()}
        if any(counts[f] is None for f in (self.members, self.for_, self.against)):
            return None
        counts = {f: 0 if v is None else v for f, v in counts.items()}  # 基本满意 and 弃权 not given: none
        if any(not isinstance(v, int) or v < 0 for v in counts.values()):
            raise ValueError("票数必须是不小于0的整数")
        members = counts[self.members]
        cast = sum(v for f, v in counts.items() if f != self.members)
        if members <= 0:
            raise ValueError("全体组成人员数必须大于0")
        if cast > members:
            raise ValueError(f"票数合计 {cast} 超过全体组成人员数 {members}")
        if 2 * counts[self.for_] > members:
            return "满意"
        if self.basic and 2 * (counts[self.for_] + counts[self.basic]) > members:
            return "基本满意"
        return "不满意"

    def choices(self) -> tuple[str, ...]:
        return ("满意", "基本满意", "不满意") if self.basic else ("满意", "不满意")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    label: str
    choices: tuple[str, ...] = ()
    keep: bool = False  # a value stays valid in later rounds (e.g. the meeting date)
    editable_by: tuple[str, ...] | None = None  # None: the default rule (see Definition.field_editors)
    tally: Tally | None = None  # a `tally` field: computed from its counts, never entered
    meeting_kind: str | None = None  # a `meeting` field: the kind of meeting it may name (None: any)
    sets: str | None = None  # a `meeting` field: the date field that follows the meeting's day
    accept: tuple[str, ...] = ()  # a `file` field: the kinds it takes (workflow.files.KINDS); () for any of them
    max_size: int | None = None  # a `file` field: the largest file, in bytes (None: workflow.files.MAX_FILE)
    multiple: bool = False  # a `file` field: several files at once


JOINS = ("all", "any", "lead")


@dataclass(frozen=True)
class Spawn:
    """Entering the state hands work to each unit listed in the `units` field `for_each`: one child item of
    template `template` per unit (the first listed is the lead, 主办). When `join` holds — every child
    finished (`all`), any one (`any`), the lead's (`lead`) — the system fires `then` on the parent."""

    template: str
    for_each: str
    then: str
    join: str = "all"
    lead: str = "主办"  # what the first unit listed is called
    others: str = "协办"  # what the other units are called
    watchers: tuple[str, ...] | None = None  # the parent's roles that watch sub-items of another organisation

    def watcher_roles(self, parent_roles) -> tuple[str, ...]:
        """The parent's roles whose holders hold `watch` on a sub-item handed to another organisation."""
        return self.watchers if self.watchers is not None else tuple(r for r in DEFAULT_WATCHERS if r in parent_roles)

    def part(self, position: int) -> str:
        """What the unit at `position` of the list is called: the lead (first) or one of the others."""
        return self.lead if position == 0 else self.others


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
    cc: tuple[str, ...] = ()  # roles informed (抄送) when the step is handed over and on its 督办单
    description: str = ""
    spawn: Spawn | None = None  # the step hands work to several units as child items
    shows: tuple[str, ...] = ()  # fields whose text or documents the owner acts on: shown at the top of the step's page


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

    def guards_hold(self, fields: dict[str, Any], counters: dict[str, int]) -> bool:
        return all(g.holds(fields, counters) for g in self.guards)


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
    roles: dict[str, str]  # role → label
    fields: dict[str, FieldSpec]
    counters: dict[str, str]
    tags: dict[str, str]
    initial: str
    states: dict[str, State]
    transitions: tuple[Transition, ...]
    urgency: Urgency | None = None
    handover_notice: str | None = None
    assignable_by: dict[str, tuple[str, ...]] = field(default_factory=dict)  # role → roles that may grant it
    slip_pattern: str = SLIP_PATTERN
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
        by = self.fields.get(state.deadline.set_by or "")
        amount = self.fields.get(state.deadline.amount_from or "")
        return state.deadline.describe(spec.label if spec else None, by.label if by else None, amount.label if amount else None)

    def meeting_fields(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.fields.items() if f.type == "meeting")

    def notices(self) -> set[str]:
        names = {r.notice for s in self.states.values() for r in s.ladder}
        if self.handover_notice:
            names.add(self.handover_notice)
        return names

    def role_label(self, role: str | None) -> str:
        if role == WATCH and WATCH not in self.roles:
            return WATCH_LABEL
        return self.roles.get(role or "", role or "—")

    def assigners_of(self, role: str) -> tuple[str, ...]:
        """The roles on an item whose holders may grant `role` on it (administrators always may)."""
        if role in self.assignable_by:
            return self.assignable_by[role]
        return tuple(r for r in DEFAULT_ASSIGNERS if r in self.roles)

    def round_view(self, latest: dict[str, Any], this_round: dict[str, Any]) -> dict[str, Any]:
        """The values that count at a step: `keep` fields at their latest value, the others as entered in this round."""
        kept = {k: v for k, v in latest.items() if (spec := self.fields.get(k)) is not None and spec.keep}
        return kept | this_round

    def field_editors(self, name: str, state: str) -> tuple[str, ...]:
        """The roles that may change field `name` while the item is at `state`.

        `editable_by` on the field: those roles, at any step. Otherwise a `keep` field may be changed
        by the office and the council at any step; any other field by the roles of the moves from
        this step that require it (nobody, at a step where no move needs it).
        """
        spec = self.fields[name]
        if spec.editable_by is not None:
            return spec.editable_by
        roles: dict[str, None] = {}
        if spec.keep:
            roles.update(dict.fromkeys(r for r in DEFAULT_KEEP_EDITORS if r in self.roles))
        for t in self.transitions_from(state):
            if name in t.requires:
                roles.update(dict.fromkeys(t.roles))
        for other, o in self.fields.items():  # the counts of a tally: whoever may give the tally
            if o.tally is not None and name in o.tally.count_fields() and other != name:
                roles.update(dict.fromkeys(self.field_editors(other, state)))
        return tuple(roles)


_DURATION = {"个月": "months", "月": "months", "个工作日": "workdays", "工作日": "workdays", "日": "days", "天": "days",
             "小时": "hours", "months": "months", "month": "months", "workdays": "workdays", "workday": "workdays",
             "days": "days", "day": "days", "hours": "hours", "hour": "hours"}


def parse_duration(text: str) -> Duration | None:
    """"1个月", "15个工作日", "30日", "1 months" → Duration; None when the text is not one."""
    m = re.fullmatch(r"\s*(\d{1,4})\s*([^\d\s].*?)\s*", str(text))
    if not m or m.group(2) not in _DURATION:
        return None
    return Duration(int(m.group(1)), _DURATION[m.group(2)])
