"""Read-only views of items: list with filters and lights, show one with its next moves, history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from . import people, registry
from .db import Store
from .deadlines import LIGHT_CN, RED, YELLOW, fmt, light
from .errors import InvalidInput, NotFound
from .machine import ItemModel, guards_ok
from .models import Assignment, AuditEvent, ExtensionRequest, Item, OrgUnit, Person, Step

LIGHTS = ("green", "yellow", "red")


def _light_filter(which: str, now: datetime):
    clock_red = or_(and_(Item.paused_at.is_(None), Item.due_at <= now),
                    and_(Item.paused_at.is_not(None), Item.due_at <= Item.paused_at))
    clock_yellow = or_(and_(Item.paused_at.is_(None), Item.yellow_at <= now),
                       and_(Item.paused_at.is_not(None), Item.yellow_at <= Item.paused_at))
    if which == RED:
        return clock_red
    if which == YELLOW:
        return and_(clock_yellow, ~clock_red)
    return or_(Item.due_at.is_(None), and_(~clock_yellow, ~clock_red))


def list_items(store: Store, now: datetime, *, template: str | None = None, state: str | None = None,
               group: str | None = None, owner: str | None = None, light_is: str | None = None,
               include_finished: bool = True, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Items newest first, filtered; each with its step, due time and light."""
    if light_is is not None and light_is not in LIGHTS:
        raise InvalidInput(f"light '{light_is}' is not one of {', '.join(LIGHTS)}")
    if limit < 1 or offset < 0:
        raise InvalidInput("--limit must be at least 1 and --offset at least 0")
    with store.read() as s:
        q = select(Item, OrgUnit.code).outerjoin(OrgUnit, OrgUnit.id == Item.group_unit_id)
        if template:
            q = q.where(Item.template_key == template)
        if state:
            q = q.where(Item.state == state)
        if group:
            q = q.where(OrgUnit.code == group)
        if owner:
            pid = people.person(s, owner).id
            q = q.where(Item.finished_at.is_(None)).join(
                Assignment, and_(Assignment.item_id == Item.id, Assignment.role == Item.owner_role, Assignment.person_id == pid))
        if light_is:
            q = q.where(Item.finished_at.is_(None), _light_filter(light_is, now))
        elif not include_finished:
            q = q.where(Item.finished_at.is_(None))
        rows = s.execute(q.order_by(Item.id.desc()).limit(limit).offset(offset)).all()
        return [_summary(s, item, group_code, now) for item, group_code in rows]


def _summary(s, item: Item, group_code: str | None, now: datetime) -> dict[str, Any]:
    defn = registry.definition_by_id(s, item.template_version_id)
    st = defn.states[item.state]
    finished = item.finished_at is not None
    lt = None if finished else light(item.due_at, item.yellow_at, now, item.paused_at)
    return {
        "id": item.id, "title": item.title, "template": item.template_key, "version": item.version,
        "state": item.state, "state_label": st.label, "group": group_code,
        "owner_role": defn.roles.get(item.owner_role or "", None), "due": fmt(item.due_at) if not finished else None,
        "due_at": item.due_at.isoformat() if item.due_at and not finished else None,
        "light": lt, "light_cn": LIGHT_CN.get(lt or "", "—"), "paused": item.paused_at is not None,
        "finished": finished, "created_at": item.created_at.isoformat(),
    }


def show_item(store: Store, item_id: int, now: datetime, actor: str | None = None) -> dict[str, Any]:
    """Everything about one item: step, owner, light, fields, holders, next moves (for `actor`), steps."""
    with store.read() as s:
        item = s.get(Item, item_id)
        if item is None:
            raise NotFound(f"item {item_id} does not exist")
        defn = registry.definition_by_id(s, item.template_version_id)
        group = s.get(OrgUnit, item.group_unit_id).code if item.group_unit_id else None
        out = _summary(s, item, group, now)
        holders = people.holders(s, item_id)
        out["template_title"] = defn.title
        out["template_hash"] = defn.content_hash[:12]
        out["fields"] = item.fields
        out["counters"] = item.counters
        out["roles"] = {r: [f"{p.name} ({p.code})" for p in ps] for r, ps in holders.items()}
        out["owners"] = [f"{p.name} ({p.code})" for p in holders.get(item.owner_role or "", [])]
        step = s.get(Step, item.current_step_id)
        out["step"] = {"id": step.id, "entered": fmt(step.entered_at), "due": fmt(step.due_at), "due_rule": step.due_rule,
                       "provisional": step.provisional, "paused_since": fmt(step.paused_at) if step.paused_at else None,
                       "next_escalation": fmt(step.next_escalation_at) if step.next_escalation_at else None}
        held = set()
        if actor:
            held = people.roles_of(s, item_id, people.person(s, actor).id)
        model = ItemModel(item.state, dict(item.fields), dict(item.counters))
        moves = []
        for t in defn.transitions_from(item.state):
            moves.append({"trigger": t.trigger, "label": t.label, "to": t.dest, "roles": list(t.roles),
                          "requires": list(t.requires), "comment_required": t.comment_required,
                          "guards": [g.describe() for g in t.guards], "guards_hold_now": guards_ok(t, model),
                          "allowed_for_actor": bool(held & set(t.roles)) if actor else None})
        out["next"] = moves
        out["extensions"] = [{"id": r.id, "status": r.status, "new_date": r.new_date.isoformat(), "reason": r.reason,
                              "requested_by": r.requested_by}
                             for r in s.execute(select(ExtensionRequest).where(ExtensionRequest.item_id == item_id)
                                                .order_by(ExtensionRequest.id)).scalars()]
        out["steps"] = [_step_row(defn, st) for st in s.execute(select(Step).where(Step.item_id == item_id).order_by(Step.seq)).scalars()]
        return out


def _step_row(defn, st: Step) -> dict[str, Any]:
    return {"seq": st.seq, "state": st.state, "label": defn.states[st.state].label, "entered": fmt(st.entered_at),
            "entered_by": st.entered_by, "via": st.entered_via, "due": fmt(st.due_at), "left": fmt(st.left_at) if st.left_at else None,
            "left_by": st.left_by, "status": st.status, "provisional": st.provisional}


def history(store: Store, item_id: int) -> list[dict[str, Any]]:
    """The item's audit events, oldest first."""
    with store.read() as s:
        if s.get(Item, item_id) is None:
            raise NotFound(f"item {item_id} does not exist")
        names = dict(s.execute(select(Person.code, Person.name)).all())
        return [{"seq": e.seq, "at": fmt(e.at), "at_utc": e.at.isoformat(), "actor": e.actor,
                 "actor_name": names.get(e.actor or "", e.actor), "kind": e.kind, "from": e.from_state, "to": e.to_state,
                 "data": e.data}
                for e in s.execute(select(AuditEvent).where(AuditEvent.item_id == item_id).order_by(AuditEvent.seq)).scalars()]
