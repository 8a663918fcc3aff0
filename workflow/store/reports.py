"""The queries of the board, the ledger and the results report: activities, scores, digests, and aggregates per unit."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    String,
    Time,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite

from . import driver
from .engine import Tx
from .items import lights
from .models import (
    Activity,
    ActivityDeputy,
    Digest,
    Item,
    Organisation,
    OrgUnit,
    Person,
    Score,
    Step,
)
from .organisations import in_orgs
from .progress import counted_items, day_number, keys_of, members, rare, spread

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

def orgs_of_level(tx: Tx, level: str, orgs: list[int | None] | None = None) -> list[tuple[int, str, str]]:
    """(id, code, name) of the organisations of a level (province, city, district, township), of `orgs` only when
    given; never the root (it is one, and its items are stored without an organisation)."""
    q = select(Organisation.id, Organisation.code, Organisation.name).where(Organisation.level == level,
                                                                            Organisation.parent_id.is_not(None))
    if orgs is not None:
        q = q.where(in_orgs(Organisation.id, orgs))  # the root (None) is never of a compared level
    return [tuple(r) for r in tx.execute(q.order_by(Organisation.code))]


def units_of_kind(tx: Tx, kind: str, orgs: list[int | None] | None = None) -> list[tuple[int, str, str]]:
    """(id, code, name) of the units of a kind, of the organisations `orgs` only when given."""
    q = select(OrgUnit.id, OrgUnit.code, OrgUnit.name).where(OrgUnit.kind == kind)
    if orgs is not None:
        q = q.where(in_orgs(OrgUnit.organisation_id, orgs))
    return [tuple(r) for r in tx.execute(q.order_by(OrgUnit.code))]


def reached(tx: Tx, unit_ids: list[int], templates: list[str], start: datetime, cut: datetime,
            states: list[str], by_org: bool = False) -> dict[int, int]:
    """Per unit: the items that entered any of `states` before `cut` (read by state: ix_steps_state)."""
    s = Step.__table__.c
    q = members([func.count(func.distinct(s.item_id))], [s.state.in_(states or ["-"]), s.entered_at < cut,
                                                          *counted_items(templates, start, cut)], unit_ids, by_org=by_org)
    out: Counter = Counter()
    for u, n in spread(tx.execute(q.group_by(*keys_of(q))), unit_ids):
        out[u] += n
    return dict(out)


def steps_left_by(tx: Tx, unit_ids: list[int], templates: list[str], start: datetime, cut: datetime,
                  triggers: list[str], by_org: bool = False) -> list[tuple[int, int, str, dict[str, Any]]]:
    """(unit, item, trigger, the step's values) of the steps left by one of `triggers` before `cut`."""
    if not triggers:
        return []
    s = Step.__table__.c
    q = members([s.item_id, s.left_via, s.fields], [s.left_via.in_(triggers), s.left_at < cut, *counted_items(templates, start, cut)],
                unit_ids, by_org=by_org).order_by(s.item_id, s.seq)
    return [(u, i, via, fields or {}) for u, i, via, fields in spread(tx.execute(q), unit_ids)]


def state_visits(tx: Tx, unit_ids: list[int], templates: list[str], start: datetime, cut: datetime,
                 state: str, by_org: bool = False) -> list[tuple[int, int, datetime | None]]:
    """(unit, item, left_at of its latest visit to `state` entered before `cut`, None if it stood there at `cut`)."""
    s = Step.__table__.c
    q = members([s.item_id, s.left_at], [s.state == state, s.entered_at < cut, *counted_items(templates, start, cut)],
                unit_ids, by_org=by_org).order_by(s.item_id, s.seq)
    latest: dict[tuple[int, int], datetime | None] = {}
    for u, i, left in spread(tx.execute(q), unit_ids):
        latest[(u, i)] = left if left is not None and left < cut else None
    return [(u, i, left) for (u, i), left in latest.items()]


def attendances(tx: Tx, unit_ids: list[int], templates: list[str], start: datetime, cut: datetime,
                first: date, last: date, by_org: bool = False) -> dict[int, int]:
    """Per unit: the deputies' attendances at activities on its items, dated within [first, last]."""
    a = Activity.__table__
    source = a.join(ActivityDeputy.__table__, ActivityDeputy.activity_id == a.c.id)
    q = members([func.count()], [rare(tx, and_(a.c.day >= first, a.c.day <= last)), *counted_items(templates, start, cut)], unit_ids,
                source=source, item_id=a.c.item_id, by_org=by_org)
    out: Counter = Counter()
    for u, n in spread(tx.execute(q.group_by(*keys_of(q))), unit_ids):
        out[u] += n
    return dict(out)


# --- the 台账 ---------------------------------------------------------------------------------------

def _shown(tx: Tx, col):
    """A timestamp as a clerk reads it, formatted by the database: Shanghai time, 'YYYY-MM-DD HH:MM', midnight shown
    as 24:00 of the day before (as workflow.present.fmt does, without a Python call per value); '' for NULL. SQLite
    keeps 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, where Shanghai's midnight is 16:00:00 of the day before: compared as
    text; datetime() is given the minutes only, because it rounds a fraction of a second (59.9999 s would read as the
    next minute). PostgreSQL tells midnight by the time of day, which costs less than a second to_char()."""
    null = [(col.is_(None), "")] if getattr(col, "nullable", True) else []  # a NOT NULL column needs no test
    if tx.dialect == "sqlite":
        t = type_coerce(col, String)
        return case(*null, (func.substr(t, 12, 8) == "16:00:00", func.substr(t, 1, 10) + " 24:00"),
                    else_=func.substr(func.datetime(func.substr(t, 1, 16), "+8 hours"), 1, 16))  # minutes: datetime() rounds
    local = col + text("interval '8 hours'")
    return case(*null, (cast(local, Time) < text("TIME '00:00:01'"),
                        func.to_char(local - text("interval '1 day'"), "YYYY-MM-DD") + " 24:00"),
                else_=func.to_char(local, "YYYY-MM-DD HH24:MI"))


def _light_cn(red, yellow):
    return case((red, "红"), (yellow, "黄"), else_="绿")


def ledger_items(tx: Tx, item_ids, now: datetime, spawning: tuple[tuple[int, str], ...] = ()):
    """The items (a subquery of ids) in id order: (id, title, group code, state, light at `now` in Chinese as the
    item page shows it — at a `spawning` step its open sub-items' clocks count too — or 办结 for a finished item,
    created as text, field values), from the driver's cursor."""
    lit = case((Item.finished_at.is_not(None), "办结"), else_=_light_cn(*lights(now, Item, spawning)))
    q = (select(Item.id, Item.title, func.coalesce(OrgUnit.code, ""), Item.state, lit, _shown(tx, Item.created_at), Item.fields)
         .outerjoin(OrgUnit, OrgUnit.id == Item.group_unit_id).where(Item.id.in_(item_ids)).order_by(Item.id))
    return driver.stream(tx, q)


def ledger_steps(tx: Tx, item_ids, now: datetime):
    """Every step of the items (a subquery of ids), in item and visit order, from the driver's cursor: (item, state,
    its first cells as one text 'entered,due,finished,light' — times as a clerk reads them, the light of an open step
    at `now` in Chinese, '' once left; none of them holds a comma —, and for a step late at its finish or at `now`
    the first day number of the lateness (else None) and the day number of its finish or of `now`)."""
    s = Step.__table__.c
    at = literal(now, s.due_at.type)
    end = func.coalesce(s.left_at, at)
    lit = case((s.left_at.is_not(None), ""), else_=_light_cn(*lights(at, s)))
    cells = _shown(tx, s.entered_at) + "," + _shown(tx, s.due_at) + "," + _shown(tx, s.left_at) + "," + lit
    q = (select(s.item_id, s.state, cells,
                case((end > s.due_at, day_number(tx, s.due_at, last=True) + 1), else_=None), day_number(tx, end))
         .where(s.item_id.in_(item_ids)).order_by(s.item_id, s.seq))
    return driver.stream(tx, q)
