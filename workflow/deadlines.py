"""Due times of steps: computing them on entry, traffic lights, pause/resume, extensions, recomputation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import escalation
from .calendar import TZ, Due, WorkCalendar, compute_due, end_of_day, extend, shift
from .definition import Definition, State
from .models import Item, Step, StepStatus

GREEN, YELLOW, RED = "green", "yellow", "red"
LIGHT_CN = {GREEN: "绿", YELLOW: "黄", RED: "红"}


def start_rung(defn: Definition, fields: dict[str, Any]) -> str | None:
    if defn.urgency is None:
        return None
    return defn.urgency.start_rung.get(str(fields.get(defn.urgency.field)))


def due_of(cal: WorkCalendar, state: State, step: Step, item: Item) -> Due | None:
    """A step's due time from its entry, its date fields, an approved extension and its pauses."""
    if state.deadline is None:
        return None
    if step.extended_to is not None:
        due = Due(end_of_day(step.extended_to), not cal.is_exact(step.extended_to),
                  f"经批准延期至 {step.extended_to}，当日24时")
    else:
        due = compute_due(cal, step.entered_at, state.deadline, item.fields)
    if due is None or not step.extra_units:
        return due
    at, prov = extend(cal, due.at, state.deadline.unit, step.extra_units)
    unit = {"hours": "秒", "workdays": "个工作日", "days": "日", "months": "日"}[state.deadline.unit]
    return Due(at, due.provisional or prov, f"{due.rule}；挂起顺延{step.extra_units}{unit}")


def schedule(cal: WorkCalendar, defn: Definition, state: State, step: Step, item: Item) -> None:
    """Set the step's due, yellow and next escalation times; rungs already fired stay fired."""
    due = due_of(cal, state, step, item)
    if due is None:
        step.due_at = step.yellow_at = step.next_escalation_at = None
        step.due_rule = "待定：" + defn.deadline_text(state) + "（日期未填写）" if state.deadline else None
        step.provisional = False
        return
    step.due_at, step.due_rule = due.at, due.rule
    step.yellow_at, prov_y = shift(cal, due.at, state.yellow, "before")
    step.next_escalation_at = (escalation.first_time(cal, state, due.at, start_rung(defn, item.fields), step.next_rung or 0)
                               if step.status == StepStatus.OPEN else None)
    step.provisional = due.provisional or prov_y


def light(due_at: datetime | None, yellow_at: datetime | None, now: datetime, paused_at: datetime | None = None) -> str:
    """绿/黄/红 of an open step; the clock of a paused step stands at the moment it was paused."""
    at = paused_at or now
    if due_at is None:
        return GREEN
    if at >= due_at:
        return RED
    if yellow_at is not None and at >= yellow_at:
        return YELLOW
    return GREEN


def fmt(at: datetime | None) -> str:
    """A due time as a clerk reads it: local time, midnight shown as 24:00 of the day before."""
    if at is None:
        return "—"
    local = at.astimezone(TZ)
    if local.hour == 0 and local.minute == 0 and local.second == 0:
        return (local - timedelta(days=1)).strftime("%Y-%m-%d") + " 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


def sync_item(item: Item, step: Step) -> None:
    item.due_at, item.yellow_at, item.paused_at = step.due_at, step.yellow_at, step.paused_at


def recompute_provisional(session: Session, now: datetime) -> int:
    """Recompute the due times of open steps computed from provisional calendar data."""
    from . import registry
    from .calendar_store import calendar_for

    n = 0
    steps = session.execute(select(Step).where(Step.provisional.is_(True), Step.left_at.is_(None))).scalars().all()
    for step in steps:
        item = session.get(Item, step.item_id)
        defn = registry.definition_by_id(session, item.template_version_id)
        cal = calendar_for(session, defn)
        state = defn.states[step.state]
        schedule(cal, defn, state, step, item)
        sync_item(item, step)
        n += 1
    return n
