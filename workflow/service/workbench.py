"""What the workbench shows a person: his inbox (待办), the items he moved (已办) or holds a role on (我参与的),
an item if he may see it, and what he may do on it. Each person sees only what he may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .. import authority
from ..calendar import overdue_workdays
from ..definition import Definition
from ..errors import InvalidInput, NotFound
from ..rows import ExtensionRow, PersonRow
from ..store import ExtensionStatus, Store, Tx, directory
from ..store import extensions as ext_store
from ..store import items as item_store
from ..store import templates as template_store
from . import common
from .views import HistoryEntry, ItemDetail, ItemSummary, _summary, history, item_detail, list_items

PAGE = 50


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


def _acting(tx: Tx, person: PersonRow) -> PersonRow:
    """The person of a session or token, still active."""
    return common.acting(tx, person.code)


def _pairs(tx: Tx) -> tuple[list, list]:
    """(role, version, state) where a role may move an item on, and where it may resume a paused one."""
    moves, pauses = [], []
    for v in template_store.all_versions(tx):
        defn = common.definition(tx, v.id)
        for state in defn.states.values():
            if state.final:
                continue
            for role in {r for t in defn.transitions_from(state.name) for r in t.roles}:
                moves.append((role, v.id, state.name))
            for role in state.pause_roles:
                pauses.append((role, v.id, state.name))
    return moves, pauses


def inbox(store: Store, person: PersonRow, now: datetime, *, light: str | None = None, template: str | None = None,
          group: str | None = None, offset: int = 0, limit: int = PAGE) -> Inbox:
    """The items the person may act on now, soonest due first, with counts per light; and extension requests he may decide."""
    common.check_now(now)
    if light is not None and light not in ("green", "yellow", "red"):
        raise InvalidInput(f"light '{common.shown(light)}' is not one of green, yellow, red")
    if not 0 <= offset <= 10**9 or not 1 <= limit <= 500:
        raise InvalidInput("the page is out of range")
    with store.read() as tx:
        who = _acting(tx, person)
        group_id = None
        if group:
            unit = directory.unit(tx, group)
            if unit is None:
                raise NotFound(f"no organisation unit '{common.shown(group)}'")
            group_id = unit.id
        moves, pauses = _pairs(tx)
        rows, counts = item_store.inbox(tx, who.id, moves, pauses, now, light=light, template=template, group_id=group_id,
                                        limit=limit, offset=offset)
        cal = common.calendar(tx)
        entries = [_entry(tx, who, item, code, now, cal) for item, code in rows]
        decisions = _decisions(tx, who, now, cal)
        keys = sorted({(v.key, v.title) for v in template_store.all_versions(tx)})
        return Inbox(counts, entries, decisions, keys)


def _entry(tx: Tx, who: PersonRow, item, group_code, now: datetime, cal) -> InboxEntry:
    defn = common.definition(tx, item.template_version_id)
    holders = item_store.holders(tx, item.id)
    held = authority.roles_held(holders, who.id)
    if item.paused_at is not None:
        actions = ["恢复（挂起中）"] if held & set(defn.states[item.state].pause_roles) else []
    else:
        actions = list(dict.fromkeys(t.label for t in defn.transitions_from(item.state) if held & set(t.roles)))
    late = overdue_workdays(cal, item.due_at, now) if item.due_at and not item.paused_at else 0
    return InboxEntry(_summary(defn, item, group_code, now), late, actions)


def _decisions(tx: Tx, who: PersonRow, now: datetime, cal) -> list[InboxEntry]:
    out = []
    for req in ext_store.pending(tx):
        if req.requested_by == who.code:
            continue
        item = item_store.get(tx, req.item_id)
        defn = common.definition(tx, item.template_version_id)
        step = item_store.step_by_id(tx, req.step_id)
        if step.left_at is not None:  # the step moved on: nothing left to decide
            continue
        held = authority.roles_held(item_store.holders(tx, item.id), who.id)
        if held & set(defn.states[step.state].extension_approvers):
            out.append(InboxEntry(_summary(defn, item, None, now), 0, [f"审批延期申请 #{req.id}（至 {req.new_date}）"]))
    return out


def moved(store: Store, person: PersonRow, now: datetime, offset: int = 0, limit: int = PAGE) -> list[ItemSummary]:
    """Items the person moved on (已办), most recent first."""
    with store.read() as tx:
        who = _acting(tx, person)
        return [_summary(common.definition(tx, i.template_version_id), i, code, now)
                for i, code in item_store.moved_by(tx, who.code, limit, offset)]


def involved(store: Store, person: PersonRow, now: datetime, offset: int = 0, limit: int = PAGE) -> list[ItemSummary]:
    """Items on which the person holds any role (我参与的), newest first."""
    with store.read() as tx:
        who = _acting(tx, person)
        return [_summary(common.definition(tx, i.template_version_id), i, code, now)
                for i, code in item_store.involving(tx, who.id, limit, offset)]


def is_staff(store: Store, person: PersonRow) -> bool:
    """Office and council staff (and administrators) see every item."""
    with store.read() as tx:
        return person.admin or directory.is_staff(tx, person.id)


def _visible(tx: Tx, who: PersonRow, item_id: int) -> bool:
    return who.admin or directory.is_staff(tx, who.id) or item_store.holds_any_role(tx, item_id, who.id)


def item_page(store: Store, person: PersonRow, item_id: int, now: datetime) -> ItemPage:
    """The item as the person may see it (NotFound when he may not: he learns nothing, not even that it exists)."""
    common.check_now(now)
    with store.read() as tx:
        who = _acting(tx, person)
        if item_store.get(tx, item_id) is None or not _visible(tx, who, item_id):
            raise NotFound(f"item {item_id} does not exist")
        d = item_detail(tx, item_id, now, who.code, rounds=True)
        item = item_store.get(tx, item_id)
        defn = common.definition(tx, item.template_version_id)
        holders = item_store.holders(tx, item_id)
        held = authority.roles_held(holders, who.id)
        state = defn.states[item.state]
        running = item.finished_at is None and item.paused_at is None
        moves = [_move_form(defn, t) for t in defn.transitions_from(item.state) if held & set(t.roles)] if running else []
        pending = [r for r in ext_store.of_item(tx, item_id) if r.status == ExtensionStatus.PENDING]
        decidable = [r.id for r in pending if r.requested_by != who.code and _approver(tx, defn, r, held)]
        assignable = [(r, defn.role_label(r)) for r in defn.roles if who.admin or held & set(defn.assigners_of(r))]
        late = overdue_workdays(common.calendar(tx, defn), item.due_at, now) if item.due_at and running else 0
        staff = who.admin or directory.is_staff(tx, who.id)
    return ItemPage(
        detail=d, history=history(store, item_id), moves=moves,
        may_pause=running and bool(held & set(state.pause_roles)),
        may_resume=item.paused_at is not None and bool(held & set(state.pause_roles)),
        may_request_extension=running and state.owner in held and bool(state.extension_approvers) and not pending
        and item.due_at is not None and now < item.due_at,
        decidable=decidable, assignable=assignable, overdue_workdays=late, staff=staff)


def _approver(tx: Tx, defn: Definition, req: ExtensionRow, held: set[str]) -> bool:
    step = item_store.step_by_id(tx, req.step_id)
    return bool(held & set(defn.states[step.state].extension_approvers))


def _move_form(defn: Definition, t) -> dict:
    fields = []
    for name in t.requires:
        spec = defn.fields[name]
        fields.append({"name": name, "label": spec.label, "type": spec.type, "choices": list(spec.choices)})
    return {"trigger": t.trigger, "label": t.label, "to": defn.states[t.dest].label, "fields": fields,
            "comment_required": t.comment_required, "guards": [g.describe() for g in t.guards]}


def item_history(store: Store, person: PersonRow, item_id: int) -> list[HistoryEntry]:
    with store.read() as tx:
        who = _acting(tx, person)
        if item_store.get(tx, item_id) is None or not _visible(tx, who, item_id):
            raise NotFound(f"item {item_id} does not exist")
    return history(store, item_id)


def item_for_api(store: Store, person: PersonRow, item_id: int, now: datetime) -> ItemDetail:
    common.check_now(now)
    with store.read() as tx:
        who = _acting(tx, person)
        if item_store.get(tx, item_id) is None or not _visible(tx, who, item_id):
            raise NotFound(f"item {item_id} does not exist")
        return item_detail(tx, item_id, now, who.code)


def visible_items(store: Store, person: PersonRow, now: datetime, **filters) -> list[ItemSummary]:
    """`items list` as the person may see it: every item for staff, else those he holds a role on."""
    with store.read() as tx:
        who = _acting(tx, person)
    return list_items(store, now, member=None if is_staff(store, who) else who.id, **filters)
