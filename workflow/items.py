"""Use cases that change items, one transaction each: create, assign, advance, set fields."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from . import audit, people, registry
from .calendar import parse_date
from .calendar_store import LATEST_DIGEST, calendar_for
from .db import Store, connection_of
from .deadlines import fmt, schedule, sync_item
from .definition import Definition, FieldSpec
from .driver import Prepared, read_scalar
from .errors import (
    Conflict,
    GuardFailed,
    InvalidInput,
    NotFound,
    NotPermitted,
    TriggerNotAllowed,
    WuzhuanError,
)
from .machine import ItemModel, fire, guards_ok
from .models import Assignment, Item, Person, Step, StepStatus
from .notices import enqueue, recipients
from .people import Holder


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise InvalidInput("times must carry a time zone (e.g. 2026-03-01T09:00+08:00)")
    return now


def lock_item(session: Session, item_id: int) -> Item:
    """The item, row-locked until commit (see db.py on row locks)."""
    item = session.execute(select(Item).where(Item.id == item_id).with_for_update()).scalar_one_or_none()
    if item is None:
        raise NotFound(f"item {item_id} does not exist")
    return item


def check_version(item: Item, expected: int | None) -> None:
    if expected is not None and item.version != expected:
        raise Conflict(f"item {item.id} changed meanwhile (you saw version {expected}, it is now at version "
                       f"{item.version}, step '{item.state}'): look again with `wuzhuan items show {item.id}`")


def coerce(session: Session, spec: FieldSpec, value: Any) -> Any:
    """A field value checked and converted to its type; raises InvalidInput naming the field."""
    name = f"field '{spec.name}' ({spec.label})"
    if value is None or value == "":
        return None
    if spec.type == "date":
        return parse_date(value, name).isoformat()
    if spec.type == "integer":
        try:
            return int(str(value).strip())
        except ValueError:
            raise InvalidInput(f"{name}: '{value}' is not a whole number") from None
    if spec.type == "choice":
        if str(value) not in [str(c) for c in spec.choices]:
            raise InvalidInput(f"{name}: '{value}' is not one of {', '.join(map(str, spec.choices))}")
        return str(value)
    if spec.type == "person":
        return people.person(session, str(value)).code
    if spec.type == "list":
        if isinstance(value, list):
            return [str(v) for v in value]
        return [v.strip() for v in str(value).replace("、", ",").replace("，", ",").split(",") if v.strip()]
    return str(value)


def coerce_all(session: Session, defn: Definition, raw: dict[str, Any] | None) -> dict[str, Any]:
    out = {}
    for name, value in (raw or {}).items():
        spec = defn.fields.get(name)
        if spec is None:
            raise InvalidInput(f"template '{defn.key}' has no field '{name}' (fields: {', '.join(defn.fields) or 'none'})")
        out[name] = coerce(session, spec, value)
    return out


_STEP_COLUMNS = [c.name for c in Step.__table__.columns if c.name != "id"]
_INSERT_STEP = Prepared(insert(Step).values({c: bindparam(c) for c in _STEP_COLUMNS}).returning(Step.id))


def open_step(session: Session, defn: Definition, item: Any, state_name: str, now: datetime, actor: str | None,
              via: str | None, comment: str | None = None, *, seq: int, holders: dict[str, list[Holder]] | None = None,
              actor_name: str = "系统") -> SimpleNamespace:
    """Enter a state: a new step row (visit number `seq`) with its due and escalation times, and the handover notice.

    `item` may be the ORM object (create) or the plain row of the hot path (advance); its current-step
    columns are set here and written by the caller.
    """
    state = defn.states[state_name]
    step = SimpleNamespace(**(dict.fromkeys(_STEP_COLUMNS) | {
        "item_id": item.id, "seq": seq, "state": state_name, "entered_at": now, "entered_by": actor, "entered_via": via,
        "status": StepStatus.OPEN, "next_rung": 0, "extra_units": 0, "provisional": False}))
    if state.final:
        step.status, step.left_at = StepStatus.CLOSED, now
        item.finished_at = now
    else:
        schedule(calendar_for(session, defn, getattr(item, "calendar_digest", None)), defn, state, step, item)
    step.id = _INSERT_STEP.scalar(connection_of(session), {c: getattr(step, c) for c in _STEP_COLUMNS})
    item.current_step_id, item.owner_role = step.id, state.owner
    sync_item(item, step)
    if defn.handover_notice and state.owner and not state.final:
        holders = people.holders(session, item.id) if holders is None else holders
        to = recipients(defn, state_name, (state.owner,), holders)
        enqueue(session, notice=defn.handover_notice, key=f"h{step.id}", people=to, step_id=step.id, item_id=item.id,
                now=now, handed_by=actor_name, comment=comment or "")
    return step


def create_item(store: Store, *, template: str, title: str, actor: str, now: datetime, group: str | None = None,
                units: tuple[str, ...] = (), fields: dict[str, Any] | None = None,
                assign: dict[str, list[str]] | None = None) -> int:
    """Start an item on the newest version of a template; roles default from the group's memberships."""
    _aware(now)
    with store.transaction() as s:
        return create_in(s, template=template, title=title, actor=actor, now=now, group=group, units=units,
                         fields=fields, assign=assign)


def create_in(s: Session, *, template: str, title: str, actor: str, now: datetime, group: str | None = None,
              units: tuple[str, ...] = (), fields: dict[str, Any] | None = None,
              assign: dict[str, list[str]] | None = None) -> int:
    """create_item inside the caller's transaction (bulk loads, benchmarks)."""
    if not title or not title.strip():
        raise InvalidInput("an item needs a title")
    tv = registry.latest(s, template)
    defn = registry.definition_of(tv)
    creator = people.person(s, actor)
    unit_rows = [people.unit(s, u) for u in ((group,) if group else ()) + tuple(units)]
    values = coerce_all(s, defn, fields)
    item = Item(template_version_id=tv.id, template_key=defn.key, title=title.strip(), state=defn.initial, version=1,
                fields=values, counters={c: 0 for c in defn.counters}, created_at=now, created_by=actor,
                group_unit_id=unit_rows[0].id if group else None)
    s.add(item)
    s.flush()
    holders = people.default_holders(s, [u.id for u in unit_rows], list(defn.roles))
    for role, codes in (assign or {}).items():
        if role not in defn.roles:
            raise InvalidInput(f"template '{defn.key}' has no role '{role}' (roles: {', '.join(defn.roles)})")
        holders[role] = [people.person(s, c).id for c in codes]
    for role, pids in holders.items():
        for pid in pids:
            s.add(Assignment(item_id=item.id, role=role, person_id=pid, assigned_at=now, assigned_by=actor))
    s.flush()
    step = open_step(s, defn, item, defn.initial, now, actor, None, seq=1, actor_name=creator.name)
    audit.append(s, at=now, actor=actor, kind="created", item_id=item.id, to_state=defn.initial,
                 data={"title": item.title, "template": defn.key, "version_id": tv.id, "fields": values,
                       "assignments": _codes(s, holders), "step_id": step.id, "due": fmt(step.due_at)})
    return item.id


def _codes(session: Session, holders: dict[str, list[int]]) -> dict[str, list[str]]:
    ids = {pid for pids in holders.values() for pid in pids}
    code = dict(session.execute(select(Person.id, Person.code).where(Person.id.in_(ids or [-1]))).all())
    return {role: [code[p] for p in pids] for role, pids in holders.items()}


def assign(store: Store, item_id: int, role: str, person_codes: list[str], actor: str, now: datetime,
           replace: bool = False) -> dict[str, list[str]]:
    """Give a role on an item to people (adding to, or with `replace` instead of, its holders)."""
    _aware(now)
    with store.transaction() as s:
        item = lock_item(s, item_id)
        defn = registry.definition_by_id(s, item.template_version_id)
        people.person(s, actor)
        if role not in defn.roles:
            raise InvalidInput(f"template '{defn.key}' has no role '{role}' (roles: {', '.join(defn.roles)})")
        pids = [people.person(s, c).id for c in person_codes]
        existing = s.execute(select(Assignment).where(Assignment.item_id == item_id, Assignment.role == role)).scalars().all()
        if replace:
            for a in existing:
                if a.person_id not in pids:
                    s.delete(a)
        have = {a.person_id for a in existing}
        for pid in pids:
            if pid not in have:
                s.add(Assignment(item_id=item_id, role=role, person_id=pid, assigned_at=now, assigned_by=actor))
        item.version += 1
        s.flush()
        now_holders = {role: [p.code for p in people.holders(s, item_id).get(role, [])]}
        audit.append(s, at=now, actor=actor, kind="assigned", item_id=item_id, from_state=item.state, to_state=item.state,
                     data={"role": role, "people": person_codes, "replace": replace, "holders": now_holders[role]})
        return now_holders


def _refused(store: Store, item_id: int, actor: str, now: datetime, what: str, err: WuzhuanError) -> None:
    """Record a refused attempt in its own transaction: the attempt's own work was rolled back."""
    try:
        with store.transaction() as s:
            state = s.execute(select(Item.state).where(Item.id == item_id)).scalar_one_or_none()
            audit.append(s, at=now, actor=actor, kind="refused", item_id=item_id if state else None,
                         from_state=state, to_state=state, data={"attempt": what, "reason": str(err)})
    except WuzhuanError:
        pass  # the refusal itself is what the caller must see


_VERSION = Prepared(select(Item.version).where(Item.id == bindparam("id")))


def current_version(store: Store, item_id: int) -> int:
    """The item's version now: what a person acting on what they just saw expects."""
    v = read_scalar(store.engine, _VERSION, {"id": item_id})
    if v is None:
        raise NotFound(f"item {item_id} does not exist")
    return v


def advance(store: Store, item_id: int, trigger: str, actor: str, now: datetime, *, comment: str | None = None,
            fields: dict[str, Any] | None = None, expected_version: int | None = None) -> dict[str, Any]:
    """Move an item on by a trigger as `actor`, checking everything in one transaction.

    The write is a compare-and-set on the version the actor saw (`expected_version`, else the
    version read just before): raises Conflict when the item changed meanwhile, TriggerNotAllowed,
    NotPermitted or GuardFailed (all recorded in the audit trail as refused), InvalidInput.
    """
    _aware(now)
    if expected_version is None:
        expected_version = current_version(store, item_id)
    try:
        with store.transaction() as s:
            return _advance(s, item_id, trigger, actor, now, comment, fields, expected_version)
    except NotPermitted as e:
        _refused(store, item_id, actor, now, f"advance {trigger}", e)
        raise


# The step number comes from a subquery, not a join: on PostgreSQL a row locked FOR UPDATE is
# re-checked after a concurrent commit, and a join would be re-checked against the old step row.
_ITEM_AND_STEP = select(Item.__table__, select(Step.seq).where(Step.id == Item.current_step_id).scalar_subquery()
                        .label("step_seq"), LATEST_DIGEST.label("calendar_digest")).where(Item.id == bindparam("id"))
_LOAD = Prepared(_ITEM_AND_STEP.with_for_update())
_CLOSE_STEP = Prepared(update(Step).where(Step.id == bindparam("sid"))
                       .values(left_at=bindparam("at"), left_by=bindparam("by"), left_via=bindparam("via"),
                               status=StepStatus.CLOSED, next_escalation_at=None))
_ITEM_STATE = ("state", "owner_role", "fields", "counters", "current_step_id", "due_at", "yellow_at", "paused_at", "finished_at")
_SET_ITEM = Prepared(update(Item).where(Item.id == bindparam("iid"), Item.version == bindparam("expected"))
                     .values(version=bindparam("new_version"), **{c: bindparam(c) for c in _ITEM_STATE}))


def _load(s: Session, item_id: int) -> SimpleNamespace:
    """The item's row (and its current step's number) as plain data, row-locked until commit."""
    conn = connection_of(s)
    row = _LOAD.first(conn, {"id": item_id})
    if row is None:
        raise NotFound(f"item {item_id} does not exist")
    return SimpleNamespace(**row)


def _advance(s: Session, item_id: int, trigger: str, actor: str, now: datetime, comment: str | None,
             fields: dict[str, Any] | None, expected: int) -> dict[str, Any]:
    item = _load(s, item_id)
    check_version(item, expected)
    defn = registry.definition_by_id(s, item.template_version_id)
    holders = people.holders(s, item.id)
    roles = {role for role, ps in holders.items() if any(p.code == actor for p in ps)}
    person = next((p for ps in holders.values() for p in ps if p.code == actor), None) or people.person(s, actor)
    state = defn.states[item.state]
    candidates = [t for t in defn.transitions_from(item.state) if t.trigger == trigger]
    if not candidates:
        raise TriggerNotAllowed(item.id, item.state, trigger, defn.triggers_from(item.state))
    changes = coerce_all(s, defn, fields)
    new_fields = item.fields | changes
    common = set.intersection(*(set(t.requires) for t in candidates))
    missing = [f"{f} ({defn.fields[f].label})" for f in candidates[0].requires if f in common and new_fields.get(f) in (None, "", [])]
    if missing:  # say what to supply before saying which conditions failed
        raise InvalidInput(f"'{trigger}' on item {item.id} needs {', '.join(missing)}: give them with --field name=value")
    model = ItemModel(item.state, dict(new_fields), dict(item.counters))
    chosen = next((t for t in candidates if guards_ok(t, model)), None)
    if chosen is None:
        conds = " | ".join(" and ".join(g.describe() for g in t.guards) for t in candidates)
        raise GuardFailed(f"item {item.id} at step '{state.label}': '{trigger}' needs {conds}; "
                          f"now {_guard_values(candidates, model)}")
    if not roles & set(chosen.roles):
        need = ", ".join(f"{defn.roles[r]} ({r})" for r in chosen.roles)
        held = ", ".join(f"{defn.roles.get(r, r)} ({r})" for r in sorted(roles)) or "no role"
        raise NotPermitted(f"{person.name} ({actor}) may not '{trigger}' item {item.id} at step '{state.label}': "
                           f"it needs {'one of ' if len(chosen.roles) > 1 else ''}{need}; {person.name} holds {held} on this item")
    missing = [f"{f} ({defn.fields[f].label})" for f in chosen.requires if new_fields.get(f) in (None, "", [])]
    if missing:
        raise InvalidInput(f"'{trigger}' on item {item.id} needs {', '.join(missing)}: give them with --field name=value")
    if chosen.comment_required and not (comment and comment.strip()):
        raise InvalidInput(f"'{trigger}' ({chosen.label}) on item {item.id} needs a comment (--comment)")
    if not fire(defn, model, trigger) or model.state != chosen.dest:
        raise GuardFailed(f"item {item.id}: '{trigger}' did not fire from '{item.state}'")
    conn = connection_of(s)
    _CLOSE_STEP.run(conn, {"sid": item.current_step_id, "at": now, "by": actor, "via": trigger})
    before, old_fields = item.state, item.fields
    item.fields, item.counters, item.state = new_fields, model.counters, model.state
    new_step = open_step(s, defn, item, model.state, now, actor, trigger, comment, seq=item.step_seq + 1, holders=holders,
                         actor_name=person.name)
    # The compare-and-set: the row changes only if it is still at the version the actor saw.
    done = _SET_ITEM.rowcount(conn, {"iid": item.id, "expected": expected, "new_version": expected + 1,
                                     **{c: getattr(item, c) for c in _ITEM_STATE}})
    if done != 1:  # the row lock makes this unreachable; the WHERE clause is the last line of defence
        raise Conflict(f"item {item.id} changed meanwhile (it is no longer at version {expected}): "
                       f"look again with `wuzhuan items show {item.id}`")
    data = {"trigger": trigger, "label": chosen.label, "step_id": new_step.id, "due": fmt(new_step.due_at)}
    if comment:
        data["comment"] = comment
    changed = {k: [old_fields.get(k), v] for k, v in changes.items() if old_fields.get(k) != v}
    if changed:
        data["fields_changed"] = changed
    if chosen.increments:
        data["counters"] = model.counters
    audit.append(s, at=now, actor=actor, kind="advanced", item_id=item.id, from_state=before, to_state=item.state, data=data)
    return {"item": item.id, "from": before, "to": item.state, "label": chosen.label, "version": expected + 1,
            "step": new_step.id, "due": fmt(new_step.due_at), "finished": item.finished_at is not None}


def _guard_values(candidates, model: ItemModel) -> str:
    seen = {}
    for t in candidates:
        for g in t.guards:
            src = model.fields if g.kind == "field" else model.counters
            seen[g.name] = src.get(g.name, 0 if g.kind == "counter" else None)
    return ", ".join(f"{k}={v!r}" for k, v in seen.items()) or "no values"


def set_fields(store: Store, item_id: int, fields: dict[str, Any], actor: str, now: datetime,
               expected_version: int | None = None) -> dict[str, Any]:
    """Change an item's fields without moving it; a deadline counted from a changed date is recomputed."""
    _aware(now)
    try:
        with store.transaction() as s:
            item = lock_item(s, item_id)
            check_version(item, expected_version)
            defn = registry.definition_by_id(s, item.template_version_id)
            person = people.person(s, actor)
            if not people.roles_of(s, item.id, person.id):
                raise NotPermitted(f"{person.name} ({actor}) holds no role on item {item.id} and may not change its fields")
            changes = coerce_all(s, defn, fields)
            old = dict(item.fields)
            item.fields = old | changes
            item.version += 1
            step = s.get(Step, item.current_step_id)
            state = defn.states[item.state]
            recomputed = False
            if state.deadline and state.deadline.field in changes and not item.finished_at:
                schedule(calendar_for(s, defn), defn, state, step, item)
                sync_item(item, step)
                recomputed = True
            audit.append(s, at=now, actor=actor, kind="fields_set", item_id=item.id, from_state=item.state, to_state=item.state,
                         data={"fields_changed": {k: [old.get(k), v] for k, v in changes.items()},
                               "due_recomputed": fmt(step.due_at) if recomputed else None})
            return {"item": item.id, "version": item.version, "fields": item.fields, "due": fmt(step.due_at), "recomputed": recomputed}
    except NotPermitted as e:
        _refused(store, item_id, actor, now, "set fields", e)
        raise
