"""Stopping and moving the clock of a step: pause/resume (挂起/恢复) and extension requests (延期申请)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from . import audit, people, registry
from .calendar import last_day, lost_units, parse_date
from .calendar_store import calendar_for
from .db import Store
from .deadlines import fmt, schedule, sync_item
from .errors import InvalidInput, NotFound, NotPermitted
from .items import _aware, _refused, lock_item
from .models import ExtensionRequest, ExtensionStatus, Step, StepStatus


def _need_role(defn, roles_held: set[str], allowed: tuple[str, ...], who: str, what: str, item_id: int, label: str) -> None:
    if not allowed:
        raise NotPermitted(f"step '{label}' of item {item_id} cannot be {what}: the template names no role for it")
    if not roles_held & set(allowed):
        need = ", ".join(f"{defn.roles[r]} ({r})" for r in allowed)
        raise NotPermitted(f"{who} may not {what} step '{label}' of item {item_id}: it needs {'one of ' if len(allowed) > 1 else ''}{need}")


def _current(s, item_id: int, actor: str):
    """The locked item, its template, the acting person, the current step and its state."""
    item = lock_item(s, item_id)
    defn = registry.definition_by_id(s, item.template_version_id)
    person = people.person(s, actor)
    step = s.get(Step, item.current_step_id)
    return item, defn, person, step, defn.states[item.state]


def _guarded(store: Store, item_id: int, actor: str, now: datetime, what: str, fn):
    _aware(now)
    try:
        with store.transaction() as s:
            return fn(s)
    except NotPermitted as e:
        _refused(store, item_id, actor, now, what, e)
        raise


def pause(store: Store, item_id: int, actor: str, reason: str, now: datetime) -> dict[str, Any]:
    """Suspend the item's open step: its clock stops and it does not escalate until resumed."""
    if not reason or not reason.strip():
        raise InvalidInput("pausing a step needs a reason (--reason)")

    def run(s):
        item, defn, p, step, state = _current(s, item_id, actor)
        if item.finished_at:
            raise InvalidInput(f"item {item_id} is finished; there is nothing to pause")
        if step.status == StepStatus.PAUSED:
            raise InvalidInput(f"step '{state.label}' of item {item_id} is already paused since {fmt(step.paused_at)}")
        _need_role(defn, people.roles_of(s, item.id, p.id), state.pause_roles, f"{p.name} ({actor})", "pause", item_id, state.label)
        step.status, step.paused_at, step.next_escalation_at = StepStatus.PAUSED, now, None
        item.version += 1
        sync_item(item, step)
        audit.append(s, at=now, actor=actor, kind="paused", item_id=item.id, from_state=item.state, to_state=item.state,
                     data={"step_id": step.id, "reason": reason.strip(), "due": fmt(step.due_at)})
        return {"item": item.id, "step": state.label, "paused_at": fmt(now), "due": fmt(step.due_at)}

    return _guarded(store, item_id, actor, now, "pause", run)


def resume(store: Store, item_id: int, actor: str, now: datetime, reason: str | None = None) -> dict[str, Any]:
    """Restart a paused step's clock; its due time moves by the paused span in the deadline's own unit."""

    def run(s):
        item, defn, p, step, state = _current(s, item_id, actor)
        if step.status != StepStatus.PAUSED:
            raise InvalidInput(f"step '{state.label}' of item {item_id} is not paused")
        _need_role(defn, people.roles_of(s, item.id, p.id), state.pause_roles, f"{p.name} ({actor})", "resume", item_id, state.label)
        old_due = step.due_at
        cal = calendar_for(s, defn)
        unit = state.deadline.unit if state.deadline else "hours"
        lost = lost_units(cal, unit, step.paused_at, now)
        step.extra_units = (step.extra_units or 0) + lost
        step.status, step.paused_at = StepStatus.OPEN, None
        schedule(cal, defn, state, step, item)
        item.version += 1
        sync_item(item, step)
        audit.append(s, at=now, actor=actor, kind="resumed", item_id=item.id, from_state=item.state, to_state=item.state,
                     data={"step_id": step.id, "reason": (reason or "").strip(), "lost": lost, "unit": unit,
                           "old_due": fmt(old_due), "new_due": fmt(step.due_at)})
        counted_in = {"workdays": "working days", "days": "days", "months": "days", "hours": "seconds"}[unit]
        return {"item": item.id, "step": state.label, "old_due": fmt(old_due), "due": fmt(step.due_at), "added": lost, "unit": counted_in}

    return _guarded(store, item_id, actor, now, "resume", run)


def request_extension(store: Store, item_id: int, actor: str, reason: str, new_date: date | str, now: datetime) -> dict[str, Any]:
    """The step's owner asks, before the due time, for a later last day; an approver decides."""
    if not reason or not reason.strip():
        raise InvalidInput("an extension request needs a reason (--reason)")
    wanted = parse_date(new_date, "new date")

    def run(s):
        item, defn, p, step, state = _current(s, item_id, actor)
        if item.finished_at or step.due_at is None:
            raise InvalidInput(f"step '{state.label}' of item {item_id} has no due time to extend")
        if not state.extension_approvers:
            raise NotPermitted(f"step '{state.label}' of item {item_id} cannot be extended: the template names no approver")
        roles = people.roles_of(s, item.id, p.id)
        if state.owner not in roles:
            raise NotPermitted(f"only the step's owner ({defn.roles.get(state.owner or '', '—')}) may ask to extend "
                               f"step '{state.label}' of item {item_id}; {p.name} ({actor}) is not")
        if now >= step.due_at:
            raise NotPermitted(f"step '{state.label}' of item {item_id} was due {fmt(step.due_at)}: an extension must be "
                               "asked before the due time")
        if wanted <= last_day(step.due_at):
            raise InvalidInput(f"the new date {wanted} must be after the current due day {last_day(step.due_at)}")
        pending = s.execute(select(ExtensionRequest).where(ExtensionRequest.step_id == step.id,
                                                           ExtensionRequest.status == ExtensionStatus.PENDING)).scalar_one_or_none()
        if pending is not None:
            raise InvalidInput(f"extension request {pending.id} for this step is still waiting for a decision")
        req = ExtensionRequest(item_id=item.id, step_id=step.id, requested_by=actor, requested_at=now, reason=reason.strip(),
                               old_due_at=step.due_at, new_date=wanted, status=ExtensionStatus.PENDING)
        s.add(req)
        s.flush()
        audit.append(s, at=now, actor=actor, kind="extension_requested", item_id=item.id, from_state=item.state,
                     to_state=item.state, data={"request": req.id, "step_id": step.id, "reason": req.reason,
                                                "due": fmt(step.due_at), "new_date": wanted.isoformat()})
        return {"request": req.id, "item": item.id, "step": state.label, "due": fmt(step.due_at), "new_date": wanted.isoformat(),
                "approvers": [defn.roles[r] for r in state.extension_approvers]}

    return _guarded(store, item_id, actor, now, "request extension", run)


def decide_extension(store: Store, request_id: int, actor: str, approve: bool, now: datetime,
                     comment: str | None = None) -> dict[str, Any]:
    """Approve (the due time and the ladder move to the new day) or reject a pending request."""
    _aware(now)
    with store.read() as s:
        req0 = s.get(ExtensionRequest, request_id)
        if req0 is None:
            raise NotFound(f"extension request {request_id} does not exist")
        item_id = req0.item_id

    def run(s):
        item = lock_item(s, item_id)
        req = s.get(ExtensionRequest, request_id)
        defn = registry.definition_by_id(s, item.template_version_id)
        p = people.person(s, actor)
        step = s.get(Step, req.step_id)
        state = defn.states[step.state]
        if req.status != ExtensionStatus.PENDING:
            raise InvalidInput(f"extension request {request_id} was already {req.status} by {req.decided_by}")
        if step.left_at is not None:
            raise InvalidInput(f"extension request {request_id}: step '{state.label}' has already ended")
        _need_role(defn, people.roles_of(s, item.id, p.id), state.extension_approvers, f"{p.name} ({actor})",
                   "decide on extending", item.id, state.label)
        req.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
        req.decided_by, req.decided_at, req.decision_comment = actor, now, comment
        old_due = step.due_at
        if approve:
            step.extended_to, step.extra_units = req.new_date, 0
            schedule(calendar_for(s, defn), defn, state, step, item)
            sync_item(item, step)
        item.version += 1
        audit.append(s, at=now, actor=actor, kind="extension_" + req.status, item_id=item.id, from_state=item.state,
                     to_state=item.state, data={"request": req.id, "comment": comment or "", "old_due": fmt(old_due),
                                                "new_due": fmt(step.due_at)})
        return {"request": req.id, "status": str(req.status), "item": item.id, "old_due": fmt(old_due), "due": fmt(step.due_at)}

    return _guarded(store, item_id, actor, now, "decide extension", run)
