"""Use cases that change items, one transaction each: create, advance, set fields, assign and unassign roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .. import authority, notice_data
from ..deadlines import step_times
from ..definition import Definition
from ..errors import Conflict, GuardFailed, InvalidInput, NotFound, NotPermitted
from ..machine import ItemModel, fire
from ..present import exact, fmt, local_iso
from ..rows import Holder, ItemRow, PersonRow, StepRow
from ..store import LEFT_WITH_PARENT, StepStatus, Store, Tx, directory
from ..store import audit as audit_store
from ..store import items as item_store
from ..store import organisations as org_store
from ..store import outbox as outbox_store
from ..store import sub_items as sub_store
from . import common, documents, steps
from .values import empty, values_given

MAX_TITLE = 500
MAX_TEXT = 10_000


@dataclass
class Created:
    id: int
    title: str
    template: str
    version: int
    state: str
    state_label: str
    due: str
    due_at: str | None


@dataclass
class Moved:
    item: int
    version: int
    trigger: str
    label: str
    from_state: str
    from_label: str
    to_state: str
    to_label: str
    step: int
    due: str
    due_at: str | None
    finished: bool


@dataclass
class FieldsSet:
    item: int
    version: int
    fields_changed: dict[str, list[Any]]
    due: str
    due_at: str | None
    recomputed: bool


@dataclass
class Assigned:
    item: int
    version: int
    role: str
    role_label: str
    holders: list[str]
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    notified: list[str] = field(default_factory=list)


# --- create ------------------------------------------------------------------------------------

def create_item(store: Store, actor: str, *, template: str, title: str, now: datetime, group: str | None = None,
                units: tuple[str, ...] = (), fields: dict[str, Any] | None = None,
                assign: dict[str, list[str]] | None = None) -> Created:
    """Start an item on the newest version of a template; roles default from the group's and all-items units' memberships.

    The creator must be someone who may act on the item's first step (as its roles will be), or an
    administrator; roles given with `assign` follow the template's `assignable_by`.
    """
    return common.guarded(store, actor, now, f"create {template}", None,
                          lambda tx: create_in(tx, store, actor, template=template, title=title, now=now, group=group,
                                               units=units, fields=fields, assign=assign))


def create_in(tx: Tx, store: Store, actor: str, *, template: str, title: str, now: datetime, group: str | None = None,
              units: tuple[str, ...] = (), fields: dict[str, Any] | None = None,
              assign: dict[str, list[str]] | None = None) -> Created:
    """create_item inside the caller's transaction (bulk loads, benchmarks)."""
    who = common.acting(tx, actor)
    unit_rows = []
    for code in ((group,) if group else ()) + tuple(units):
        u = directory.unit(tx, code)
        if u is None:
            raise NotFound(f"没有代码为“{common.shown(code)}”的单位", unit=common.shown(code), next="list_units")
        unit_rows.append(u)
    orgs = {u.organisation_id for u in unit_rows}
    if len(orgs) > 1:
        raise InvalidInput("一个事项只属于一个人大：所列单位分属不同的组织（" + "、".join(
            f"{u.name}" for u in unit_rows) + "）", field="group", units=[u.code for u in unit_rows])
    organisation_id = next(iter(orgs), None)
    tv, defn = common.latest_version(tx, template, org_store.chain(tx, organisation_id))  # the nearest publication
    holders_ids = directory.default_holders(tx, [u.id for u in unit_rows], list(defn.roles), organisation_id)
    for role, codes in (assign or {}).items():
        if role not in defn.roles:
            raise InvalidInput(f"流程“{defn.title}”没有角色“{common.shown(role)}”（可选：{'、'.join(defn.roles.values())}）")
        holders_ids[role] = [_active(tx, c).id for c in codes]
    held = {r for r, pids in holders_ids.items() if who.id in pids}
    authority.create(defn, who, held, (assign or {}).keys())
    if who.code in {c for cs in (assign or {}).values() for c in cs} and not who.admin:
        raise NotPermitted(f"{who.name}（{who.code}）新建事项时不能给自己授予角色")
    title = common.text_in((title or "").strip(), "标题", one_line=True)
    if not title:
        raise InvalidInput("事项需要标题", field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"标题有 {len(title)} 个字，最多 {MAX_TITLE} 个", field="title")
    values = values_given(tx, defn, fields, {}, None)
    item_id, step = steps.start_item(tx, store, defn, tv.id, title=title, fields=values, holders_ids=holders_ids,
                                     group_unit_id=unit_rows[0].id if group else None,
                                     organisation_id=organisation_id, now=now, actor=actor,
                                     actor_name=who.name)
    st = defn.states[defn.initial]
    return Created(item_id, title, defn.key, 1, defn.initial, st.label, fmt(step.due_at), local_iso(step.due_at))


def _active(tx: Tx, code: str) -> PersonRow:
    p = common.person(tx, code)
    if not p.active:
        raise InvalidInput(f"{p.name}（{p.code}）的账号已停用，不能授予角色")
    return p


# --- advance -----------------------------------------------------------------------------------

def current_version(store: Store, item_id: int) -> int:
    """The item's version now: what a person acting on what they just saw expects."""
    v = item_store.version_of(store, item_id)
    if v is None:
        raise NotFound(f"事项 {item_id} 不存在", item=item_id)
    return v


def advance(store: Store, actor: str, item_id: int, trigger: str, now: datetime, *, comment: str | None = None,
            fields: dict[str, Any] | None = None, expected_version: int | None = None,
            files: documents.Given | None = None) -> Moved:
    """Move an item on by a trigger, checking everything in one transaction.

    Order: the person exists and is active → holds a role the move needs → the step is not paused
    → the time is not before the item's last event → the version is the one the person saw
    (`expected_version`; Conflict otherwise) → the fields (this round's values) and the guards.
    Refusals (NotPermitted, TriggerNotAllowed, GuardFailed) are recorded in the audit trail. `files` gives file
    fields their files (field → [(name, stream)]): judged, and kept only if the move is made.
    """
    if comment is not None and len(comment) > MAX_TEXT:
        raise InvalidInput(f"意见有 {len(comment)} 个字，最多 {MAX_TEXT} 个", field="comment")
    if comment is not None:
        common.text_in(comment, "意见")
    return common.guarded(store, actor, now, f"advance {trigger}", item_id,
                          lambda tx: _advance(tx, store, actor, item_id, trigger, now, comment, fields, expected_version,
                                              files))


def _advance(tx: Tx, store: Store, actor: str, item_id: int, trigger: str, now: datetime, comment: str | None,
             fields: dict[str, Any] | None, expected: int | None, files: documents.Given | None = None) -> Moved:
    parent_id = sub_store.parent_id_of(tx, item_id)
    if parent_id is not None:  # a sub-item's finish may move its parent: parent first, the order every path locks in
        common.locked_item(tx, parent_id)
    who, locked, defn, holders, held = common.load_act(tx, actor, item_id)
    item, step = locked.item, locked.step
    if item.finished_at is not None and step is not None and step.left_via == LEFT_WITH_PARENT:
        raise InvalidInput(f"事项 {item.id} 已于 {fmt(item.finished_at)} 随上级事项的环节关闭，"
                           f"不再办理", item=item.id, next="show_item")
    if held and expected is not None and trigger not in defn.triggers_from(item.state):
        common.check_version(item, expected)  # the move is gone because the item moved since the person looked
    candidates = authority.advance(defn, item.state, trigger, item.id, who, held, holders)
    state = defn.states[item.state]
    if step.status == StepStatus.PAUSED:
        raise NotPermitted(f"事项 {item.id} 的「{state.label}」环节自 {fmt(step.paused_at)} 起挂起，"
                           f"请先恢复", item=item.id, next="resume")
    common.not_backdated(now, locked)
    common.check_version(item, expected)
    asked_for = {f for t in candidates for f in t.requires}
    given = [*(fields or {}).keys(), *(k for k, v in (files or {}).items() if v)]
    authority.fields_given(defn, item.state, given, asked_for, item.id, who, held, holders)
    changes = values_given(tx, defn, fields, defn.round_view(item.fields, step.fields or {}), item.id)
    changes |= documents.attach(tx, defn, item, step, files, who, now)
    this_round = (step.fields or {}) | changes
    latest = item.fields | changes
    view = defn.round_view(latest, this_round)
    common_req = set.intersection(*(set(t.requires) for t in candidates))
    _require(tx, defn, item, step, trigger, [f for f in candidates[0].requires if f in common_req], view, latest)
    chosen = next((t for t in candidates if t.guards_hold(view, item.counters)), None)
    if chosen is None:
        conds = " | ".join(" and ".join(g.describe() for g in t.guards) for t in candidates)
        raise GuardFailed(f"item {item.id} at step '{state.label}': '{trigger}' needs {conds}; now {_guard_values(candidates, view, item.counters)}")
    authority.chosen_move(defn, chosen, item.state, item.id, who, held, holders)
    _require(tx, defn, item, step, trigger, list(chosen.requires), view, latest)
    if chosen.comment_required and not (comment and comment.strip()):
        raise InvalidInput(f"事项 {item.id} 的“{chosen.label}”需要填写意见", item=item.id, trigger=trigger, field="comment",
                           parameter="comment")
    model = ItemModel(item.state, view, dict(item.counters))
    if not fire(defn, model, trigger) or model.state != chosen.dest:
        raise GuardFailed(f"事项 {item.id}：按填写的内容，这一步（{trigger}）不能从当前环节办理", item=item.id)
    item_store.close_step(tx, step.id, at=now, by=actor, via=trigger, fields=this_round)
    steps.count_closed(tx, item.id, step, now, locked.calendar_digest)
    before, version, old_fields = item.state, item.version, item.fields
    item.fields, item.counters, item.updated_at = latest, model.counters, now
    new_step = steps.open_step(tx, store, defn, item, model.state, now, common.calendar(tx, defn, locked.calendar_digest),
                               actor=actor, via=trigger, seq=step.seq + 1, holders=holders, actor_name=who.name,
                               comment=comment)
    # The compare-and-set: the row changes only if it is still at the version read under the lock.
    if not item_store.move_item(tx, item, version):  # the row lock makes this unreachable; the WHERE is the last defence
        raise Conflict(f"事项 {item.id} 在此期间已被他人更新（已不是第 {version} 版）：请重新查看后再办理", item=item.id,
                       next="show_item")
    data: dict[str, Any] = {"trigger": trigger, "label": chosen.label, "step_id": new_step.id, "left_step_id": step.id,
                            "due": fmt(new_step.due_at), "due_at": exact(new_step.due_at)}
    if comment:
        data["comment"] = comment
    if changes:
        data["fields"] = changes
        old = {k: [old_fields.get(k), v] for k, v in changes.items() if old_fields.get(k) != v}
        if old:
            data["fields_changed"] = old
    if chosen.increments:
        data["counters"] = model.counters
    audit_store.append(tx, at=now, actor=actor, kind="advanced", item_id=item.id, from_state=before, to_state=item.state, data=data)
    steps.hand_out(tx, store, defn, item, new_step, now, actor, who.name)
    steps.after_leaving(tx, store, defn, item, step, now, actor,
                        f"上级事项 {item.id} 已由{who.name}「{chosen.label}」，不再等待本事项")
    return Moved(item.id, version + 1, trigger, chosen.label, before, state.label, item.state, defn.states[item.state].label,
                 new_step.id, fmt(new_step.due_at), local_iso(new_step.due_at), item.finished_at is not None)


def _require(tx: Tx, defn: Definition, item: ItemRow, step: StepRow, trigger: str, names: list[str],
             view: dict[str, Any], latest: dict[str, Any]) -> None:
    """Every field a move requires must count at this step: entered in this round unless `keep`."""
    missing = [f for f in names if empty(view.get(f))]
    if not missing:
        return
    text = "、".join(f"“{defn.fields[f].label}”" for f in missing)
    move = next((t.label for t in defn.transitions_from(step.state) if t.trigger == trigger), trigger)
    earlier = [f for f in missing if not empty(latest.get(f)) and not defn.fields[f].keep]
    if earlier:
        n = item_store.visits_of_state(tx, item.id, step.state, step.seq)
        raise InvalidInput(f"事项 {item.id}“{move}”需要本轮填报{text}（「{defn.states[step.state].label}」环节第 {n} 轮）："
                           f"以前各轮的内容不算", item=item.id, trigger=trigger, fields=list(earlier), round=n)
    raise InvalidInput(f"事项 {item.id}“{move}”需要填报{text}", item=item.id, trigger=trigger, fields=list(missing))


def _guard_values(candidates, view: dict[str, Any], counters: dict[str, int]) -> str:
    seen = {}
    for t in candidates:
        for g in t.guards:
            seen[g.name] = view.get(g.name) if g.kind == "field" else counters.get(g.name, 0)
    return ", ".join(f"{k}={v!r}" for k, v in seen.items()) or "no values"


# --- set fields --------------------------------------------------------------------------------

def set_fields(store: Store, actor: str, item_id: int, fields: dict[str, Any], now: datetime,
               expected_version: int | None = None) -> FieldsSet:
    """Change fields without moving the item; values count for the current round; a deadline counted
    from a changed date is recomputed and the change recorded with the old and new due time."""
    if not fields:
        raise InvalidInput("请至少填写一项要修改的内容", fields=[])
    return common.guarded(store, actor, now, "set fields", item_id,
                          lambda tx: _set_fields(tx, actor, item_id, fields, now, expected_version))


def _set_fields(tx: Tx, actor: str, item_id: int, fields: dict[str, Any], now: datetime, expected: int | None) -> FieldsSet:
    who, locked, defn, holders, held = common.load_act(tx, actor, item_id)
    item, step = locked.item, locked.step
    authority.require_role_on_item(defn, who, held, item.id, "修改字段")
    authority.fields_given(defn, item.state, fields.keys(), set(), item.id, who, held, holders)
    common.not_backdated(now, locked)
    common.check_version(item, expected)
    changes = values_given(tx, defn, fields, defn.round_view(item.fields, step.fields or {}), item.id)
    old = dict(item.fields)
    item.fields = old | changes
    state = defn.states[item.state]
    recomputed = False
    step_values: dict[str, Any] = {"fields": (step.fields or {}) | changes}
    old_due = step.due_at
    if state.deadline and (state.deadline.field in changes or state.deadline.set_by in changes
                               or state.deadline.amount_from in changes) and not item.finished_at:
        t = step_times(common.calendar(tx, defn, locked.calendar_digest), defn, state, common.dated(tx, defn, item.fields), entered_at=step.entered_at,
                       extended_to=step.extended_to, extra_units=step.extra_units, next_rung=step.next_rung,
                       running=step.status == StepStatus.OPEN)
        step_values.update(due_at=t.due_at, due_rule=t.due_rule, provisional=t.provisional, yellow_at=t.yellow_at,
                           next_escalation_at=t.next_escalation_at)
        step.due_at = t.due_at
        recomputed = True
    item_store.update_step(tx, step.id, **step_values)
    item_values: dict[str, Any] = {"fields": item.fields, "version": item.version + 1, "updated_at": now}
    if recomputed:
        item_values.update(due_at=step_values["due_at"], yellow_at=step_values["yellow_at"])
    item_store.update_item(tx, item.id, **item_values)
    changed = {k: [old.get(k), v] for k, v in changes.items()}
    audit_store.append(tx, at=now, actor=actor, kind="fields_set", item_id=item.id, from_state=item.state, to_state=item.state,
                       data={"fields_changed": changed, "step_id": step.id,
                             **({"old_due": fmt(old_due), "due_recomputed": fmt(step.due_at), "due_at": exact(step.due_at)}
                                if recomputed else {})})
    return FieldsSet(item.id, item.version + 1, changed, fmt(step.due_at), local_iso(step.due_at), recomputed)


# --- roles -------------------------------------------------------------------------------------

def assign(store: Store, actor: str, item_id: int, role: str, people: list[str], now: datetime,
           replace: bool = False) -> Assigned:
    """Give a role on an item to people (adding to, or with `replace` instead of, its holders).

    Who may grant a role is the template's `assignable_by` (default: office and council);
    nobody grants himself a role unless an administrator. A new holder of the current step's
    owner role is sent the handover notice, once.
    """
    return common.guarded(store, actor, now, f"assign {role}", item_id,
                          lambda tx: _change_role(tx, store, actor, item_id, role, people, now, replace, add=True))


def unassign(store: Store, actor: str, item_id: int, role: str, people: list[str], now: datetime) -> Assigned:
    """Withdraw a role on an item from people; the current step's owner role is never left empty."""
    return common.guarded(store, actor, now, f"unassign {role}", item_id,
                          lambda tx: _change_role(tx, store, actor, item_id, role, people, now, False, add=False))


def _change_role(tx: Tx, store: Store, actor: str, item_id: int, role: str, codes: list[str], now: datetime,
                 replace: bool, *, add: bool) -> Assigned:
    who, locked, defn, holders, held = common.load_act(tx, actor, item_id)
    item, step = locked.item, locked.step
    if not who.admin:
        authority.require_role_on_item(defn, who, held, item.id, "分配角色")
    if role not in defn.roles:
        raise InvalidInput(f"流程“{defn.title}”没有角色“{common.shown(role)}”（可选：{'、'.join(defn.roles.values())}）")
    if not codes:
        raise InvalidInput("请至少填写一位人员")
    authority.assign(defn, role, item.id, who, held, holders, codes, verb="grant" if add else "withdraw")
    common.not_backdated(now, locked)
    people = [_active(tx, c) if add else common.person(tx, c) for c in dict.fromkeys(codes)]
    current = {p.id: p for p in holders.get(role, [])}
    if add:
        added = [p for p in people if p.id not in current]
        removed = [p for p in current.values() if replace and p.id not in {q.id for q in people}]
    else:
        not_holding = [p for p in people if p.id not in current]
        if not_holding:
            raise InvalidInput(f"{'、'.join(p.name for p in not_holding)}在事项 {item.id} 中并未担任{defn.role_label(role)}")
        added, removed = [], people
    owner_step = role == defn.states[item.state].owner and step is not None and step.left_at is None
    if owner_step and removed and not (set(current) - {p.id for p in removed}) and not added:
        raise InvalidInput(f"{defn.role_label(role)}承办事项 {item.id} 当前的「{defn.states[item.state].label}」环节，"
                           f"请先把该角色交给其他人员", item=item.id, role=role, next="reassign")
    item_store.remove_assignments(tx, item.id, role, [p.id for p in removed])
    item_store.add_assignments(tx, item.id, {role: [p.id for p in added]}, now, actor)
    item_store.update_item(tx, item.id, version=item.version + 1, updated_at=now)
    notified: list[str] = []
    if owner_step and added and defn.handover_notice:
        after = item_store.holders(tx, item.id)  # the notice names the step's owners as they are now
        for p in added:  # each new owner his own copy, once per step (a person re-added is not told twice)
            to = [(defn.role_label(role), Holder(p.id, p.code, p.name, p.email, p.active, p.admin))]
            rows, _missing = notice_data.message_rows(notice=defn.handover_notice, key=f"h{step.id}.p{p.id}", to=to, cc=[],
                                                      defn=defn, item=item, step=step, holders=after, now=now,
                                                      settings=store.settings, cal=common.calendar(tx, defn), handed_by=who.name,
                                                      comment="")
            if outbox_store.queue_once(tx, rows):
                notified.append(p.name)
    now_holders = [p.code for p in item_store.holders(tx, item.id).get(role, [])]
    audit_store.append(tx, at=now, actor=actor, kind="assigned" if add else "unassigned", item_id=item.id,
                       from_state=item.state, to_state=item.state,
                       data={"role": role, "added": [p.code for p in added], "removed": [p.code for p in removed],
                             "replace": replace, "holders": now_holders, "notified": notified})
    return Assigned(item.id, item.version + 1, role, defn.role_label(role), now_holders,
                    [p.code for p in added], [p.code for p in removed], notified)
