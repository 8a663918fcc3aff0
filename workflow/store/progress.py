"""The board's progress counts: per unit, template, year and day, the items created and the steps closed (on time,
working days late), kept in the transaction that creates or closes them, and rebuilt from the steps on demand."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Date,
    Integer,
    bindparam,
    case,
    cast,
    delete,
    func,
    null,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import Null

from ..calendar import EPOCH, Spans, WorkCalendar, local_date
from .driver import Prepared
from .engine import Tx
from .models import LEFT_WITH_PARENT, Item, ProgressCount, Step, SubItem

COUNTS = ("items", "closed", "on_time", "late_workdays")


# --- kept as the engine works ------------------------------------------------------------------------------------

def item_created(tx: Tx, item_id: int, at: datetime) -> None:
    """An item was created at `at`: it counts for its group, and for the unit it was handed to as a sub-item."""
    _note(tx, item_id, at, Counter(items=1))


def step_closed(tx: Tx, item_id: int, at: datetime, on_time: bool, late_workdays: int) -> None:
    """A step with a deadline was left by a move at `at` (not closed with its parent's step)."""
    _note(tx, item_id, at, Counter(closed=1, on_time=int(on_time), late_workdays=late_workdays))


def _note(tx: Tx, item_id: int, at: datetime, counts: Counter) -> None:
    pending = tx.pending.get("progress")
    if pending is None:
        pending = tx.pending["progress"] = []
        tx.before_commit(_flush)
    pending.append((item_id, local_date(at), counts))


def _upsert(dialect):
    t = ProgressCount.__table__
    ins = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(t).values(
        {c: bindparam(c) for c in ("unit_id", "template_key", "year", "day", *COUNTS)})
    return ins.on_conflict_do_update(index_elements=["unit_id", "template_key", "year", "day"],
                                     set_={c: t.c[c] + ins.excluded[c] for c in COUNTS})


# Run on every move: compiled once per dialect (see store.driver), not built and compiled by SQLAlchemy each time.
_UNITS = Prepared(lambda: select(Item.template_key, Item.created_at, Item.group_unit_id, SubItem.unit_id)
                  .outerjoin(SubItem, SubItem.child_id == Item.id).where(Item.id == bindparam("id")))
_ADD = {"sqlite": Prepared(lambda: _upsert("sqlite")), "postgresql": Prepared(lambda: _upsert("postgresql"))}


def _flush(tx: Tx) -> None:
    """Add what the transaction noted to the counts: each item's units read once, one upsert a row, in key order."""
    pending = tx.pending.pop("progress", [])
    of: dict[int, tuple[str, int, set[int]]] = {}
    sums: dict[tuple, Counter] = defaultdict(Counter)
    for item_id, day, counts in pending:
        if item_id not in of:
            r = tx.memo.get(("units", item_id)) or _UNITS.first(tx, {"id": item_id})
            of[item_id] = (r["template_key"], local_date(r["created_at"]).year,
                           {u for u in (r["group_unit_id"], r["unit_id"]) if u is not None})
        key, year, units = of[item_id]
        for u in units:
            sums[(u, key, year, day)].update(counts)
    _add(tx, sums)


def _add(tx: Tx, sums: dict[tuple, Counter]) -> None:
    add = _ADD[tx.dialect]
    for (u, k, y, d), n in sorted(sums.items()):
        add.run(tx, {"unit_id": u, "template_key": k, "year": y, "day": d, **{c: n.get(c, 0) for c in COUNTS}})


# --- read by the board -----------------------------------------------------------------------------------------

def totals(tx: Tx, unit_ids: list[int], templates: list[str], year: int, last: date) -> dict[int, Counter]:
    """Per unit: the counts of `year`'s items of `templates`, from 1 January to `last` (included)."""
    t = ProgressCount.__table__.c
    q = (select(t.unit_id, *[func.sum(t[c]).label(c) for c in COUNTS])
         .where(t.unit_id.in_(unit_ids), t.template_key.in_(templates), t.year == year, t.day <= last)
         .group_by(t.unit_id))
    return {r.unit_id: Counter({c: int(getattr(r, c) or 0) for c in COUNTS}) for r in tx.execute(q)}


def totals_of_orgs(tx: Tx, org_ids: list[int], templates: list[str], year: int, last: date,
                   cal: WorkCalendar) -> dict[int, Counter]:
    """`totals` per organisation, counted from the items and steps (the kept counts are per unit): `year`'s items of
    `templates` created to `last`, and their steps with a deadline closed by a move to `last` (on time, working days
    late)."""
    out: dict[int, Counter] = defaultdict(Counter)
    created, cut = day_number(tx, Item.created_at), (last - EPOCH).days
    q = (select(Item.organisation_id, func.count()).where(Item.organisation_id.in_(org_ids), Item.template_key.in_(templates),
                                                          _year(tx, Item.created_at) == year, created <= cut)
         .group_by(Item.organisation_id))
    for org, n in tx.execute(q):
        out[org]["items"] += n
    s = Step.__table__.c
    closed = day_number(tx, s.left_at)
    where = [s.left_at.is_not(None), s.due_at.is_not(None), or_(s.left_via.is_(None), s.left_via != LEFT_WITH_PARENT),
             Item.template_key.in_(templates), _year(tx, Item.created_at) == year, closed <= cut]
    cols = [closed.label("d"), case((s.left_at <= s.due_at, 1), else_=0).label("on_time"),
            case((s.left_at > s.due_at, day_number(tx, s.due_at, last=True)), else_=None).label("due_day")]
    q = members(cols, where, org_ids, by_org=True)
    span = Spans(cal)
    for org, _h, d, on_time, due_day, n in tx.execute(q.add_columns(func.count()).group_by(*groupable(q.selected_columns))):
        c = out[org]
        c["closed"] += n
        c["on_time"] += on_time * n
        if due_day is not None:
            c["late_workdays"] += span(due_day + 1, d) * n
    return dict(out)


# --- rebuilt from the steps ------------------------------------------------------------------------------------

def day_number(tx: Tx, col, last: bool = False):
    """The Shanghai day of a timestamp as a day number (days since 1970-01-01), computed by the database;
    `last`: the day a due time closes (24:00 belongs to the day before). Exact to the millisecond on SQLite (its date
    functions round to it, so a time in the last half-millisecond of a day counts on the next), to the microsecond
    on PostgreSQL."""
    if tx.dialect == "sqlite":
        x = func.julianday(col) - 2440587.5 + 1.0 / 3
        return cast(x - 1e-8 if last else x + 1e-8, Integer)
    local = col + text("interval '8 hours'")
    if last:
        local = local - text("interval '1 microsecond'")
    return type_coerce(cast(local, Date) - text("DATE '1970-01-01'"), Integer)  # date arithmetic: no numeric division


def _year(tx: Tx, col):
    """The Shanghai year of a timestamp, computed by the database."""
    if tx.dialect == "sqlite":
        return cast(func.strftime("%Y", col, "+8 hours"), Integer)
    return cast(func.extract("year", col + text("interval '8 hours'")), Integer)


def members(cols, where, unit_ids: list[int] | None = None, source=None, item_id=None, by_org: bool = False):
    """One read of `source` (the steps, or a join with an item_id column) joined to the items, with the item's group
    `g` and the unit `h` it was handed to as a sub-item (or NULL) first; `unit_ids` keeps rows of those units. Driven
    from `source`: the conditions on it choose the index. `spread` turns (g, h, …) rows into (unit, …) rows.

    `by_org`: the organisation the item belongs to is `g` (and `h` is NULL), `unit_ids` are organisations: a board
    that compares organisations counts each item once, for its own 人大 (a 联动 sub-item for the district's)."""
    s = Step.__table__ if source is None else source
    item_id = Step.__table__.c.item_id if item_id is None else item_id
    if by_org:
        q = (select(Item.organisation_id.label("g"), null().label("h"), *cols)
             .select_from(s.join(Item, Item.id == item_id)).where(*where))
        return q if unit_ids is None else q.where(Item.organisation_id.in_(unit_ids))
    q = (select(Item.group_unit_id.label("g"), SubItem.unit_id.label("h"), *cols)
         .select_from(s.join(Item, Item.id == item_id).outerjoin(SubItem, SubItem.child_id == Item.id)).where(*where))
    if unit_ids is not None:
        q = q.where(or_(Item.group_unit_id.in_(unit_ids), SubItem.unit_id.in_(unit_ids)))
    return q


def keys_of(q) -> list:
    """The (g, h) columns of a `members` read, to group by."""
    return groupable(q.selected_columns[:2])


def groupable(cols) -> list:
    """The columns to GROUP BY: all but a NULL constant (by_org's `h`; PostgreSQL refuses to group by a constant)."""
    return [c for c in cols if not isinstance(getattr(c, "element", c), Null)]


def spread(rows, unit_ids: list[int] | None = None):
    """(g, h, …) rows → (unit, …) rows: an item counts for its group and for the unit it was handed to (once when
    they are the same), among `unit_ids` when given."""
    keep = None if unit_ids is None else set(unit_ids)
    for g, h, *rest in rows:
        for u in (g, h) if h != g else (g,):
            if u is not None and (keep is None or u in keep):
                yield (u, *rest)


def rebuild(tx: Tx, cal: WorkCalendar, since: date | None = None) -> int:
    """Count again from the items and steps (every day, or the days from `since`): after a calendar import changed
    which days are working days, and after rows were loaded in bulk. Returns the rows written."""
    t = ProgressCount.__table__
    tx.execute(delete(t).where(t.c.day >= since) if since else delete(t))
    s = Step.__table__.c
    sums: dict[tuple, Counter] = defaultdict(Counter)
    first = (since - EPOCH).days if since else None
    # the items created, per creation day
    created = day_number(tx, Item.created_at)
    q = (select(Item.group_unit_id, SubItem.unit_id, Item.template_key, _year(tx, Item.created_at), created, func.count())
         .outerjoin(SubItem, SubItem.child_id == Item.id))
    if first is not None:
        q = q.where(created >= first)
    for u, k, y, d, n in spread(tx.execute(q.group_by(*q.selected_columns[:5]))):
        sums[(u, k, y, EPOCH + timedelta(days=d))]["items"] += n
    # the steps closed by a move, per day of closing; the late ones with the last day of their due time
    closed = day_number(tx, s.left_at)
    late = s.left_at > s.due_at
    where = [s.left_at.is_not(None), s.due_at.is_not(None), or_(s.left_via.is_(None), s.left_via != LEFT_WITH_PARENT)]
    if first is not None:
        where.append(closed >= first)
    cols = [Item.template_key.label("k"), _year(tx, Item.created_at).label("y"), closed.label("d"),
            case((s.left_at <= s.due_at, 1), else_=0).label("on_time"),
            case((late, day_number(tx, s.due_at, last=True)), else_=None).label("due_day")]
    q = members(cols, where)
    keys = q.selected_columns
    span = Spans(cal)
    for u, k, y, d, on_time, due_day, n in spread(tx.execute(q.add_columns(func.count()).group_by(*keys))):
        c = sums[(u, k, y, EPOCH + timedelta(days=d))]
        c["closed"] += n
        c["on_time"] += on_time * n
        if due_day is not None:
            c["late_workdays"] += span(due_day + 1, d) * n
    _add(tx, sums)
    return len(sums)


def rare(tx: Tx, condition):
    """A condition few rows meet, said so to SQLite's planner (which would otherwise read every item and probe its
    steps rather than read the few rows by the condition's index); PostgreSQL's statistics tell it by themselves."""
    return func.unlikely(condition) if tx.dialect == "sqlite" else condition


def counted_items(templates: list[str], start: datetime, cut: datetime) -> list:
    """The items counted: of `templates`, created in [start, cut)."""
    return [Item.template_key.in_(templates), Item.created_at >= start, Item.created_at < cut]


def open_at(tx: Tx, unit_ids: list[int], templates: list[str], start: datetime, cut: datetime,
            finals: list[str], by_org: bool = False) -> list[tuple]:
    """The counted steps open at `cut` (entered before it, left at or after it or not yet) of the items of
    `templates` created in [start, cut): (unit, light at `cut`, the last day of the due time when it has passed, how
    many). Few rows: the open steps of today's board, or those of an earlier day still open at it."""
    s = Step.__table__.c
    lit = case((s.due_at <= cut, "red"), (s.yellow_at <= cut, "yellow"), else_="green")
    due_day = case((s.due_at < cut, day_number(tx, s.due_at, last=True)), else_=None)
    where = [s.entered_at < cut, s.due_at.is_not(None), s.state.not_in(finals or ["-"]),
             or_(s.left_via.is_(None), s.left_via != LEFT_WITH_PARENT), *counted_items(templates, start, cut)]
    cols = [lit.label("light"), due_day.label("due_day")]
    # open now, and left since the cut: two reads by ix_steps_left_at (an OR of the two would read every step)
    out: Counter = Counter()
    for left in (s.left_at.is_(None), rare(tx, s.left_at >= cut)):
        q = members(cols, [left, *where], unit_ids, by_org=by_org)
        for *key, n in spread(tx.execute(q.add_columns(func.count()).group_by(*groupable(q.selected_columns))), unit_ids):
            out[tuple(key)] += n
    return [(*k, n) for k, n in out.items()]

