"""What reading an item gives: the shapes of lists, an item, its history, an inbox and an item's page (plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class ItemSummary:
    id: int
    title: str
    template: str
    version: int
    state: str
    state_label: str
    group: str | None
    owner_role: str | None
    owner_role_label: str | None
    due: str | None
    due_at: str | None
    light: str | None
    light_label: str
    paused: bool
    finished: bool
    created_at: str | None
    template_title: str = ""  # what a person reads; `template` is the key scripts use
    group_name: str | None = None


@dataclass(eq=False)
class StepInfo:
    id: int
    seq: int
    state: str
    label: str
    round: int
    entered: str
    entered_by: str | None
    via: str | None
    due: str
    due_at: str | None
    due_rule: str | None
    provisional: bool
    paused_since: str | None
    next_escalation: str | None
    left: str | None
    left_by: str | None
    status: str
    values: dict[str, Any]


@dataclass(eq=False)
class MoveInfo:
    trigger: str
    label: str
    to_state: str
    to_label: str
    roles: list[str]
    role_labels: list[str]
    requires: list[str]
    comment_required: bool
    guards: list[str]
    guards_hold_now: bool
    allowed_for_actor: bool | None


@dataclass(eq=False)
class RoleHolders:
    role: str
    label: str
    people: list[str]  # "name (code)"


@dataclass(eq=False)
class ExtensionInfo:
    id: int
    status: str
    new_date: str
    reason: str
    requested_by: str
    decided_by: str | None


@dataclass(eq=False)
class ChildInfo:
    """A sub-item as its parent's page lists it."""

    id: int
    title: str
    unit: str
    unit_name: str
    part: str  # 主办 / 协办 (the spawn's words)
    step_seq: int  # the parent's step visit that handed it out
    state: str
    state_label: str
    due: str | None
    light: str | None
    light_label: str
    finished: bool
    closed: str | None  # why it was closed with its parent's step, if it was


@dataclass(eq=False)
class ParentInfo:
    """The item a sub-item was handed out by."""

    id: int
    title: str
    step_label: str
    unit: str
    unit_name: str
    part: str
    join: str | None
    closed: str | None


@dataclass(eq=False)
class ItemDetail:
    id: int
    title: str
    template: str
    template_title: str
    template_version: int
    template_hash: str
    version: int
    state: str
    state_label: str
    group: str | None
    owner_role: str | None
    owner_role_label: str | None
    owners: list[str]
    due: str | None
    due_at: str | None
    light: str | None
    light_label: str
    paused: bool
    finished: bool
    created_at: str | None
    fields: dict[str, Any]
    counters: dict[str, Any]
    roles: list[RoleHolders]
    step: StepInfo
    next: list[MoveInfo]
    extensions: list[ExtensionInfo]
    steps: list[StepInfo]
    earlier_rounds: list[StepInfo] | None = None
    children: list[ChildInfo] = field(default_factory=list)
    parent: ParentInfo | None = None
    group_name: str | None = None  # the group's name, for people (`group` is its code)


@dataclass(eq=False)
class HistoryEntry:
    seq: int
    at: str
    at_iso: str | None
    actor: str | None
    actor_name: str | None
    kind: str
    kind_label: str
    from_state: str | None
    from_label: str | None
    to_state: str | None
    to_label: str | None
    round: int | None
    data: dict[str, Any]


@dataclass(eq=False)
class InboxEntry:
    item: ItemSummary
    overdue_workdays: int
    actions: list[str]  # what the person may do there, as labels


@dataclass(eq=False)
class Inbox:
    counts: dict[str, int]
    entries: list[InboxEntry]
    decisions: list[InboxEntry] = field(default_factory=list)  # extension requests waiting for this person
    templates: list[tuple[str, str]] = field(default_factory=list)  # (key, title) for the filter
    groups: list[tuple[str, str]] = field(default_factory=list)  # (code, name) of the groups of his organisations
    total: int = 0  # how many entries the filters leave (every page of them)


@dataclass(eq=False)
class Listing:
    """One page of a list of items (已办, 我参与的) and how many there are in all."""

    rows: list[ItemSummary]
    total: int

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(eq=False)
class ItemPage:
    """An item as one person sees it, with what he may do on it now."""

    detail: ItemDetail
    history: list[HistoryEntry]
    moves: list[dict]  # the moves he may make: trigger, label, requires [{name, label, type, choices}], comment_required
    may_pause: bool
    may_resume: bool
    may_request_extension: bool
    decidable: list[int]  # extension requests he may decide
    assignable: list[tuple[str, str]]  # (role, label) he may give or take
    overdue_workdays: int
    staff: bool
    files: list = field(default_factory=list)  # reads.files.FileInfo of every document given on the item
    slips: list = field(default_factory=list)  # reads.slips.Slip of every numbered 督办单 the item's ladder issued
    shown: list = field(default_factory=list)  # reads.files.Shown: what the step's owner acts on (`shows`)
    labels: dict = field(default_factory=dict)  # field name → its label, for what the page shows
    comments: list = field(default_factory=list)  # HistoryEntry of each comment (沟通), oldest first
    may_comment: bool = False
    may_remind: bool = False  # 催办: the office, the group lead, an administrator, on an open item
    owns_step: bool = False  # he holds the current step's owner role: he may 签收 and 退回
    acknowledged: bool = False  # the current step was acknowledged (签收) by its owner
    may_return: bool = False  # 退回 to the office: an owner who is not the office itself
