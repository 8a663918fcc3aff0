"""Stopping and moving the clock of a step: pause/resume (挂起/恢复) and extension requests (延期申请)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .. import authority
from ..calendar import last_day, lost_units, parse_date
from ..deadlines import step_times
from ..errors import InvalidInput, NotFound, NotPermitted
from ..present import exact, fmt, local_iso
from ..store import ExtensionStatus, StepStatus, Store, Tx
from ..store import audit as audit_store
from ..store import extensions as ext_store
from ..store import items as item_store
from . import common

MAX_REASON = 2000


@dataclass
class Paused:
    item: int
    version: int
    state: str
    step_label: str
    paused_at: str
    due: str


@dataclass
class Resumed:
    item: int
    version: int
    state: str
    step_label: str
    old_due: str
    due: str
    due_at: str | None
    added: int
    unit: str


@dataclass
class ExtensionRequested:
    id: int
    item: int
    state: str
    step_label: str
    due: str
    new_date: str
    approvers: list[str]
    approver_labels: list[str]


@dataclass
class ExtensionDecided:
    id: int
    status: str
    item: int
    version: int
    old_due: str
    due: str
    due_at: str | None


def _reason(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise InvalidInput(f"{what}需要说明理由", field="reason", parameter="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"理由有 {len(reason)} 个字，最多 {MAX_REASON} 个")
    return common.text_in(reason.strip(), "理由")


def pause(store: Store, actor: str, item_id: int, reason: str, now: datetime) -> Paused:
    """Suspend the item's open step: its clock stops, it does not escalate and no move is made until resumed."""
    reason = _reason(reason, "挂起")

    def run(tx: Tx) -> Paused:
        who, locked, defn, holders, held = common.load_act(tx, actor, item_id)
        item, step = locked.item, locked.step
        state = defn.states[item.state]
        authority.pause(defn, state, item_id, who, held, holders, "pause")
        if item.finished_at:
            raise InvalidInput(f"事项 {item_id} 已办结，无需挂起")
        if step.status == StepStatus.PAUSED:
            raise InvalidInput(f"事项 {item_id} 的「{state.label}」环节自 {fmt(step.paused_at)} 起已挂起")
        common.not_backdated(now, locked)
        item_store.update_step(tx, step.id, status=StepStatus.PAUSED, paused_at=now, next_escalation_at=None)
        item_store.update_item(tx, item.id, version=item.version + 1, paused_at=now, updated_at=now)
        audit_store.append(tx, at=now, actor=actor, kind="paused", item_id=item.id, from_state=item.state, to_state=item.state,
                           data={"step_id": step.id, "reason": reason, "due": fmt(step.due_at)})
        return Paused(item.id, item.version + 1, item.state, state.label, fmt(now), fmt(step.due_at))

    return common.guarded(store, actor, now, "pause", item_id, run)


def resume(store: Store, actor: str, item_id: int, now: datetime, reason: str | None = None) -> Resumed:
    """Restart a paused step's clock; its due time moves by the paused span in the deadline's own unit."""
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput(f"理由有 {len(reason)} 个字，最多 {MAX_REASON} 个")

    def run(tx: Tx) -> Resumed:
        who, locked, defn, holders, held = common.load_act(tx, actor, item_id)
        item, step = locked.item, locked.step
        state = defn.states[item.state]
        authority.pause(defn, state, item_id, who, held, holders, "resume")
        if step.status != StepStatus.PAUSED:
            raise InvalidInput(f"事项 {item_id} 的「{state.label}」环节没有挂起")
        common.not_backdated(now, locked)
        cal = common.calendar(tx, defn, locked.calendar_digest)
        unit = state.deadline.unit if state.deadline else "hours"
        lost = lost_units(cal, unit, step.paused_at, now)
        extra = (step.extra_units or 0) + lost
        t = step_times(cal, defn, state, common.dated(tx, defn, item.fields), entered_at=step.entered_at, extended_to=step.extended_to,
                       extra_units=extra, next_rung=step.next_rung)
        item_store.update_step(tx, step.id, status=StepStatus.OPEN, paused_at=None, extra_units=extra, due_at=t.due_at,
                               due_rule=t.due_rule, provisional=t.provisional, yellow_at=t.yellow_at,
                               next_escalation_at=t.next_escalation_at)
        item_store.update_item(tx, item.id, version=item.version + 1, paused_at=None, due_at=t.due_at, yellow_at=t.yellow_at,
                               updated_at=now)
        audit_store.append(tx, at=now, actor=actor, kind="resumed", item_id=item.id, from_state=item.state, to_state=item.state,
                           data={"step_id": step.id, "reason": (reason or "").strip(), "lost": lost, "unit": unit,
                                 "old_due": fmt(step.due_at), "new_due": fmt(t.due_at), "due_at": exact(t.due_at)})
        counted_in = {"workdays": "working days", "days": "days", "months": "days", "hours": "seconds"}[unit]
        return Resumed(item.id, item.version + 1, item.state, state.label, fmt(step.due_at), fmt(t.due_at),
                       local_iso(t.due_at), lost, counted_in)

    return common.guarded(store, actor, now, "resume", item_id, run)


def request_extension(store: Store, actor: str, item_id: int, reason: str, new_date: date | str,
                      now: datetime) -> ExtensionRequested:
    """The step's owner asks, before the due time, for a later last day; an approver decides."""
    reason = _reason(reason, "延期申请")
    wanted = parse_date(new_date, "延期至")
    if not 1970 <= wanted.year <= 2199:
        raise InvalidInput(f"延期日期 {wanted} 超出 1970–2199 年")

    def run(tx: Tx) -> ExtensionRequested:
        who, locked, defn, holders, held = common.load_act(tx, actor, item_id)
        item, step = locked.item, locked.step
        state = defn.states[item.state]
        authority.request_extension(defn, state, item_id, who, held, holders)
        if item.finished_at:
            raise InvalidInput(f"事项 {item_id} 已于 {fmt(item.finished_at)} 办结，没有可延期的时限")
        if step.due_at is None:
            raise InvalidInput(f"事项 {item_id} 的「{state.label}」环节没有办理时限，无需延期")
        common.not_backdated(now, locked)
        if now >= step.due_at:
            raise NotPermitted(f"事项 {item_id} 的「{state.label}」环节办理时限为 {fmt(step.due_at)}，"
                               "延期须在时限届满前申请")
        if wanted <= last_day(step.due_at):
            raise InvalidInput(f"延期日期 {wanted} 必须晚于现在的办理时限 {last_day(step.due_at)}")
        pending = ext_store.pending_for_step(tx, step.id)
        if pending is not None:
            raise InvalidInput(f"本环节的延期申请 #{pending.id} 尚待审批")
        req_id = ext_store.insert_request(tx, item_id=item.id, step_id=step.id, by=actor, at=now, reason=reason,
                                          old_due_at=step.due_at, new_date=wanted)
        item_store.update_item(tx, item.id, updated_at=now)
        audit_store.append(tx, at=now, actor=actor, kind="extension_requested", item_id=item.id, from_state=item.state,
                           to_state=item.state, data={"request": req_id, "step_id": step.id, "reason": reason,
                                                      "due": fmt(step.due_at), "new_date": wanted.isoformat()})
        return ExtensionRequested(req_id, item.id, item.state, state.label, fmt(step.due_at), wanted.isoformat(),
                                  list(state.extension_approvers), [defn.role_label(r) for r in state.extension_approvers])

    return common.guarded(store, actor, now, "request extension", item_id, run)


def decide_extension(store: Store, actor: str, request_id: int, approve: bool, now: datetime,
                     comment: str | None = None, item_id: int | None = None) -> ExtensionDecided:
    """Approve (the due time and the ladder move to the new day) or reject a pending request.

    The approver holds one of the step's `extension_approvers` roles and is not the requester. `item_id`: the item
    the person is looking at (a page's form): a request of another item is not found, and tells nothing about it.
    """
    if comment is not None and len(comment) > MAX_REASON:
        raise InvalidInput(f"意见有 {len(comment)} 个字，最多 {MAX_REASON} 个")
    common.check_clock(store, now)
    with store.read() as tx:
        req0 = ext_store.get(tx, request_id)
        if req0 is None or item_id is not None and req0.item_id != item_id:
            raise NotFound((f"事项 {item_id} " if item_id is not None else "")
                           + f"没有延期申请 #{request_id}")
        item_id = req0.item_id

    def run(tx: Tx) -> ExtensionDecided:
        who, locked, defn, holders, held = common.load_act(tx, actor, item_id)
        item = locked.item
        req = ext_store.get(tx, request_id)
        step = item_store.step_by_id(tx, req.step_id)
        if step.state not in defn.states:  # a step left before a live migration renamed its state
            raise InvalidInput(f"延期申请 #{request_id} 所在的环节已结束")
        state = defn.states[step.state]
        authority.decide_extension(defn, state, item.id, who, held, holders, req.requested_by)
        if req.status != ExtensionStatus.PENDING:
            raise InvalidInput(f"延期申请 #{request_id} 已由{req.decided_by}{'同意' if req.status == 'approved' else '不同意'}")
        if step.left_at is not None:
            raise InvalidInput(f"延期申请 #{request_id} 所在的「{state.label}」环节已结束")
        common.not_backdated(now, locked)
        status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
        ext_store.decide(tx, request_id, status=status, by=actor, at=now, comment=comment)
        new_due = step.due_at
        item_values: dict[str, Any] = {"version": item.version + 1, "updated_at": now}
        if approve:
            t = step_times(common.calendar(tx, defn, locked.calendar_digest), defn, state, common.dated(tx, defn, item.fields),
                           entered_at=step.entered_at, extended_to=req.new_date, extra_units=0, next_rung=step.next_rung,
                           running=step.status == StepStatus.OPEN)
            item_store.update_step(tx, step.id, extended_to=req.new_date, extra_units=0, due_at=t.due_at, due_rule=t.due_rule,
                                   provisional=t.provisional, yellow_at=t.yellow_at, next_escalation_at=t.next_escalation_at)
            item_values.update(due_at=t.due_at, yellow_at=t.yellow_at)
            new_due = t.due_at
        item_store.update_item(tx, item.id, **item_values)
        audit_store.append(tx, at=now, actor=actor, kind="extension_" + status, item_id=item.id, from_state=item.state,
                           to_state=item.state, data={"request": request_id, "step_id": step.id, "comment": comment or "",
                                                      "old_due": fmt(step.due_at), "new_due": fmt(new_due),
                                                      "due_at": exact(new_due)})
        return ExtensionDecided(request_id, str(status), item.id, item.version + 1, fmt(step.due_at), fmt(new_due),
                                local_iso(new_due))

    return common.guarded(store, actor, now, "decide extension", item_id, run)
