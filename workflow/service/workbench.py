"""What the workbench shows a person: his inbox (待办), the items he moved (已办) or holds a role on (我参与的),
an item if he may see it, and what he may do on it. Each person sees only what he may see."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from datetime import datetime

from .. import authority, caches
from ..calendar import overdue_workdays
from ..definition import Definition
from ..errors import InvalidInput, NotFound
from ..rows import PersonRow
from ..store import ExtensionStatus, Store, Tx, directory
from ..store import extensions as ext_store
from ..store import inbox as inbox_store
from ..store import items as item_store
from ..store import sub_items as sub_store
from ..store import templates as template_store
from . import common, views
from .views import (
    HistoryEntry,
    ItemDetail,
    ItemSummary,
    history,
    item_detail,
    list_items,
    summaries,
    summary,
)

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


@dataclass(eq=False)
class _Pairs:
    """Where each role may act, over every published version: what an inbox query is built from."""

    moves: list[tuple[str, int, str]]  # (role, version, state): the role may move an item on from there
    pauses: list[tuple[str, int, str]]  # (role, version, state): the role may resume a paused item there
    key_of: dict[int, str]  # version id → template key
    roles: list[str]  # every role that may do either
    all_roles: list[str]  # every role a template names (held, perhaps, without acting anywhere)
    templates: list[tuple[str, str]]  # (key, title) for the filter
    spawning: tuple[tuple[int, str], ...]  # (version, state) of the steps that hand work to sub-items


# engine → {version ids: pairs}. Versions are immutable: in one database the same set of ids gives the same pairs;
# another database (a test's, a second deployment's in one process) has ids of its own, so each has its own entry.
_PAIRS: weakref.WeakKeyDictionary = caches.register("inbox_pairs", weakref.WeakKeyDictionary())


def _pairs(tx: Tx) -> _Pairs:
    index = template_store.index(tx)
    ids = tuple(v for v, _k, _t in index)
    known = _PAIRS.setdefault(tx.conn.engine, {})
    found = known.get(ids)
    if found is None:
        moves, pauses = [], []
        for vid, _key, _title in index:
            defn = common.definition(tx, vid)
            for state in defn.states.values():
                if state.final:
                    continue
                moves += [(role, vid, state.name) for role in sorted({r for t in defn.transitions_from(state.name) for r in t.roles})]
                pauses += [(role, vid, state.name) for role in state.pause_roles]
        roles = sorted({r for r, _v, _s in moves + pauses})
        every = sorted({r for vid, _k, _t in index for r in common.definition(tx, vid).roles})
        found = known[ids] = _Pairs(moves, pauses, {v: k for v, k, _t in index}, roles, every,
                                     sorted({(k, t) for _v, k, t in index}), common.spawning(tx, ids))
    return found


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
        pairs = _pairs(tx)
        mine, few = inbox_store.reach(tx, who.id, pairs.roles)
        moves = [p for p in pairs.moves if p[0] in mine]
        pauses = [p for p in pairs.pauses if p[0] in mine]
        rows, held, counts = inbox_store.inbox(tx, who.id, moves, pauses, pairs.key_of, now, light=light, template=template,
                                              group_id=group_id, limit=limit, offset=offset, few=few, spawning=pairs.spawning)
        cal = common.calendar(tx)
        # only an item at a step that hands out sub-items has open ones (leaving the step closes them), and only
        # there does its light take theirs in (as the counts above, made in SQL, do)
        waiting = set(pairs.spawning)
        kids = sub_store.open_clocks(tx, [item.id for item, _g in rows if (item.template_version_id, item.state) in waiting])
        entries = [_entry(tx, item, code, held[item.id], now, cal, kids.get(item.id)) for item, code in rows]
        decisions = _decisions(tx, who, pairs.all_roles, now)
        return Inbox(counts, entries, decisions, pairs.templates)


def _entry(tx: Tx, item, group_code, held: set[str], now: datetime, cal, kids: list[tuple] | None) -> InboxEntry:
    defn = common.definition(tx, item.template_version_id)
    if item.paused_at is not None:
        actions = ["恢复（挂起中）"] if held & set(defn.states[item.state].pause_roles) else []
    else:
        actions = list(dict.fromkeys(t.label for t in defn.transitions_from(item.state) if held & set(t.roles)))
    late = overdue_workdays(cal, item.due_at, now) if item.due_at and not item.paused_at else 0
    return InboxEntry(summary(defn, item, group_code, now, kids), late, actions)


def _decisions(tx: Tx, who: PersonRow, roles: list[str], now: datetime) -> list[InboxEntry]:
    """Extension requests he may decide: on items where he holds, of `roles` (every role a template names: one that
    decides extensions may do nothing else), one that decides them at the request's step; not his own requests."""
    out = []
    for req in ext_store.pending_for(tx, who.id):
        if req.requested_by == who.code:
            continue
        item = item_store.get(tx, req.item_id)
        defn = common.definition(tx, item.template_version_id)
        step = item_store.step_by_id(tx, req.step_id)
        if step.left_at is not None:  # the step moved on: nothing left to decide
            continue
        held = inbox_store.roles_on(tx, who.id, roles, [item.id])[item.id]
        if held & set(defn.states[step.state].extension_approvers):
            out.append(InboxEntry(summary(defn, item, None, now), 0, [f"审批延期申请 #{req.id}（至 {req.new_date}）"]))
    return out


def moved(store: Store, person: PersonRow, now: datetime, offset: int = 0, limit: int = PAGE) -> list[ItemSummary]:
    """Items the person moved on (已办), most recent first."""
    with store.read() as tx:
        who = _acting(tx, person)
        return summaries(tx, inbox_store.moved_by(tx, who.code, limit, offset), now)


def involved(store: Store, person: PersonRow, now: datetime, offset: int = 0, limit: int = PAGE) -> list[ItemSummary]:
    """Items on which the person holds any role (我参与的), newest first."""
    with store.read() as tx:
        who = _acting(tx, person)
        roles = sorted(inbox_store.roles_anywhere(tx, who.id, _pairs(tx).all_roles))
        return summaries(tx, inbox_store.involving(tx, who.id, roles, limit, offset), now)


def _staff(tx: Tx, who: PersonRow) -> bool:
    """Office and council staff (and administrators) see every item."""
    return who.admin or directory.is_staff(tx, who.id)


def item_page(store: Store, person: PersonRow, item_id: int, now: datetime) -> ItemPage:
    """The item as the person may see it (NotFound when he may not: he learns nothing, not even that it exists)."""
    common.check_now(now)
    with store.read() as tx:
        who = _acting(tx, person)
        item = item_store.get(tx, item_id)
        if item is None:
            raise NotFound(f"事项 {item_id} 不存在", item=item_id)
        loaded = views.load(tx, item)
        held = authority.roles_held(loaded.holders, who.id)
        staff = _staff(tx, who)
        if not (held or staff):
            raise NotFound(f"事项 {item_id} 不存在", item=item_id)
        defn, state = loaded.defn, loaded.defn.states[item.state]
        d = views.detail(loaded, now, held, rounds=True)
        running = item.finished_at is None and item.paused_at is None
        moves = _move_forms(defn, [t for t in defn.transitions_from(item.state) if held & set(t.roles)]) if running else []
        pending = [r for r in loaded.extensions if r.status == ExtensionStatus.PENDING]
        steps = {st.id: st for st in loaded.steps}
        decidable = [r.id for r in pending if r.requested_by != who.code and r.step_id in steps
                     and steps[r.step_id].state in defn.states  # not a step left before a migration renamed its state
                     and held & set(defn.states[steps[r.step_id].state].extension_approvers)]
        assignable = [(r, defn.role_label(r)) for r in defn.roles if who.admin or held & set(defn.assigners_of(r))]
        late = overdue_workdays(common.calendar(tx, defn), item.due_at, now) if item.due_at and running else 0
        known = {p.code: p.name for ps in loaded.holders.values() for p in ps}
        hist = views.history_in(tx, item_id, defn, loaded.steps, known)
    return ItemPage(
        detail=d, history=hist, moves=moves,
        may_pause=running and bool(held & set(state.pause_roles)),
        may_resume=item.paused_at is not None and bool(held & set(state.pause_roles)),
        may_request_extension=running and state.owner in held and bool(state.extension_approvers) and not pending
        and item.due_at is not None and now < item.due_at,
        decidable=decidable, assignable=assignable, overdue_workdays=late, staff=staff)


def _move_forms(defn: Definition, transitions: list) -> list[dict]:
    """One form per trigger. A trigger whose transitions the guards choose between (the vote: 满意 → 跟踪督办, 不满意 →
    整改) is one form: the values decide where the item goes, so the person is not asked to pick the outcome."""
    by_trigger: dict[str, list] = {}
    for t in transitions:
        by_trigger.setdefault(t.trigger, []).append(t)
    out = []
    for trigger, ts in by_trigger.items():
        fields: list[dict] = []
        for t in ts:
            for f in _fields_of(defn, t):
                if all(f["name"] != g["name"] for g in fields):
                    fields.append(f)
        if len(ts) == 1:
            t = ts[0]
            out.append({"trigger": trigger, "label": t.label, "to": defn.states[t.dest].label, "fields": fields,
                        "comment_required": t.comment_required, "comment_hint": "", "guards": [g.describe() for g in t.guards],
                        "outcomes": []})
            continue
        outcomes = [{"label": t.label, "to": defn.states[t.dest].label, "comment_required": t.comment_required} for t in ts]
        out.append({"trigger": trigger, "label": _trigger_label(defn, ts), "to": " / ".join(dict.fromkeys(o["to"] for o in outcomes)),
                    "fields": fields, "comment_required": all(t.comment_required for t in ts),
                    "comment_hint": "、".join(o["label"] for o in outcomes if o["comment_required"]),
                    "guards": [], "outcomes": outcomes})
    return out


def _trigger_label(defn: Definition, ts: list) -> str:
    """A name for a trigger with several outcomes: the step it records (满意度测评), else its id."""
    return f"记录{defn.states[ts[0].sources[0]].label}结果" if len(ts[0].sources) == 1 else ts[0].trigger


def _fields_of(defn: Definition, t) -> list[dict]:
    fields = []
    for name in t.requires:
        spec = defn.fields[name]
        if spec.tally is not None:  # a counted vote: the form asks for the counts, the engine computes the result
            tl = spec.tally
            for count in tl.count_fields():
                c = defn.fields[count]
                fields.append({"name": count, "label": c.label, "type": c.type, "choices": [],
                               "optional": count in (tl.basic, tl.abstain)})
            continue
        fields.append({"name": name, "label": spec.label, "type": spec.type, "choices": list(spec.choices), "optional": False})
    return fields


def item_history(store: Store, person: PersonRow, item_id: int) -> list[HistoryEntry]:
    with store.read() as tx:
        who = _acting(tx, person)
        if item_store.get(tx, item_id) is None or not common.may_see(tx, who, item_id):
            raise NotFound(f"事项 {item_id} 不存在", item=item_id)
    return history(store, item_id)


def item_for_api(store: Store, person: PersonRow, item_id: int, now: datetime) -> ItemDetail:
    common.check_now(now)
    with store.read() as tx:
        who = _acting(tx, person)
        if item_store.get(tx, item_id) is None or not common.may_see(tx, who, item_id):
            raise NotFound(f"事项 {item_id} 不存在", item=item_id)
        return item_detail(tx, item_id, now, who.code)


def visible_items(store: Store, person: PersonRow, now: datetime, **filters) -> list[ItemSummary]:
    """`items list` as the person may see it: every item for staff, else those he holds a role on."""
    with store.read() as tx:
        who = _acting(tx, person)
        staff = _staff(tx, who)
    return list_items(store, now, member=None if staff else who.id, **filters)
