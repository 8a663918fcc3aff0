"""Which rungs of a step's ladder are due at `now`: pure functions, no database, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from . import caches
from .calendar import WorkCalendar, shift
from .definition import Rung, State


@dataclass(frozen=True)
class Planned:
    index: int
    rung: Rung
    at: datetime


@lru_cache(maxsize=1024)
def effective_ladder(state: State, start_rung: str | None) -> tuple[tuple[int, Rung, Rung], ...]:
    """(index, rung, timing rung) for each rung an item gets.

    An urgent item starts at `start_rung`: the rungs after the due time that come before it are
    dropped, and the start rung takes the time of the first of them, so the first 督办 notice the
    item receives is already at the higher level.
    """
    ladder = list(enumerate(state.ladder))
    if not start_rung or start_rung not in {r.name for r in state.ladder}:
        return tuple((i, r, r) for i, r in ladder)
    k = next(i for i, r in ladder if r.name == start_rung)
    dropped = [(i, r) for i, r in ladder if i < k and r.direction == "after"]
    out = []
    for i, r in ladder:
        if (i, r) in dropped:
            continue
        timing = dropped[0][1] if (i == k and dropped) else r
        out.append((i, r, timing))
    return tuple(out)


caches.register("effective_ladders", effective_ladder)


def plan(cal: WorkCalendar, state: State, due: datetime, start_rung: str | None = None,
         from_rung: int = 0, until: datetime | None = None) -> list[Planned]:
    """The rungs the item gets for this step from `from_rung` on, with their firing times, in ladder order.

    With `until`, stops after the first rung later than it: the sweep needs no more than that.
    """
    out = []
    for i, r, t in effective_ladder(state, start_rung):
        if i < from_rung:
            continue
        out.append(Planned(i, r, shift(cal, due, t.offset, t.direction)[0]))
        if until is not None and out[-1].at > until:
            break
    return out


@dataclass(frozen=True)
class Decision:
    fire: Planned | None
    skipped: tuple[Planned, ...]
    next_rung: int
    next_at: datetime | None


def decide(planned: list[Planned], next_rung: int, now: datetime) -> Decision:
    """At `now`, fire only the highest rung due (from `next_rung` on); the lower ones due are skipped."""
    pending = [p for p in planned if p.index >= next_rung]
    due = [p for p in pending if p.at <= now]
    rest = [p for p in pending if p.at > now]
    if not due:
        return Decision(None, (), next_rung, rest[0].at if rest else None)
    fire = due[-1]
    after = [p for p in rest if p.index > fire.index]
    return Decision(fire, tuple(due[:-1]), fire.index + 1, after[0].at if after else None)


def first_time(cal: WorkCalendar, state: State, due: datetime, start_rung: str | None, from_rung: int) -> datetime | None:
    """When the first rung from `from_rung` on fires (None when there is none): computes only that rung."""
    for i, _r, t in effective_ladder(state, start_rung):
        if i >= from_rung:
            return shift(cal, due, t.offset, t.direction)[0]
    return None
