"""The queries of the board, the ledger and the results report: activities, scores, digests, and aggregates per unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite

from .engine import Tx
from .models import (
    LEFT_WITH_PARENT,
    Activity,
    ActivityDeputy,
    Digest,
    Item,
    OrgUnit,
    Person,
    Score,
    Step,
    SubItem,
)

# --- activities and scores ----------------------------------------------------------------------


@dataclass(slots=True)
class ActivityRow:
    id: int
    item_id: int
    kind: str
    day: date
    note: str | None
    created_by: str | None
    deputies: list[tuple[str, str]]  # (code, name)


def add_activity(tx: Tx, *, item_id: int, kind: str, day: date, note: str | None, deputy_ids: list[int], at: datetime,
                 by: str) -> int:
    aid = tx.execute(insert(Activity).values(item_id=item_id, kind=kind, day=day, note=note, created_at=at, created_by=by)
                     .returning(Activity.id)).scalar_one()
    if deputy_ids:
        tx.execute(insert(ActivityDeputy), [{"activity_id": aid, "person_id": p} for p in deputy_ids])
    return aid


def activities(tx: Tx, item_ids: list[int] | None = None, year: int | None = None) -> list[ActivityRow]:
    q = select(Activity.id, Activity.item_id, Activity.kind, Activity.day, Activity.note, Activity.created_by).order_by(
        Activity.day, Activity.id)
    if item_ids is not None:
        q = q.where(Activity.item_id.in_(item_ids or [-1]))
    if year is not None:
        q = q.where(Activity.day >= date(year, 1, 1), Activity.day <= date(year, 12, 31))
    rows = [ActivityRow(r.id, r.item_id, r.kind, r.day, r.note, r.created_by, []) for r in tx.execute(q)]
    by_id = {r.id: r for r in rows}
    if rows:
        for aid, code, name in tx.execute(
                select(ActivityDeputy.activity_id, Person.code, Person.name).join(Person, Person.id == ActivityDeputy.person_id)
                .where(ActivityDeputy.activity_id.in_(list(by_id))).order_by(ActivityDeputy.activity_id, Person.code)):
            by_id[aid].deputies.append((code, name))
    return rows


def _once(tx: Tx, table, values: dict[str, Any], keys: list[str]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on the unique `keys`: True when this row is the first (the claim)."""
    ins = (sqlite.insert if tx.dialect == "sqlite" else postgresql.insert)(table)
    stmt = ins.values(**values).on_conflict_do_nothing(index_elements=keys).returning(table.c.id)
    return tx.execute(stmt).first() is not None


def add_score(tx: Tx, *, scorecard: str, year: int, unit_id: int, evaluator_id: int, score: int, comment: str | None,
              at: datetime) -> bool:
    """Record a score; False when this evaluator has scored this unit in this year already (the unique key says so)."""
    return _once(tx, Score.__table__, dict(scorecard=scorecard, year=year, unit_id=unit_id, evaluator_id=evaluator_id,
                                           score=score, comment=comment, at=at), ["scorecard", "year", "unit_id", "evaluator_id"])


def scores(tx: Tx, scorecard: str, year: int, until: datetime) -> list[tuple[int, str, str, int, str | None, datetime]]:
    """(unit id, evaluator code, evaluator name, score, comment, at) of a scorecard's year, recorded before `until`."""
    q = (select(Score.unit_id, Person.code, Person.name, Score.score, Score.comment, Score.at)
         .join(Person, Person.id == Score.evaluator_id)
         .where(Score.scorecard == scorecard, Score.year == year, Score.at < until).order_by(Score.unit_id, Score.at))
    return [tuple(r) for r in tx.execute(q).all()]


def claim_digest(tx: Tx, scorecard: str, period: str, at: datetime, messages: int) -> bool:
    """Claim a digest period (the unique key): False when another process has sent it already."""
    return _once(tx, Digest.__table__, dict(scorecard=scorecard, period=period, created_at=at, messages=messages),
                 ["scorecard", "period"])


def digests(tx: Tx, scorecard: str) -> list[tuple[str, datetime, int]]:
    return [tuple(r) for r in tx.execute(select(Digest.period, Digest.created_at, Digest.messages)
                                         .where(Digest.scorecard == scorecard).order_by(Digest.id))]


# --- the board's aggregates ------------------------------------------------------------------------

def units_of_kind(tx: Tx, kind: str) -> list[tuple[int, str, str]]:
    return [tuple(r) for r in tx.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.name).where(OrgUnit.kind == kind)
                                         .order_by(OrgUnit.code))]


def _belongs(unit_ids: list[int]):
    """(item_id, unit_id): an item belongs to its group and to the unit it was handed to as a sub-item."""
    return union_all(
        select(Item.id.label("item_id"), Item.group_unit_id.label("unit_id")).where(Item.group_unit_id.in_(unit_ids)),
        select(SubItem.child_id.label("item_id"), SubItem.unit_id.label("unit_id")).where(SubItem.unit_id.in_(unit_ids)),
    ).subquery("belongs")


def _items(unit_ids: list[int], templates: list[str], start: datetime, cut: datetime):
    b = _belongs(unit_ids)
    return (select(b.c.unit_id, Item.id.label("item_id"))
            .join(Item, Item.id == b.c.item_id)
            .where(Item.template_key.in_(templates), Item.created_at >= start, Item.created_at < cut)).subquery("its")


def _day(tx: Tx, col, last: bool = False):
    """The Shanghai day of a timestamp as a day number (days since 1970-01-01), computed by the database;
    `last`: the day a due time closes (24:00 belongs to the day before). Dates far from 1970 are exact to the ms."""
    if tx.dialect == "sqlite":
        x = func.julianday(col) - 2440587.5 + 1.0 / 3
        return cast(x - 1e-8 if last else x + 1e-8, Integer)
    return cast(func.floor((func.extract("epoch", col) + 28800 - (0.000001 if last else 0)) / 86400), Integer)


def step_groups(tx: Tx, unit_ids: list[int], templates: list[str], start: datetime, cut: datetime,
                final_states: list[str]) -> list[tuple]:
    """One pass over the steps: (unit, judged, on_time, light at `cut`, last day of the due time, day of the end,
    how many) — the last two only for steps judged late, so the groups stay few. A step counts when it has a
    deadline, is not final, was entered before `cut` and not closed with its parent's step; it is judged when
    finished by `cut` or due by then; its end is its finish, or `cut`."""
    its = _items(unit_ids, templates, start, cut)
    s = Step.__table__.c
    at = literal(cut, s.due_at.type)
    finished = and_(s.left_at.is_not(None), s.left_at < at)
    judged = or_(finished, s.due_at < at)
    end = case((finished, s.left_at), else_=at)
    late = and_(judged, end > s.due_at)
    open_ = or_(s.left_at.is_(None), s.left_at >= at)
    lit = case((and_(open_, s.due_at <= at), "red"), (and_(open_, s.yellow_at <= at), "yellow"), (open_, "green"), else_=None)
    cols = [case((judged, 1), else_=0).label("judged"), case((and_(finished, s.left_at <= s.due_at), 1), else_=0).label("on_time"),
            lit.label("light"), case((late, _day(tx, s.due_at, last=True)), else_=None).label("due_day"),
            case((late, _day(tx, end)), else_=None).label("end_day")]
    q = (select(its.c.unit_id, *cols, func.count().label("n")).select_from(its)
         .join(Step.__table__, s.item_id == its.c.item_id)
         .where(s.entered_at < at, s.due_at.is_not(None), s.state.not_in(final_states or ["-"]),
                or_(s.left_via.is_(None), s.left_via != LEFT_WITH_PARENT))
         .group_by(its.c.unit_id, *cols))
    return [tuple(r) for r in tx.execute(q).all()]


def items_per_unit(tx: Tx, unit_ids: list[int], templates: list[str], start: datetime, cut: datetime) -> dict[int, int]:
    its = _items(unit_ids, templates, start, cut)
    return {u: int(n) for u, n in tx.execute(select(its.c.unit_id, func.count()).group_by(its.c.unit_id))}


def reached(tx: Tx, unit_ids: list[int], templates: list[str], start: datetime, cut: datetime,
            states: list[str]) -> dict[int, int]:
    """Per unit: the items that entered any of `states` before `cut`."""
    its = _items(unit_ids, templates, start, cut)
    s = Step.__table__.c
    q = (select(its.c.unit_id, func.count(func.distinct(its.c.item_id))).select_from(its)
         .join(Step.__table__, s.item_id == its.c.item_id)
         .where(s.state.in_(states or ["-"]), s.entered_at < cut).group_by(its.c.unit_id))
    return {u: int(n) for u, n in tx.execute(q)}


def steps_left_by(tx: Tx, unit_ids: list[int], templates: list[str], start: datetime, cut: datetime,
                  triggers: list[str]) -> list[tuple[int, int, str, dict[str, Any]]]:
    """(unit, item, trigger, the step's values) of the steps left by one of `triggers` before `cut`."""
    if not triggers:
        return []
    its = _items(unit_ids, templates, start, cut)
    s = Step.__table__.c
    q = (select(its.c.unit_id, its.c.item_id, s.left_via, s.fields).select_from(its)
         .join(Step.__table__, s.item_id == its.c.item_id)
         .where(s.left_via.in_(triggers), s.left_at < cut).order_by(its.c.item_id, s.seq))
    return [(r.unit_id, r.item_id, r.left_via, r.fields or {}) for r in tx.execute(q)]


def state_visits(tx: Tx, unit_ids: list[int], templates: list[str], start: datetime, cut: datetime,
                 state: str) -> list[tuple[int, int, datetime | None]]:
    """(unit, item, left_at of its latest visit to `state` entered before `cut`, None if it stood there at `cut`)."""
    its = _items(unit_ids, templates, start, cut)
    s = Step.__table__.c
    q = (select(its.c.unit_id, its.c.item_id, s.seq, s.left_at).select_from(its).join(Step.__table__, s.item_id == its.c.item_id)
         .where(s.state == state, s.entered_at < cut).order_by(its.c.item_id, s.seq))
    latest: dict[tuple[int, int], datetime | None] = {}
    for r in tx.execute(q):
        latest[(r.unit_id, r.item_id)] = r.left_at if r.left_at is not None and r.left_at < cut else None
    return [(u, i, left) for (u, i), left in latest.items()]


def attendances(tx: Tx, unit_ids: list[int], templates: list[str], start: datetime, cut: datetime,
                first: date, last: date) -> dict[int, int]:
    """Per unit: the deputies' attendances at activities on its items, dated within [first, last]."""
    its = _items(unit_ids, templates, start, cut)
    q = (select(its.c.unit_id, func.count()).select_from(its).join(Activity.__table__, Activity.item_id == its.c.item_id)
         .join(ActivityDeputy.__table__, ActivityDeputy.activity_id == Activity.id)
         .where(Activity.day >= first, Activity.day <= last).group_by(its.c.unit_id))
    return {u: int(n) for u, n in tx.execute(q)}


# --- the 台账 ---------------------------------------------------------------------------------------

def _shown(tx: Tx, col):
    """A timestamp as a clerk reads it, formatted by the database: Shanghai time, 'YYYY-MM-DD HH:MM', midnight shown
    as 24:00 of the day before (as workflow.present.fmt does, without a Python call per value)."""
    if tx.dialect == "sqlite":
        def f(fmt, *mods):
            return func.strftime(fmt, col, "+8 hours", *mods)
        return case((col.is_(None), ""), (f("%H:%M:%f") == "00:00:00.000", f("%Y-%m-%d", "-1 day") + " 24:00"),
                    else_=f("%Y-%m-%d %H:%M"))
    local = col + text("interval '8 hours'")
    return case((col.is_(None), ""), (func.to_char(local, "HH24:MI:SS.US") == "00:00:00.000000",
                                      func.to_char(local - text("interval '1 day'"), "YYYY-MM-DD") + " 24:00"),
                else_=func.to_char(local, "YYYY-MM-DD HH24:MI"))


def ledger_steps(tx: Tx, item_ids, now: datetime) -> list[tuple]:
    """Every step of the items (a subquery of ids), in item and visit order: (item, state, entered, due, finished as
    text, the light of an open step at `now`, and for a step late at its finish or at `now` the first and last day
    numbers of the lateness)."""
    s = Step.__table__.c
    at = literal(now, s.due_at.type)
    clock = func.coalesce(s.paused_at, at)
    end = func.coalesce(s.left_at, at)
    lit = case((s.left_at.is_not(None), ""), (s.due_at.is_(None), "green"), (s.due_at <= clock, "red"),
               (s.yellow_at <= clock, "yellow"), else_="green")
    late = and_(s.due_at.is_not(None), end > s.due_at)
    q = (select(s.item_id, s.state, _shown(tx, s.entered_at), _shown(tx, s.due_at), _shown(tx, s.left_at), lit,
                case((late, _day(tx, s.due_at, last=True) + 1), else_=None), case((late, _day(tx, end)), else_=None))
         .where(s.item_id.in_(item_ids)).order_by(s.item_id, s.seq))
    return [tuple(r) for r in tx.execute(q).all()]
