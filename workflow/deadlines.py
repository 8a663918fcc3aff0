"""Due times of steps, pure: from a step's entry, its date fields, pauses and an extension to its due,
yellow and first escalation times, and the traffic light at a moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from . import escalation
from .calendar import Due, WorkCalendar, compute_due, end_of_day, extend, shift
from .definition import Definition, State

GREEN, YELLOW, RED = "green", "yellow", "red"
LIGHTS = (GREEN, YELLOW, RED)


def start_rung(defn: Definition, fields: dict[str, Any]) -> str | None:
    """The rung an urgent item starts at (None: the ladder's first)."""
    if defn.urgency is None:
        return None
    return defn.urgency.start_rung.get(str(fields.get(defn.urgency.field)))


def due_of(cal: WorkCalendar, state: State, entered_at: datetime, fields: dict[str, Any],
           extended_to: date | None = None, extra_units: int = 0) -> Due | None:
    """A step's due time from its entry, its date fields, an approved extension and its pauses."""
    if state.deadline is None:
        return None
    if extended_to is not None:
        due = Due(end_of_day(extended_to), not cal.is_exact(extended_to), f"经批准延期至 {extended_to}，当日24时")
    else:
        due = compute_due(cal, entered_at, state.deadline, fields)
    if due is None or not extra_units:
        return due
    at, prov = extend(cal, due.at, state.deadline.unit, extra_units)
    unit = {"hours": "秒", "workdays": "个工作日", "days": "日", "months": "日"}[state.deadline.unit]
    return Due(at, due.provisional or prov, f"{due.rule}；挂起顺延{extra_units}{unit}")


@dataclass(frozen=True)
class StepTimes:
    """What a step's clock says: due, yellow and next escalation time, the rule, provisional or not."""

    due_at: datetime | None
    due_rule: str | None
    provisional: bool
    yellow_at: datetime | None
    next_escalation_at: datetime | None


def step_times(cal: WorkCalendar, defn: Definition, state: State, fields: dict[str, Any], *, entered_at: datetime,
               extended_to: date | None = None, extra_units: int = 0, next_rung: int = 0,
               running: bool = True) -> StepTimes:
    """The times of a step; rungs before `next_rung` have fired already and stay fired.

    `running` is False for a paused step: it keeps its due time but has no next escalation.
    """
    due = due_of(cal, state, entered_at, fields, extended_to, extra_units)
    if due is None:
        rule = "待定：" + defn.deadline_text(state) + "（日期未填写）" if state.deadline else None
        return StepTimes(None, rule, False, None, None)
    return times_from_due(cal, defn, state, fields, due, next_rung=next_rung, running=running)


def times_from_due(cal: WorkCalendar, defn: Definition, state: State, fields: dict[str, Any], due: Due, *,
                   next_rung: int = 0, running: bool = True) -> StepTimes:
    """The yellow and next escalation times around a due time already known (kept by a live migration)."""
    yellow_at, prov_y = shift(cal, due.at, state.yellow, "before")
    nxt = escalation.first_time(cal, state, due.at, start_rung(defn, fields), next_rung) if running else None
    return StepTimes(due.at, due.rule, due.provisional or prov_y, yellow_at, nxt)


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
