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
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    union,
    union_all,
    update,
)

from ..rows import Holder, ItemBrief, ItemRow, LockedItem, StepRow
from .calendar import latest_digest_column
from .driver import Prepared
from .engine import Tx
from .models import Assignment, Escalation, Item, OrgUnit, Person, Step, StepStatus, SubItem

ITEM_COLUMNS = tuple(c.name for c in Item.__table__.columns)
STEP_COLUMNS = tuple(c.name for c in Step.__table__.columns)
_STEP_INSERT_COLUMNS = tuple(c for c in STEP_COLUMNS if c != "id")

# The step number comes from a subquery, not a join: on PostgreSQL a row locked FOR UPDATE is
# re-checked after a concurrent commit, and a join would be re-checked against the old step row.
_LOCK = Prepared(lambda: select(
    Item.__table__, latest_digest_column().label("calendar_digest"),
    select(func.max(Escalation.claimed_at)).where(Escalation.item_id == Item.id).scalar_subquery().label("last_escalation_at"),
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


def _item(row: dict[str, Any]) -> ItemRow:
    return ItemRow(**{c: row[c] for c in ITEM_COLUMNS})


BRIEF_COLUMNS = tuple(f for f in ItemBrief.__slots__)


def _listed():
    """Items as lists show them, with their group's code."""
    return select(*(Item.__table__.c[c] for c in BRIEF_COLUMNS), OrgUnit.code.label("group_code"))


def _brief(row) -> tuple[ItemBrief, str | None]:
    return ItemBrief(*row[:-1]), row[-1]


def _step(row: dict[str, Any]) -> StepRow:
    return StepRow(**row)


def lock(tx: Tx, item_id: int) -> LockedItem | None:
    """The item row-locked until commit (see engine.py on row locks), with its current step."""
    row = _LOCK.first(tx, {"id": item_id})
    if row is None:
        return None
    item = _item(row)
    step = step_by_id(tx, item.current_step_id) if item.current_step_id else None
    return LockedItem(item, step, row["calendar_digest"], row["last_escalation_at"])


def get(tx: Tx, item_id: int) -> ItemRow | None:
    row = _ITEM.first(tx, {"id": item_id})
    return None if row is None else _item(row)


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


def _light_filter(which: str, now: datetime, spawning: tuple[tuple[int, str], ...]):
    clock_red, clock_yellow = lights(now, Item, spawning)
    if which == "red":
        return clock_red
    if which == "yellow":
        return and_(clock_yellow, ~clock_red)
    return and_(~clock_red, ~clock_yellow)


def search(tx: Tx, now: datetime, *, template: str | None = None, state: str | None = None, group: str | None = None,
           owner_id: int | None = None, light: str | None = None, include_finished: bool = True,
           limit: int = 50, offset: int = 0, member_id: int | None = None,
           spawning: tuple[tuple[int, str], ...] = ()) -> list[tuple[ItemBrief, str | None]]:
    """Items newest first with their group's code, filtered (a light filter leaves finished items out)."""
    q = _listed().outerjoin(OrgUnit, OrgUnit.id == Item.group_unit_id)
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
        q = q.where(Item.id.in_(select(Assignment.item_id).where(Assignment.person_id == member_id)))
    if light:
        q = q.where(Item.finished_at.is_(None), _light_filter(light, now, spawning))
    elif not include_finished:
        q = q.where(Item.finished_at.is_(None))
    return [_brief(r) for r in tx.execute(q.order_by(Item.id.desc()).limit(limit).offset(offset))]


def live_on_other_versions(tx: Tx, template: str, version_id: int) -> list[ItemRow]:
    """Open items of a template that run on another version than `version_id`, oldest first."""
    rows = tx.execute(select(Item.__table__).where(Item.template_key == template, Item.finished_at.is_(None),
                                                   Item.template_version_id != version_id).order_by(Item.id)).mappings()
    return [_item(dict(r)) for r in rows]


def open_provisional_steps(tx: Tx) -> list[tuple[StepRow, ItemRow]]:
    """Open steps whose due time was computed from provisional calendar data, with their items."""
    rows = tx.execute(select(Step.__table__, *[Item.__table__.c[c].label(f"it__{c}") for c in ITEM_COLUMNS])
                      .join(Item, Item.id == Step.item_id)
                      .where(Step.provisional.is_(True), Step.left_at.is_(None))).mappings()
    out = []
    for r in rows:
        out.append((_step({c: r[c] for c in STEP_COLUMNS}), _item({c: r[f"it__{c}"] for c in ITEM_COLUMNS})))
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
    return {r["id"]: _item(r) for r in rows}


def roles_anywhere(tx: Tx, person_id: int, roles: list[str]) -> set[str]:
    """Which of `roles` the person holds on any item: one statement, an index probe per role whatever his
    number of items."""
    return {r for r, first in zip(roles, _roles_statement(tuple(roles), False).all(tx, {"p": person_id})[0], strict=True)
            if first is not None}


def reach(tx: Tx, person_id: int, roles: list[str]) -> tuple[set[str], bool]:
    """Which of `roles` the person holds on any item, and whether he holds few assignments (fewer than
    FEW_ITEMS, of any role: which plan his inbox takes), in one statement."""
    row = _roles_statement(tuple(roles), True).all(tx, {"p": person_id, "cap": FEW_ITEMS})[0]
    return {r for r, first in zip(roles, row[:-1], strict=True) if first is not None}, row[-1] < FEW_ITEMS


def _roles_statement(roles: tuple[str, ...], counted: bool) -> Prepared:
    """One column a role (the person's first item in it, or NULL), then, if `counted`, how many assignments he
    holds up to the parameter `cap`."""
    stmt = _HAS_ROLES.get((roles, counted))
    if stmt is None:
        if len(_HAS_ROLES) > 100:
            _HAS_ROLES.clear()
        a = Assignment.__table__
        mine = select(a.c.item_id).where(a.c.person_id == bindparam("p")).limit(bindparam("cap")).subquery()
        count = [select(func.count()).select_from(mine).scalar_subquery()] if counted else []
        stmt = _HAS_ROLES[roles, counted] = Prepared(lambda: select(*(_has_role(k, r) for k, r in enumerate(roles)), *count))
    return stmt


def _has_role(k: int, role: str):
    # min() rather than EXISTS or LIMIT 1: both databases read it off the end of the (person, role, item) index,
    # where a LIMIT can tempt PostgreSQL into a sequential scan for a role the person does not hold (all rows read).
    return (select(func.min(Assignment.item_id)).where(Assignment.person_id == bindparam("p"),
                                                       Assignment.role == bindparam(f"r{k}", role))
            .scalar_subquery().label(f"r{k}"))


_HAS_ROLES: dict[tuple[tuple[str, ...], bool], Prepared] = {}  # (the roles asked about, counted?) → the statement


def roles_on(tx: Tx, person_id: int, roles: list[str], item_ids: list[int]) -> dict[int, set[str]]:
    """Item id → the roles (of `roles`) the person holds on it: read by item (a page's items), never along the
    person's assignments — a council member holds 100,000 of them, and a plan PostgreSQL keeps for a prepared
    statement (the same for every person) read them all, 70 ms a page. `person_id + 0` keeps that index out of
    reach of any plan."""
    out: dict[int, set[str]] = {i: set() for i in item_ids}
    if item_ids and roles:
        q = select(Assignment.item_id, Assignment.role).where(
            Assignment.item_id.in_(item_ids), Assignment.role.in_(roles), (Assignment.person_id + 0) == person_id)
        for item_id, role in tx.execute(q):
            out[item_id].add(role)
    return out


def inbox(tx: Tx, person_id: int, moves: list[tuple[str, int, str]], pauses: list[tuple[str, int, str]],
          key_of: dict[int, str], now: datetime, *, light: str | None, template: str | None, group_id: int | None,
          limit: int, offset: int, few: bool, spawning: tuple[tuple[int, str], ...] = ()
          ) -> tuple[list[tuple[ItemBrief, str | None]], dict[int, set[str]], dict[str, int]]:
    """One page of the open items a person may act on now, soonest due first, with their group's code; the roles
    he holds on each (item id → roles, of those in `moves` and `pauses`); and how many there are by light (before
    the light filter).

    `moves` and `pauses` are (role, version, state): where the role may move an item on (a running step)
    or resume it (a paused one), only for roles the person holds somewhere. `few`: he holds few assignments
    (`reach` says), so the page starts from them."""
    if not moves and not pauses:
        return [], {}, {"red": 0, "yellow": 0, "green": 0, "all": 0}
    roles = sorted({role for role, _v, _s in moves + pauses})
    shape = (tuple(moves), tuple(pauses), template, group_id is not None, light is not None, few, spawning)
    built = _INBOX.get(shape)
    if built is None:
        if len(_INBOX) > 500:
            _INBOX.clear()
        built = _INBOX[shape] = tuple(None if stmt is None else Prepared(lambda stmt=stmt: stmt) for stmt in _inbox_statements(
            moves, pauses, key_of, template, group_id is not None, light is not None, few, spawning, roles))
    page, counts = built
    params = {"p": person_id, "now": now, "g": group_id, "light": light, "lim": limit, "off": offset}
    rows = page.all(tx, params) if page is not None else []
    if rows:
        total, reds, yellows = rows[0][-3:]
    else:  # an empty page (past the end, or no item of that light): count without it
        total, reds, yellows = counts.all(tx, params)[0] if counts is not None else (0, 0, 0)
    total, reds, yellows = int(total or 0), int(reds or 0), int(yellows or 0)
    n = len(roles)
    held = {r[0]: {role for role, has in zip(roles, r[-3 - n:-3], strict=True) if has} for r in rows}
    return ([_brief(r[:-3 - n]) for r in rows], held,
            {"red": reds, "yellow": yellows, "green": total - reds - yellows, "all": total})


_INBOX: dict[tuple, tuple] = {}  # statement shape → (page, counts): built once, executed with parameters
# Below this many assignments (a group's members, a department) the inbox starts from the person's
# items; above it (council and office staff hold a role on every item) from the open items at his steps.
FEW_ITEMS = 3000


def _inbox_statements(moves, pauses, key_of: dict[int, str], template: str | None, by_group: bool, by_light: bool,
                      few: bool, spawning: tuple[tuple[int, str], ...] = (), roles: list[str] = ()):
    """The page and the counts of an inbox: its rows chosen as `_few_roles` or `_many_roles` says; the lights,
    the counts (a window over all of them) and the page in SQL; for each row of the page whether the person holds
    each of `roles` there (a probe of the assignments' unique key each)."""
    kinds = []  # (the triples, the condition on the item's pause): moves on running steps, resumes of paused ones
    for triples, running in ((moves, True), (pauses, False)):
        chosen = [t for t in triples if not template or key_of[t[1]] == template]
        if chosen:
            kinds.append((chosen, Item.paused_at.is_(None) if running else Item.paused_at.is_not(None)))
    if not kinds:
        return None, None
    where = [Item.finished_at.is_(None)] + ([Item.group_unit_id == bindparam("g")] if by_group else [])
    parts = _few_roles(kinds, where) if few else _many_roles(kinds, key_of, where)
    if not parts:
        return None, None
    u = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    red, yellow = lights(bindparam("now", type_=Item.due_at.type), u.c, spawning)
    lt = case((red, "red"), (yellow, "yellow"), else_="green")
    lit = select(u.c.id, u.c.due_at, lt.label("lt"), func.count().over().label("total"),
                 func.sum(case((red, 1), else_=0)).over().label("reds"),
                 func.sum(case((red, 0), (yellow, 1), else_=0)).over().label("yellows")).subquery()
    page = select(lit.c.id, lit.c.due_at, lit.c.total, lit.c.reds, lit.c.yellows)
    if by_light:
        page = page.where(lit.c.lt == bindparam("light"))
    page = page.order_by(lit.c.due_at.is_(None), lit.c.due_at, lit.c.id).limit(bindparam("lim")).offset(bindparam("off")).subquery()
    # the page's rows as lists show them, in the same statement
    a = Assignment.__table__
    holds = [exists().where(a.c.item_id == Item.id, a.c.role == bindparam(f"held{k}", role), a.c.person_id == bindparam("p"))
             .label(f"held{k}") for k, role in enumerate(roles)]
    page = (_listed().add_columns(*holds, page.c.total, page.c.reds, page.c.yellows)
            .select_from(page.join(Item, Item.id == page.c.id).outerjoin(OrgUnit, OrgUnit.id == Item.group_unit_id))
            .order_by(page.c.due_at.is_(None), page.c.due_at, page.c.id))
    counts = select(func.count(), func.sum(case((red, 1), else_=0)), func.sum(case((red, 0), (yellow, 1), else_=0))).select_from(u)
    return page, counts


_INBOX_COLUMNS = (Item.id, Item.due_at, Item.yellow_at, Item.paused_at, Item.template_version_id, Item.state)


def _may(triples):
    """The person's assignment on the item (`assignments` correlated to `items`) lets him act at its step: its
    (role, version, state) is one of `triples`."""
    a = Assignment.__table__
    cols = (a.c.role, Item.template_version_id, Item.state)
    return tuple_(*cols).in_([tuple_(*(_const(c, v) for c, v in zip(cols, t, strict=True))) for t in triples])


def _const(col, value):
    """A value fixed in a statement's shape, bound as the column's type (a list of them makes an IN of plain
    parameters, not an expanding one: the statement then runs as a `Prepared`, its SQL the same every time)."""
    return literal(value, type_=col.type)


def _one_of(col, values):
    return col.in_([_const(col, v) for v in values])


def _few_roles(kinds, where) -> list:
    """One pass over the person's items (a group member's, a department's: a few thousand at most), each open one
    checked against the steps his role there may act on — the running and the paused in one condition."""
    a = Assignment.__table__
    roles = sorted({role for triples, _p in kinds for role, _v, _s in triples})
    his = select(a.c.item_id).where(a.c.person_id == bindparam("p"), _one_of(a.c.role, roles))
    may = his.where(a.c.item_id == Item.id, or_(*(and_(paused, _may(triples)) for triples, paused in kinds))).exists()
    return [select(*_INBOX_COLUMNS).where(Item.id.in_(his), *where, may)]


def _many_roles(kinds, key_of: dict[int, str], where) -> list:
    """One SELECT per template and kind (running or paused) on the covering index of open items — an OR over
    templates would not use it on SQLite — probing the person's role on each item (council and office staff hold
    one on every item: starting from their assignments would read them all)."""
    a = Assignment.__table__
    parts = []
    for triples, paused in kinds:
        states: dict[str, set[str]] = {}
        for _role, version, state in triples:
            states.setdefault(key_of[version], set()).add(state)
        roles = sorted({role for role, _v, _s in triples})
        may = select(a.c.item_id).where(a.c.person_id == bindparam("p"), _one_of(a.c.role, roles), a.c.item_id == Item.id,
                                        _may(triples)).exists()
        parts += [select(*_INBOX_COLUMNS).where(*where, paused, may, Item.template_key == _const(Item.template_key, key),
                                                _one_of(Item.state, sorted(at)))
                  for key, at in sorted(states.items())]
    return parts


def moved_by(tx: Tx, code: str, limit: int, offset: int) -> list[tuple[ItemBrief, str | None]]:
    """Items a person moved on (已办), the most recent move first."""
    last = (select(Step.item_id, func.max(Step.left_at).label("at")).where(Step.left_by == code)
            .group_by(Step.item_id).subquery())
    q = (_listed().join(last, last.c.item_id == Item.id)
         .outerjoin(OrgUnit, OrgUnit.id == Item.group_unit_id).order_by(last.c.at.desc(), Item.id.desc())
         .limit(limit).offset(offset))
    return [_brief(r) for r in tx.execute(q)]


def involving(tx: Tx, person_id: int, roles: list[str], limit: int, offset: int) -> list[tuple[ItemBrief, str | None]]:
    """Items on which a person holds any of `roles` (我参与的), newest first: the newest of each role, merged."""
    if not roles:
        return []
    a = Assignment.__table__
    per_role = [select(a.c.item_id).where(a.c.person_id == person_id, a.c.role == r)
                .order_by(a.c.item_id.desc()).limit(limit + offset).subquery() for r in roles]
    merged = union(*(select(sq.c.item_id) for sq in per_role)).subquery()
    page = select(merged.c.item_id).order_by(merged.c.item_id.desc()).limit(limit).offset(offset)
    q = (_listed().outerjoin(OrgUnit, OrgUnit.id == Item.group_unit_id)
         .where(Item.id.in_(page.scalar_subquery())).order_by(Item.id.desc()))
    return [_brief(r) for r in tx.execute(q)]


def holds_any_role(tx: Tx, item_id: int, person_id: int) -> bool:
    return tx.execute(select(exists().where(Assignment.item_id == item_id, Assignment.person_id == person_id))).scalar()



def of_template(template: str, start: datetime | None, end: datetime | None):
    """The ids of a template's items (created in [start, end) when given), as a subquery."""
    ids = select(Item.id).where(Item.template_key == template)
    return ids if start is None else ids.where(Item.created_at >= start, Item.created_at < end)


def ledger_rows(tx: Tx, template: str, start: datetime | None, end: datetime | None, with_steps: bool = True
                ) -> tuple[list[ItemRow], dict[int, list[StepRow]], dict[int, str], dict[int, list[str]]]:
    """A template's items (created in [start, end) when given), oldest first, with every step (unless not
    `with_steps`), their groups' codes and the names of their current owners: what the 台账 and the results report list."""
    ids = of_template(template, start, end)
    items = [_item(dict(r)) for r in tx.execute(select(Item.__table__).where(Item.id.in_(ids)).order_by(Item.id)).mappings()]
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
