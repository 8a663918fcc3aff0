"""Items, their step visits and role assignments: every read and write of those tables, as typed rows."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from ..rows import Holder, ItemBrief, ItemRow, LockedItem, StepRow
from .calendar import latest_digest_column
from .driver import Prepared
from .engine import Tx
from .models import Assignment, Escalation, Item, OrgUnit, Person, Step, StepStatus, SubItem
from .organisations import in_orgs

ITEM_COLUMNS = tuple(c.name for c in Item.__table__.columns)
STEP_COLUMNS = tuple(c.name for c in Step.__table__.columns)
_STEP_INSERT_COLUMNS = tuple(c for c in STEP_COLUMNS if c != "id")

# The step number comes from a subquery, not a join: on PostgreSQL a row locked FOR UPDATE is
# re-checked after a concurrent commit, and a join would be re-checked against the old step row.
_LOCK = Prepared(lambda: select(
    Item.__table__, latest_digest_column().label("calendar_digest"),
    select(func.max(Escalation.claimed_at)).where(Escalation.item_id == Item.id).scalar_subquery().label("last_escalation_at"),
    select(SubItem.unit_id).where(SubItem.child_id == Item.id).scalar_subquery().label("sub_unit_id"),
).where(Item.id == bindparam("id")).with_for_update())
_STEP = Prepared(lambda: select(Step.__table__).where(Step.id == bindparam("id")))
_ITEM = Prepared(lambda: select(Item.__table__).where(Item.id == bindparam("id")))
_VERSION = Prepared(lambda: select(Item.version).where(Item.id == bindparam("id")))
_INSERT_STEP = Prepared(lambda: insert(Step).values({c: bindparam(c) for c in _STEP_INSERT_COLUMNS}).returning(Step.id))
_CLOSE_STEP = Prepared(lambda: update(Step).where(Step.id == bindparam("sid"))
                       .values(left_at=bindparam("at"), left_by=bindparam("by"), left_via=bindparam("via"),
                               status=StepStatus.CLOSED, next_escalation_at=None, fields=bindparam("fields")))
_MOVED = ("state", "owner_role", "fields", "counters", "current_step_id", "due_at", "yellow_at", "paused_at",
          "finished_at", "updated_at")
_CAS = Prepared(lambda: update(Item).where(Item.id == bindparam("iid"), Item.version == bindparam("expected"))
                .values(version=bindparam("new_version"), **{c: bindparam(c) for c in _MOVED}))


@cache
def _holders_query():
    return (select(Assignment.item_id, Assignment.role, Person.id, Person.code, Person.name, Person.email,
                   Person.active, Person.admin)
            .join(Person, Person.id == Assignment.person_id).order_by(Assignment.id))


_HOLDERS_OF_ONE = Prepared(lambda: _holders_query().where(Assignment.item_id == bindparam("id")))


@cache
def _holders_of_many():
    return _holders_query().where(Assignment.item_id.in_(bindparam("ids", expanding=True)))


def item_of(row: dict[str, Any]) -> ItemRow:
    return ItemRow(**{c: row[c] for c in ITEM_COLUMNS})


BRIEF_COLUMNS = tuple(f for f in ItemBrief.__slots__)


def listed():
    """Items as lists show them, with their group's code."""
    return select(*(Item.__table__.c[c] for c in BRIEF_COLUMNS), OrgUnit.code.label("group_code"))


def brief(row) -> tuple[ItemBrief, str | None]:
    return ItemBrief(*row[:-1]), row[-1]


def _step(row: dict[str, Any]) -> StepRow:
    return StepRow(**row)


def lock(tx: Tx, item_id: int) -> LockedItem | None:
    """The item row-locked until commit (see engine.py on row locks), with its current step."""
    row = _LOCK.first(tx, {"id": item_id})
    if row is None:
        return None
    item = item_of(row)
    step = step_by_id(tx, item.current_step_id) if item.current_step_id else None
    # what the board's counts need of it (store.progress), read with the lock instead of again at commit
    tx.memo[("units", item.id)] = {"template_key": item.template_key, "created_at": item.created_at,
                                   "group_unit_id": item.group_unit_id, "unit_id": row["sub_unit_id"]}
    return LockedItem(item, step, row["calendar_digest"], row["last_escalation_at"])


def get(tx: Tx, item_id: int) -> ItemRow | None:
    row = _ITEM.first(tx, {"id": item_id})
    return None if row is None else item_of(row)


def version_of(store, item_id: int) -> int | None:
    """The item's version now, read outside any transaction."""
    return store.read_one(_VERSION, {"id": item_id})


def step_by_id(tx: Tx, step_id: int) -> StepRow | None:
    row = _STEP.first(tx, {"id": step_id})
    return None if row is None else _step(row)


_STEPS_OF = Prepared(lambda: select(Step.__table__).where(Step.item_id == bindparam("id")).order_by(Step.seq))


def steps_of(tx: Tx, item_id: int) -> list[StepRow]:
    return [_step(r) for r in _STEPS_OF.dicts(tx, {"id": item_id})]


def visits_of_state(tx: Tx, item_id: int, state: str, up_to_seq: int) -> int:
    """How many times the item has entered `state` up to and including visit `up_to_seq` (its round)."""
    return tx.execute(select(func.count()).select_from(Step)
                      .where(Step.item_id == item_id, Step.state == state, Step.seq <= up_to_seq)).scalar_one()


def insert_item(tx: Tx, **values: Any) -> int:
    return tx.execute(insert(Item).values(**values).returning(Item.id)).scalar_one()


def insert_step(tx: Tx, values: dict[str, Any]) -> int:
    return _INSERT_STEP.scalar(tx, {c: values.get(c) for c in _STEP_INSERT_COLUMNS})


def close_step(tx: Tx, step_id: int, *, at: datetime, by: str | None, via: str | None, fields: dict[str, Any]) -> None:
    _CLOSE_STEP.run(tx, {"sid": step_id, "at": at, "by": by, "via": via, "fields": fields})


def update_step(tx: Tx, step_id: int, **values: Any) -> None:
    tx.execute(update(Step).where(Step.id == step_id).values(**values))


def move_item(tx: Tx, item: ItemRow, expected: int) -> bool:
    """The compare-and-set: write the item's moving columns only if it is still at version `expected`."""
    params = {c: getattr(item, c) for c in _MOVED}
    return _CAS.rowcount(tx, {"iid": item.id, "expected": expected, "new_version": expected + 1, **params}) == 1


def update_item(tx: Tx, item_id: int, **values: Any) -> None:
    """Change columns of an item the caller holds locked."""
    tx.execute(update(Item).where(Item.id == item_id).values(**values))


def holders(tx: Tx, item_id: int) -> dict[str, list[Holder]]:
    """Role → people assigned on an item, in the order they were assigned."""
    out: dict[str, list[Holder]] = {}
    for _item_id, role, pid, code, name, email, active, admin in _HOLDERS_OF_ONE.all(tx, {"id": item_id}):
        out.setdefault(role, []).append(Holder(pid, code, name, email, bool(active), bool(admin)))
    return out


def holders_many(tx: Tx, item_ids: list[int]) -> dict[int, dict[str, list[Holder]]]:
    """Role → people assigned, for each item, in one query."""
    out: dict[int, dict[str, list[Holder]]] = {i: {} for i in item_ids}
    if not item_ids:
        return out
    for item_id, role, pid, code, name, email, active, admin in tx.execute(_holders_of_many(), {"ids": list(item_ids)}):
        out[item_id].setdefault(role, []).append(Holder(pid, code, name, email, bool(active), bool(admin)))
    return out


def add_assignments(tx: Tx, item_id: int, role_people: dict[str, list[int]], at: datetime, by: str | None) -> None:
    rows = [{"item_id": item_id, "role": role, "person_id": pid, "assigned_at": at, "assigned_by": by}
            for role, pids in role_people.items() for pid in pids]
    if rows:
        tx.execute(insert(Assignment), rows)


def remove_assignments(tx: Tx, item_id: int, role: str, person_ids: list[int]) -> None:
    if person_ids:
        tx.execute(delete(Assignment).where(Assignment.item_id == item_id, Assignment.role == role,
                                            Assignment.person_id.in_(person_ids)))


def _clocks(now: datetime, c=Item):
    """(red, yellow reached) as SQL conditions on columns due_at, yellow_at, paused_at of `c` (a paused clock stands still)."""
    red = or_(and_(c.paused_at.is_(None), c.due_at <= now), and_(c.paused_at.is_not(None), c.due_at <= c.paused_at))
    yellow = or_(and_(c.paused_at.is_(None), c.yellow_at <= now), and_(c.paused_at.is_not(None), c.yellow_at <= c.paused_at))
    return red, yellow


def lights(now, c=Item, spawning: tuple[tuple[int, str], ...] = ()):
    """(red, yellow reached) of an item as its light shows it: its own step's clock, or — at one of the `spawning`
    (version id, state) steps — any of its open sub-items'. Other items are not probed for children."""
    red, yellow = _clocks(now, c)
    red, yellow = and_(c.due_at.is_not(None), red), and_(c.yellow_at.is_not(None), yellow)  # never NULL: negatable
    if not spawning:
        return red, yellow
    kid, link = Item.__table__.alias("kid"), SubItem.__table__
    kid_red, kid_yellow = _clocks(now, kid.c)
    open_kids = (select(link.c.id).select_from(link.join(kid, kid.c.id == link.c.child_id))
                 .where(link.c.parent_id == c.id, kid.c.finished_at.is_(None)))
    # one plain condition a step (not an expanding IN, which a statement run on the driver's cursor cannot take)
    waits = or_(*(and_(c.template_version_id == v, c.state == state) for v, state in spawning))
    return (or_(red, and_(waits, open_kids.where(kid_red).exists())),
            or_(yellow, and_(waits, open_kids.where(kid_yellow).exists())))


def light_filter(which: str, now: datetime, spawning: tuple[tuple[int, str], ...]):
    clock_red, clock_yellow = lights(now, Item, spawning)
    if which == "red":
        return clock_red
    if which == "yellow":
        return and_(clock_yellow, ~clock_red)
    return and_(~clock_red, ~clock_yellow)


def search(tx: Tx, now: datetime, *, template: str | None = None, state: str | None = None, group: str | None = None,
           owner_id: int | None = None, light: str | None = None, include_finished: bool = True,
           limit: int = 50, offset: int = 0, member_id: int | None = None, orgs: list[int | None] | None = None,
           spawning: tuple[tuple[int, str], ...] = (), sort: str = "recent") -> list[tuple[ItemBrief, str | None]]:
    """Items with their group's code, filtered (a light filter leaves finished items out), in the order `sort`
    names (LIST_SORTS; newest first unless told); with `member_id`, only those he holds a role on or, `orgs`, that
    belong to one of those organisations."""
    q = listed().outerjoin(OrgUnit, OrgUnit.id == Item.group_unit_id)
    if template:
        q = q.where(Item.template_key == template)
    if state:
        q = q.where(Item.state == state)
    if group:
        q = q.where(OrgUnit.code == group)
    if owner_id is not None:
        q = q.where(Item.finished_at.is_(None)).join(
            Assignment, and_(Assignment.item_id == Item.id, Assignment.role == Item.owner_role, Assignment.person_id == owner_id))
    if member_id is not None:
        # from the person's assignments (a member of a group holds roles on few items; staff are not filtered)
        mine = Item.id.in_(select(Assignment.item_id).where(Assignment.person_id == member_id))
        q = q.where(or_(mine, in_orgs(Item.organisation_id, orgs)) if orgs else mine)
    if light:
        q = q.where(Item.finished_at.is_(None), light_filter(light, now, spawning))
    elif not include_finished:
        q = q.where(Item.finished_at.is_(None))
    return [brief(r) for r in tx.execute(q.order_by(*_list_order(sort, now, spawning)).limit(limit).offset(offset))]


LIST_SORTS = ("recent", "due", "light", "updated")


def _list_order(sort: str, now: datetime, spawning: tuple[tuple[int, str], ...]) -> tuple:
    """recent: newest first; due: soonest due first, finished last; light: 红, 黄, 绿 (each soonest due first),
    finished last; updated: the latest changed first."""
    finished, no_due = Item.finished_at.is_not(None), Item.due_at.is_(None)
    if sort == "due":
        return (finished, no_due, Item.due_at, Item.id)
    if sort == "light":
        red, yellow = lights(now, Item, spawning)
        return (case((finished, 3), (red, 0), (yellow, 1), else_=2), no_due, Item.due_at, Item.id)
    if sort == "updated":
        return (Item.updated_at.desc(), Item.id.desc())
    return (Item.id.desc(),)


def briefs(tx: Tx, ids: list[int]) -> list[tuple[ItemBrief, str | None]]:
    """These items as lists show them (with their group's code), in the order of `ids`."""
    if not ids:
        return []
    rows = {r.id: brief(r) for r in tx.execute(listed().outerjoin(OrgUnit, OrgUnit.id == Item.group_unit_id)
                                                .where(Item.id.in_(list(ids))))}
    return [rows[i] for i in ids if i in rows]


def live_on_other_versions(tx: Tx, template: str, version_id: int) -> list[ItemRow]:
    """Open items of a template that run on another version than `version_id`, oldest first."""
    rows = tx.execute(select(Item.__table__).where(Item.template_key == template, Item.finished_at.is_(None),
                                                   Item.template_version_id != version_id).order_by(Item.id)).mappings()
    return [item_of(dict(r)) for r in rows]


def open_provisional_steps(tx: Tx) -> list[tuple[StepRow, ItemRow]]:
    """Open steps whose due time was computed from provisional calendar data, with their items."""
    rows = tx.execute(select(Step.__table__, *[Item.__table__.c[c].label(f"it__{c}") for c in ITEM_COLUMNS])
                      .join(Item, Item.id == Step.item_id)
                      .where(Step.provisional.is_(True), Step.left_at.is_(None))).mappings()
    out = []
    for r in rows:
        out.append((_step({c: r[c] for c in STEP_COLUMNS}), item_of({c: r[f"it__{c}"] for c in ITEM_COLUMNS})))
    return out


def steps_by_ids(tx: Tx, ids: list[int]) -> dict[int, StepRow]:
    if not ids:
        return {}
    rows = tx.execute(select(Step.__table__).where(Step.id.in_(list(ids)))).mappings()
    return {r["id"]: _step(dict(r)) for r in rows}


def items_by_ids(tx: Tx, ids: list[int]) -> dict[int, ItemRow]:
    if not ids:
        return {}
    rows = tx.execute(select(Item.__table__).where(Item.id.in_(list(ids)))).mappings()
    return {r["id"]: item_of(r) for r in rows}


def of_template(template: str, start: datetime | None, end: datetime | None, orgs: list[int | None] | None = None):
    """The ids of a template's items (created in [start, end) when given; of the organisations `orgs` when
    given), as a subquery."""
    ids = select(Item.id).where(Item.template_key == template)
    if orgs is not None:
        ids = ids.where(in_orgs(Item.organisation_id, orgs, one_by_one=True))  # the 台账 reads on the driver
    return ids if start is None else ids.where(Item.created_at >= start, Item.created_at < end)


def ledger_rows(tx: Tx, template: str, start: datetime | None, end: datetime | None, with_steps: bool = True
                ) -> tuple[list[ItemRow], dict[int, list[StepRow]], dict[int, str], dict[int, list[str]]]:
    """A template's items (created in [start, end) when given), oldest first, with every step (unless not
    `with_steps`), their groups' codes and the names of their current owners: what the 台账 and the results report list."""
    ids = of_template(template, start, end)
    items = [item_of(dict(r)) for r in tx.execute(select(Item.__table__).where(Item.id.in_(ids)).order_by(Item.id)).mappings()]
    steps: dict[int, list[StepRow]] = {}
    if with_steps:
        for r in tx.execute(select(Step.__table__).where(Step.item_id.in_(ids)).order_by(Step.item_id, Step.seq)).mappings():
            steps.setdefault(r["item_id"], []).append(_step(dict(r)))
    groups = {i: c for i, c in tx.execute(select(OrgUnit.id, OrgUnit.code))}
    return items, steps, groups, current_owners(tx, ids)


def current_owners(tx: Tx, item_ids) -> dict[int, list[str]]:
    """The names of the people holding the current step's owner role, per open item (of a subquery of ids)."""
    owners: dict[int, list[str]] = {}
    q = (select(Assignment.item_id, Person.name).join(Item, and_(Item.id == Assignment.item_id, Item.owner_role == Assignment.role))
         .join(Person, Person.id == Assignment.person_id).where(Item.id.in_(item_ids), Item.finished_at.is_(None)))
    for item_id, name in tx.execute(q):
        owners.setdefault(item_id, []).append(name)
    return owners
