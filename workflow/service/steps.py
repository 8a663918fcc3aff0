"""Entering and leaving steps: a new item's first step, a step's times and handover notice, the system's own
moves, and the sub-items a step hands to several units (created on entry, joined when done, closed on leaving)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .. import notice_data
from ..calendar import WorkCalendar, overdue_workdays
from ..deadlines import step_times
from ..definition import WATCH, Definition
from ..errors import Conflict, InvalidInput
from ..machine import ItemModel, fire
from ..present import exact, fmt
from ..rows import Holder, ItemRow, LockedItem, StepRow
from ..store import LEFT_WITH_PARENT, StepStatus, Store, Tx, directory
from ..store import audit as audit_store
from ..store import items as item_store
from ..store import organisations as org_store
from ..store import outbox as outbox_store
from ..store import progress as progress_store
from ..store import sub_items as sub_store
from ..store import templates as template_store
from . import common

SYSTEM = "系统"  # how a move the system makes (a join) is signed in notices


def open_step(tx: Tx, store: Store, defn: Definition, item: ItemRow, state_name: str, now: datetime, cal: WorkCalendar, *,
              actor: str | None, via: str | None, seq: int, holders: dict[str, list[Holder]], actor_name: str,
              comment: str | None = None, round_values: dict[str, Any] | None = None) -> StepRow:
    """Enter a state: a new step row (visit `seq`) with its times, the item's current-step columns, the handover notice.

    The item row is changed here in memory; the caller writes it, records the move, then calls `hand_out`.
    """
    state = defn.states[state_name]
    step = StepRow(id=0, item_id=item.id, seq=seq, state=state_name, entered_at=now, entered_by=actor, entered_via=via,
                   due_at=None, due_rule=None, provisional=False, yellow_at=None, next_escalation_at=None, next_rung=0,
                   status=StepStatus.OPEN, paused_at=None, extra_units=0, extended_to=None, left_at=None, left_by=None,
                   left_via=None, fields=round_values or {})
    if state.final:
        step.status, step.left_at = StepStatus.CLOSED, now
        item.finished_at = now
    else:
        t = step_times(cal, defn, state, common.dated(tx, defn, item.fields), entered_at=now)
        step.due_at, step.due_rule, step.provisional = t.due_at, t.due_rule, t.provisional
        step.yellow_at, step.next_escalation_at = t.yellow_at, t.next_escalation_at
    step.id = item_store.insert_step(tx, {c: getattr(step, c) for c in item_store.STEP_COLUMNS})
    item.state, item.current_step_id, item.owner_role = state_name, step.id, state.owner
    item.due_at, item.yellow_at, item.paused_at = step.due_at, step.yellow_at, None
    if defn.handover_notice and state.owner and not state.final:
        to, cc = notice_data.readers(defn, state_name, (state.owner,) + state.cc, holders)
        hooks = directory.webhooks_of(tx, [p.id for _l, p in to + cc]) if to or cc else {}
        units = {u.id: u for ps in hooks.values() for u in ps}
        rows, _missing = notice_data.message_rows(notice=defn.handover_notice, key=f"h{step.id}", to=to, cc=cc, defn=defn, item=item,
                                                  step=step, holders=holders, now=now, settings=store.settings, cal=common.calendar(tx, defn),
                                                  webhooks=list(units.values()), handed_by=actor_name, comment=comment or "")
        outbox_store.queue(tx, rows)
    return step


def count_closed(tx: Tx, item_id: int, step: StepRow, now: datetime, digest: str | None = None) -> None:
    """The board's progress counts learn that a step was left by a move: on time or how many working days late
    (China's working days, whatever calendar the template counts its deadlines with: the board compares alike)."""
    if step.due_at is not None:
        late = overdue_workdays(common.calendar(tx, None, digest), step.due_at, now)
        progress_store.step_closed(tx, item_id, now, now <= step.due_at, late)


def start_item(tx: Tx, store: Store, defn: Definition, version_id: int, *, title: str, fields: dict[str, Any],
               holders_ids: dict[str, list[int]], group_unit_id: int | None, now: datetime, actor: str | None,
               actor_name: str, audit_data: dict[str, Any] | None = None,
               organisation_id: int | None = None) -> tuple[int, StepRow]:
    """Insert an item with its role holders, enter its first step, record its creation; → (id, first step)."""
    item_id = item_store.insert_item(
        tx, template_version_id=version_id, template_key=defn.key, title=title, state=defn.initial, version=1, fields=fields,
        counters={c: 0 for c in defn.counters}, created_at=now, created_by=actor, group_unit_id=group_unit_id,
        updated_at=now, organisation_id=organisation_id)
    item_store.add_assignments(tx, item_id, holders_ids, now, actor)
    progress_store.item_created(tx, item_id, now)
    item = common.item(tx, item_id)
    holders = item_store.holders(tx, item_id)
    step = open_step(tx, store, defn, item, defn.initial, now, common.calendar(tx, defn), actor=actor, via=None, seq=1,
                     holders=holders, actor_name=actor_name, round_values=fields)
    item_store.update_item(tx, item_id, current_step_id=item.current_step_id, owner_role=item.owner_role,
                           due_at=item.due_at, yellow_at=item.yellow_at, finished_at=item.finished_at)
    audit_store.append(tx, at=now, actor=actor, kind="created", item_id=item_id, to_state=defn.initial,
                       data={"title": title, "template": defn.key, "version_id": version_id, "fields": fields,
                             "assignments": {r: [p.code for p in ps] for r, ps in holders.items()},
                             "step_id": step.id, "due": fmt(step.due_at), "due_at": exact(step.due_at),
                             **({"organisation_id": organisation_id} if organisation_id is not None else {}),
                             **(audit_data or {})})
    hand_out(tx, store, defn, item, step, now, actor, actor_name)
    return item_id, step


# --- sub-items ---------------------------------------------------------------------------------------------------

def hand_out(tx: Tx, store: Store, defn: Definition, item: ItemRow, step: StepRow, now: datetime, actor: str | None,
             actor_name: str) -> None:
    """At a step that hands work out (`spawn`), one child item per unit of the `for_each` field: the unit's members
    hold the roles they hold in it, the other roles are the parent's holders; the child takes the parent's values
    of the fields it has (same name and type). Nothing at any other step."""
    state = defn.states[step.state]
    sp = state.spawn
    if sp is None:
        return
    holders = item_store.holders(tx, item.id)
    spec = defn.fields[sp.for_each]
    codes = item.fields.get(sp.for_each) or []
    if not codes:
        raise InvalidInput(f"事项 {item.id}：「{state.label}」环节要分别交办给“{spec.label}”中的每个单位，但一个单位也没有填",
                           item=item.id, fields=[sp.for_each])
    made = []
    for position, code in enumerate(codes):
        unit = directory.unit(tx, code)
        if unit is None:
            raise InvalidInput(f"事项 {item.id}：“{spec.label}”中的单位“{code}”已不存在", item=item.id)
        # each sub-item on the version published nearest to its unit's organisation
        tv = template_store.latest(tx, sp.template, org_store.chain(tx, unit.organisation_id))
        if tv is None:
            raise InvalidInput(f"事项 {item.id}：「{state.label}」环节要交办为流程模板“{sp.template}”的子事项，该模板尚未发布："
                               "请管理员先发布它", item=item.id, template=sp.template, next="publish")
        child = common.definition_of(tv)
        values = {k: v for k, v in item.fields.items() if k in child.fields and k in defn.fields
                  and child.fields[k].type == defn.fields[k].type and child.fields[k].type not in ("tally", "meeting")}
        owner = child.states[child.initial].owner
        ids = directory.default_holders(tx, [unit.id], list(child.roles), unit.organisation_id)
        if owner and not directory.unit_holders(tx, unit.id, [owner]):
            raise InvalidInput(f"事项 {item.id}：单位“{unit.name}”中没有人担任{child.role_label(owner)}，无人承办它的子事项："
                               "请在人员名录中为该单位添加成员", item=item.id, unit=code, role=owner)
        for role in child.roles:  # what the unit does not fill, the parent's holders do (the group lead, the committee)
            if not ids.get(role) and holders.get(role):
                ids[role] = [h.id for h in holders[role]]
        if unit.organisation_id != item.organisation_id:  # 联动: another 人大's item, which the parent's side watches
            watching = {h.id: None for r in sp.watcher_roles(defn.roles) for h in holders.get(r, ())}
            if watching:
                ids[WATCH] = list(watching)
        part = sp.part(position)
        title = f"{item.title[:400]}（{unit.name}·{part}）"
        child_id, _first = start_item(tx, store, child, tv.id, title=title, fields=values, holders_ids=ids,
                                      group_unit_id=item.group_unit_id, organisation_id=unit.organisation_id, now=now, actor=actor, actor_name=actor_name,
                                      audit_data={"parent": item.id, "parent_step_id": step.id, "unit": code, "part": part})
        sub_store.add(tx, parent_id=item.id, parent_step_id=step.id, child_id=child_id, unit_id=unit.id, position=position)
        made.append({"id": child_id, "unit": code, "part": part})
    audit_store.append(tx, at=now, actor=actor, kind="spawned", item_id=item.id, from_state=step.state, to_state=step.state,
                       data={"step_id": step.id, "template": sp.template, "join": sp.join, "then": sp.then, "children": made})


def after_leaving(tx: Tx, store: Store, defn: Definition, item: ItemRow, left: StepRow, now: datetime, actor: str | None,
                  reason: str) -> None:
    """What follows an item leaving step `left`: its open sub-items are closed (with `reason`); an item that has
    finished and was itself handed out lets its parent's join decide."""
    if defn.states.get(left.state) is not None and defn.states[left.state].spawn is not None:
        close_children(tx, left.id, now, actor, reason)
    if item.finished_at is not None:
        _join(tx, store, item.id, now)


def close_children(tx: Tx, parent_step_id: int, now: datetime, actor: str | None, reason: str) -> list[int]:
    """Close the open children a step handed out (their own sub-items too), in id order; → their ids."""
    closed = []
    for sub in sorted(sub_store.of_step(tx, parent_step_id), key=lambda s: s.child_id):
        if sub.finished_at is not None:
            continue
        locked = common.locked_item(tx, sub.child_id)
        child, step = locked.item, locked.step
        item_store.update_step(tx, step.id, status=StepStatus.CLOSED, left_at=now, left_by=None, left_via=LEFT_WITH_PARENT,
                               next_escalation_at=None)
        item_store.update_item(tx, child.id, finished_at=now, version=child.version + 1, updated_at=now)
        sub_store.mark_closed(tx, sub.id, now, reason)
        audit_store.append(tx, at=now, actor=actor, kind="closed", item_id=child.id, from_state=child.state,
                           to_state=child.state, data={"reason": reason, "parent": sub.parent_id, "step_id": step.id})
        child_defn = common.definition(tx, child.template_version_id)
        if child.state in child_defn.states and child_defn.states[child.state].spawn is not None:
            close_children(tx, step.id, now, actor, f"上级事项 {child.id} 已关闭")
        closed.append(child.id)
    return closed


def _join(tx: Tx, store: Store, child_id: int, now: datetime) -> None:
    """A child finished: if its parent still waits at the step that handed it out and the join rule now holds,
    the system makes the step's `then` move."""
    link = sub_store.link_of_child(tx, child_id)
    if link is None or link.closed_at is not None:
        return
    locked = common.locked_item(tx, link.parent_id)
    parent = locked.item
    if parent.finished_at is not None or parent.current_step_id != link.parent_step_id:
        return
    defn = common.definition(tx, parent.template_version_id)
    sp = defn.states[parent.state].spawn if parent.state in defn.states else None
    if sp is None:
        return
    kids = sub_store.of_step(tx, link.parent_step_id)
    done = [k for k in kids if k.finished_at is not None and k.closed_at is None]
    holds = {"all": len(done) == len(kids), "any": bool(done), "lead": bool(kids) and kids[0] in done}[sp.join]
    if not holds:
        return
    names = "、".join(k.unit_name for k in done)
    why = {"all": f"各承办单位（{names}）均已办结", "any": f"{names}已办结",
           "lead": f"{sp.lead}单位{kids[0].unit_name}已办结"}[sp.join]
    system_move(tx, store, locked, defn, sp.then, now, why, {"join": sp.join, "children_done": [k.child_id for k in done]})


def system_move(tx: Tx, store: Store, locked: LockedItem, defn: Definition, trigger: str, now: datetime, why: str,
                data: dict[str, Any]) -> None:
    """The system moves an item on by a trigger that needs no values (a join's `then`): audited with no actor."""
    item, step = locked.item, locked.step
    before, version = item.state, item.version
    chosen = next(t for t in defn.transitions_from(item.state) if t.trigger == trigger)
    model = ItemModel(item.state, defn.round_view(item.fields, step.fields or {}), dict(item.counters))
    if not fire(defn, model, trigger) or model.state != chosen.dest:
        raise InvalidInput(f"事项 {item.id}：系统无法从当前环节自动办理这一步（{trigger}）", item=item.id)
    item_store.close_step(tx, step.id, at=now, by=None, via=trigger, fields=step.fields or {})
    count_closed(tx, item.id, step, now, locked.calendar_digest)
    item.counters, item.updated_at = model.counters, now
    new_step = open_step(tx, store, defn, item, model.state, now, common.calendar(tx, defn, locked.calendar_digest),
                         actor=None, via=trigger, seq=step.seq + 1, holders=item_store.holders(tx, item.id),
                         actor_name=SYSTEM, comment=why)
    if not item_store.move_item(tx, item, version):
        raise Conflict(f"事项 {item.id} 在此期间已被他人更新：请重新查看后再办理", item=item.id, next="show_item")
    audit_store.append(tx, at=now, actor=None, kind="advanced", item_id=item.id, from_state=before, to_state=item.state,
                       data={"trigger": trigger, "label": chosen.label, "step_id": new_step.id, "left_step_id": step.id,
                             "due": fmt(new_step.due_at), "due_at": exact(new_step.due_at), "by": "system", "comment": why,
                             **data})
    hand_out(tx, store, defn, item, new_step, now, None, SYSTEM)
    after_leaving(tx, store, defn, item, step, now, None, f"上级事项 {item.id} 已进入「{defn.states[item.state].label}」（{why}）")
