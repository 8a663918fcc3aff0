"""Items as a viewer may read them: lists, one item, its history (people, versions, calendar: service.lookups)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ... import authority
from ...deadlines import LIGHTS, light
from ...definition import Definition, Spawn
from ...errors import InvalidInput
from ...present import LIGHT_CN, actor_label, fmt, kind_label, local_iso
from ...rows import ItemBrief, ItemRow, StepRow, SubItemRow
from ...store import Store, Tx, directory
from ...store import audit as audit_store
from ...store import extensions as ext_store
from ...store import items as item_store
from ...store import sub_items as sub_store
from .. import common
from .shapes import (
    ChildInfo,
    ExtensionInfo,
    HistoryEntry,
    ItemDetail,
    ItemSummary,
    MoveInfo,
    ParentInfo,
    RoleHolders,
    StepInfo,
)
from .viewer import Viewer, check_sees, person_of, sees_all, staff_orgs

MAX_LIMIT = 10_000


# --- items -------------------------------------------------------------------------------------

def worst_light(own: str, kids: list[tuple] | None, now: datetime) -> str:
    """The light of an item whose step waits on sub-items: the worst of its own and its open children's."""
    lights = [own] + [light(due, yellow, now, paused) for due, yellow, paused in kids or ()]
    return max(lights, key=LIGHTS.index)


def summary(defn: Definition, item: ItemRow | ItemBrief, group_code: str | None, now: datetime,
            kids: list[tuple] | None = None, group_name: str | None = None) -> ItemSummary:
    """`kids`: the (due, yellow, paused) clocks of the item's open sub-items, which its light takes in."""
    st = defn.states[item.state]
    finished = item.finished_at is not None
    lt = None if finished else worst_light(light(item.due_at, item.yellow_at, now, item.paused_at), kids, now)
    return ItemSummary(
        id=item.id, title=item.title, template=item.template_key, version=item.version, state=item.state,
        state_label=st.label, group=group_code, owner_role=item.owner_role,
        owner_role_label=defn.roles.get(item.owner_role or "") if item.owner_role else None,
        due=None if finished else fmt(item.due_at), due_at=None if finished else local_iso(item.due_at),
        light=lt, light_label=LIGHT_CN.get(lt or "", "办结" if finished else "—"), paused=item.paused_at is not None,
        finished=finished, created_at=local_iso(item.created_at), template_title=defn.title,
        group_name=group_name or group_code)


def list_items(store: Store, viewer: Viewer, now: datetime, *, template: str | None = None, state: str | None = None,
               group: str | None = None, owner: str | None = None, light_is: str | None = None,
               include_finished: bool = True, limit: int = 50, offset: int = 0, sort: str = "recent") -> list[ItemSummary]:
    """The items the viewer may see, filtered, newest first or in the order `sort` names (recent, due, light,
    updated); each with its step, due time and light (staff and the operator see every item, anyone else those he
    holds a role on)."""
    common.check_now(now)
    if sort not in item_store.LIST_SORTS:
        raise InvalidInput(f"排序“{common.shown(str(sort))}”应是 {'、'.join(item_store.LIST_SORTS)} 之一", parameter="sort")
    if light_is is not None and light_is not in LIGHTS:
        raise InvalidInput(f"灯色“{common.shown(light_is)}”不是 {'、'.join(LIGHTS)} 之一", field="light", parameter="light")
    if not 1 <= limit <= MAX_LIMIT or not 0 <= offset <= 10**12:
        raise InvalidInput(f"每页条数应在 1 到 {MAX_LIMIT} 之间，起始位置应在 0 到 10^12 之间", field="limit", parameter="limit")
    with store.read() as tx:
        who = person_of(tx, viewer)
        member = None if sees_all(tx, who) else who.id
        orgs = staff_orgs(tx, who) if member is not None else None
        owner_id = common.person(tx, owner).id if owner else None
        rows = item_store.search(tx, now, template=template, state=state, group=group, owner_id=owner_id, light=light_is,
                                 include_finished=include_finished, limit=limit, offset=offset, member_id=member, orgs=orgs,
                                 spawning=common.spawning(tx), sort=sort)
        return summaries(tx, rows, now)


def summaries(tx: Tx, rows: list[tuple[ItemBrief, str | None]], now: datetime) -> list[ItemSummary]:
    """List rows (item, group code) as summaries, each light taking in the item's open sub-items."""
    kids = sub_store.open_clocks(tx, [item.id for item, _c in rows])
    names = directory.unit_names(tx, {code for _i, code in rows if code})
    return [summary(common.definition(tx, item.template_version_id), item, code, now, kids.get(item.id), names.get(code))
            for item, code in rows]


def _rounds(steps: list[StepRow]) -> dict[int, int]:
    """Step id → which visit of its state it is (1, 2, …)."""
    seen: dict[str, int] = {}
    out = {}
    for st in steps:
        seen[st.state] = seen.get(st.state, 0) + 1
        out[st.id] = seen[st.state]
    return out


def _step_info(defn: Definition, st: StepRow, round_no: int, label: str | None = None) -> StepInfo:
    return StepInfo(
        id=st.id, seq=st.seq, state=st.state, label=label or defn.states[st.state].label, round=round_no, entered=fmt(st.entered_at),
        entered_by=st.entered_by, via=st.entered_via, due=fmt(st.due_at), due_at=local_iso(st.due_at), due_rule=st.due_rule,
        provisional=bool(st.provisional), paused_since=fmt(st.paused_at) if st.paused_at else None,
        next_escalation=fmt(st.next_escalation_at) if st.next_escalation_at else None,
        left=fmt(st.left_at) if st.left_at else None, left_by=st.left_by, status=str(st.status), values=dict(st.fields or {}))


def show_item(store: Store, viewer: Viewer, item_id: int, now: datetime, rounds: bool = False) -> ItemDetail:
    """Everything about one item the viewer may see: step, owner, light, this round's fields, holders, steps, and the
    next moves, each marked whether he may make it (not for the operator, who holds no role)."""
    common.check_now(now)
    with store.read() as tx:
        who = person_of(tx, viewer)
        check_sees(tx, who, item_id)
        loaded = load(tx, common.item(tx, item_id))
        held = authority.roles_held(loaded.holders, who.id) if who is not None else None
        return detail(loaded, now, held, rounds)


@dataclass(eq=False)
class Loaded:
    """What an item's page is made of, read once: the item, its template, group, holders, steps, extensions."""

    item: ItemRow
    defn: Definition
    version_id: int
    group: str | None
    holders: dict[str, list[Any]]
    steps: list[StepRow]
    extensions: list[Any]
    old_labels: dict[str, str] = field(default_factory=dict)  # states of steps before a live migration, by label
    children: list[SubItemRow] = field(default_factory=list)
    parent: tuple[SubItemRow, ItemRow, Definition, str] | None = None  # the link, the parent, its template, the step's state
    child_labels: dict[tuple[int, str], str] = field(default_factory=dict)  # (version id, state) → label


def load(tx: Tx, item: ItemRow) -> Loaded:
    defn = common.definition(tx, item.template_version_id)
    group = directory.unit_by_id(tx, item.group_unit_id).code if item.group_unit_id else None
    steps = item_store.steps_of(tx, item.id)
    old = {st.state: common.state_label(tx, defn, item.template_version_id, st.state) for st in steps if st.state not in defn.states}
    children = sub_store.of_parent(tx, item.id)
    link = sub_store.link_of_child(tx, item.id)
    parent = None
    if link is not None:
        p = common.item(tx, link.parent_id)
        pdefn = common.definition(tx, p.template_version_id)
        parent = (link, p, pdefn, item_store.step_by_id(tx, link.parent_step_id).state)
    labels = {(k.template_version_id, k.state): common.state_label(tx, common.definition(tx, k.template_version_id),
                                                                   k.template_version_id, k.state) for k in children}
    return Loaded(item, defn, item.template_version_id, group, item_store.holders(tx, item.id), steps,
                  ext_store.of_item(tx, item.id), old, children, parent, labels)


def detail(loaded: Loaded, now: datetime, held: set[str] | None, rounds: bool = False) -> ItemDetail:
    """The item as `items show` and the item page give it; `held` (the viewer's roles) marks the moves he may make."""
    item, defn, holders, steps = loaded.item, loaded.defn, loaded.holders, loaded.steps
    open_kids = [(k.due_at, k.yellow_at, k.paused_at) for k in loaded.children if k.finished_at is None]
    s = summary(defn, item, loaded.group, now, open_kids)
    round_of = _rounds(steps)
    current = next(st for st in steps if st.id == item.current_step_id)
    view = defn.round_view(item.fields, current.fields or {})
    moves = [MoveInfo(t.trigger, t.label, t.dest, defn.states[t.dest].label, list(t.roles), [defn.role_label(r) for r in t.roles],
                      list(t.requires), t.comment_required, [g.describe() for g in t.guards], t.guards_hold(view, item.counters),
                      bool(held & set(t.roles)) if held is not None else None)
             for t in defn.transitions_from(item.state)]
    infos = [_step_info(defn, st, round_of[st.id], loaded.old_labels.get(st.state)) for st in steps]
    return ItemDetail(
        id=item.id, title=item.title, template=item.template_key, template_title=defn.title, template_version=loaded.version_id,
        template_hash=defn.content_hash[:12], version=item.version, state=item.state, state_label=s.state_label,
        group=loaded.group, owner_role=item.owner_role, owner_role_label=s.owner_role_label,
        owners=[f"{p.name} ({p.code})" for p in holders.get(item.owner_role or "", [])],
        due=s.due, due_at=s.due_at, light=s.light, light_label=s.light_label, paused=s.paused, finished=s.finished,
        created_at=s.created_at, fields=view, counters=dict(item.counters),
        roles=[RoleHolders(r, defn.role_label(r), [f"{p.name} ({p.code})" for p in ps]) for r, ps in holders.items()],
        step=_step_info(defn, current, round_of[current.id]), next=moves,
        extensions=[ExtensionInfo(r.id, str(r.status), r.new_date.isoformat(), r.reason, r.requested_by, r.decided_by)
                    for r in loaded.extensions],
        steps=infos, earlier_rounds=[i for i in infos if i.id != current.id and i.values] if rounds else None,
        children=_children(loaded, now), parent=_parent(loaded))


_NO_SPAWN = Spawn("", "", "")  # the default words, for a step a live migration left without its `spawn`


def _children(loaded: Loaded, now: datetime) -> list[ChildInfo]:
    seq_of = {st.id: st.seq for st in loaded.steps}
    out = []
    for k in loaded.children:
        state = loaded.defn.states.get(next((st.state for st in loaded.steps if st.id == k.parent_step_id), ""))
        sp = state.spawn if state is not None else None
        part = (sp or _NO_SPAWN).part(k.position)
        finished = k.finished_at is not None
        lt = None if finished else light(k.due_at, k.yellow_at, now, k.paused_at)
        out.append(ChildInfo(k.child_id, k.title, k.unit_code, k.unit_name, part, seq_of.get(k.parent_step_id, 0), k.state,
                             loaded.child_labels.get((k.template_version_id, k.state), k.state),
                             None if finished else fmt(k.due_at), lt,
                             LIGHT_CN.get(lt or "", "已关闭" if k.closed_at else "办结"), finished, k.closed_reason))
    return out


def _parent(loaded: Loaded) -> ParentInfo | None:
    if loaded.parent is None:
        return None
    link, p, pdefn, state_name = loaded.parent
    state = pdefn.states.get(state_name)
    sp = state.spawn if state is not None else None
    part = (sp or _NO_SPAWN).part(link.position)
    return ParentInfo(p.id, p.title, state.label if state is not None else state_name,
                      link.unit_code, link.unit_name, part, sp.join if sp else None, link.closed_reason)


def history(store: Store, viewer: Viewer, item_id: int) -> list[HistoryEntry]:
    """The audit events of an item the viewer may see, oldest first, each with the round of the step it concerns."""
    with store.read() as tx:
        check_sees(tx, person_of(tx, viewer), item_id)
        item = common.item(tx, item_id)
        return history_in(tx, item_id, common.definition(tx, item.template_version_id), item_store.steps_of(tx, item_id))


def history_in(tx: Tx, item_id: int, defn: Definition, steps: list[StepRow],
               known: dict[str, str] | None = None, events: list | None = None) -> list[HistoryEntry]:
    """The history inside a transaction; `known` names (code → name, the item's role holders) spare a lookup, and
    `events` the item's audit events a read of them."""
    events = audit_store.of_item(tx, item_id) if events is None else events
    names = dict(known or {})
    names |= directory.names_of(tx, {e.actor for e in events if e.actor and e.actor not in names})
    version_id = item_store.get(tx, item_id).template_version_id if any(
        s not in defn.states for e in events for s in (e.from_state, e.to_state) if s) else 0
    label = lambda s: defn.states[s].label if s in defn.states else common.state_label(tx, defn, version_id, s)  # noqa: E731
    round_of = _rounds(steps)
    out = []
    for e in events:
        data = e.data if isinstance(e.data, dict) else {"value": e.data}
        step_id = data.get("left_step_id") or data.get("step_id")
        out.append(HistoryEntry(e.seq, fmt(e.at), local_iso(e.at), e.actor, actor_label(e.actor, names), e.kind, kind_label(e.kind),
                                e.from_state, label(e.from_state) if e.from_state else None, e.to_state,
                                label(e.to_state) if e.to_state else None,
                                round_of.get(step_id) if isinstance(step_id, int) else None, data))
    return out
