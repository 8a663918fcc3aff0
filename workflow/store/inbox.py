"""The workbench's reads over assignments: the inbox, 已办 and 我参与的, which roles a person holds where."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    union,
    union_all,
)

from ..rows import ItemBrief
from .driver import Prepared
from .engine import Tx
from .items import brief, lights, listed
from .models import Assignment, Item, OrgUnit, Step, SubItem


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
          limit: int, offset: int, few: bool, spawning: tuple[tuple[int, str], ...] = (), sort: str = "due"
          ) -> tuple[list[tuple[ItemBrief, str | None]], dict[int, set[str]], dict[str, int]]:
    """One page of the open items a person may act on now, in `sort`'s order (`due`: soonest due first; `light`:
    red, yellow, green, each soonest due first; `updated`: the latest changed first), with their group's code; the roles
    he holds on each (item id → roles, of those in `moves` and `pauses`); and how many there are by light (before
    the light filter).

    `moves` and `pauses` are (role, version, state): where the role may move an item on (a running step)
    or resume it (a paused one), only for roles the person holds somewhere. `few`: he holds few assignments
    (`reach` says), so the page starts from them."""
    if not moves and not pauses:
        return [], {}, {"red": 0, "yellow": 0, "green": 0, "all": 0}
    roles = sorted({role for role, _v, _s in moves + pauses})
    shape = (tuple(moves), tuple(pauses), template, group_id is not None, light is not None, few, spawning, sort)
    built = _INBOX.get(shape)
    if built is None:
        if len(_INBOX) > 500:
            _INBOX.clear()
        built = _INBOX[shape] = tuple(None if stmt is None else Prepared(lambda stmt=stmt: stmt) for stmt in _inbox_statements(
            moves, pauses, key_of, template, group_id is not None, light is not None, few, spawning, roles, sort))
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
    return ([brief(r[:-3 - n]) for r in rows], held,
            {"red": reds, "yellow": yellows, "green": total - reds - yellows, "all": total})


_INBOX: dict[tuple, tuple] = {}  # statement shape → (page, counts): built once, executed with parameters
# Below this many assignments (a group's members, a department) the inbox starts from the person's
# items; above it (council and office staff hold a role on every item) from the open items at his steps.
FEW_ITEMS = 3000


def _inbox_statements(moves, pauses, key_of: dict[int, str], template: str | None, by_group: bool, by_light: bool,
                      few: bool, spawning: tuple[tuple[int, str], ...] = (), roles: list[str] = (), sort: str = "due"):
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
    page = select(lit.c.id, lit.c.due_at, lit.c.lt, lit.c.total, lit.c.reds, lit.c.yellows)
    if by_light:
        page = page.where(lit.c.lt == bindparam("light"))
    if sort == "updated":  # only this order reads the items' rows for the page (the others stay on the index)
        page = page.join(Item, Item.id == lit.c.id)
    page = page.order_by(*_order(sort, lit.c, Item)).limit(bindparam("lim")).offset(bindparam("off")).subquery()
    # the page's rows as lists show them, in the same statement
    a = Assignment.__table__
    holds = [exists().where(a.c.item_id == Item.id, a.c.role == bindparam(f"held{k}", role), a.c.person_id == bindparam("p"))
             .label(f"held{k}") for k, role in enumerate(roles)]
    page = (listed().add_columns(*holds, page.c.total, page.c.reds, page.c.yellows)
            .select_from(page.join(Item, Item.id == page.c.id).outerjoin(OrgUnit, OrgUnit.id == Item.group_unit_id))
            .order_by(*_order(sort, page.c, Item)))
    counts = select(func.count(), func.sum(case((red, 1), else_=0)), func.sum(case((red, 0), (yellow, 1), else_=0))).select_from(u)
    return page, counts


SORTS = ("due", "light", "updated")


def _order(sort: str, c, item) -> tuple:
    """The ORDER BY of an inbox page for `sort` over columns `c` (id, due_at, lt) and the items table."""
    if sort == "light":
        return (case((c.lt == "red", 0), (c.lt == "yellow", 1), else_=2), c.due_at.is_(None), c.due_at, c.id)
    if sort == "updated":
        return (item.updated_at.desc(), c.id.desc())
    return (c.due_at.is_(None), c.due_at, c.id)


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


def _list_order(sort: str, now: datetime, recent):
    """ORDER BY of 已办 / 我参与的: `recent` (their own order) unless `sort` names another; finished items last."""
    if sort == "due":
        return (Item.finished_at.is_not(None), Item.due_at.is_(None), Item.due_at, Item.id)
    if sort == "light":
        red, yellow = lights(now, Item)
        return (Item.finished_at.is_not(None), case((red, 0), (yellow, 1), else_=2), Item.due_at.is_(None), Item.due_at, Item.id)
    if sort == "updated":
        return (Item.updated_at.desc(), Item.id.desc())
    return recent


def moved_by(tx: Tx, code: str, limit: int, offset: int, sort: str = "recent",
             now: datetime | None = None) -> tuple[list[tuple[ItemBrief, str | None]], int]:
    """One page of the items a person moved on (已办), the most recent move first unless `sort` says; and how many."""
    last = (select(Step.item_id, func.max(Step.left_at).label("at")).where(Step.left_by == code)
            .group_by(Step.item_id).subquery())
    q = (listed().join(last, last.c.item_id == Item.id).outerjoin(OrgUnit, OrgUnit.id == Item.group_unit_id)
         .order_by(*_list_order(sort, now, (last.c.at.desc(), Item.id.desc()))).limit(limit).offset(offset))
    total = tx.execute(select(func.count()).select_from(last)).scalar_one()
    return [brief(r) for r in tx.execute(q)], int(total)


def involving(tx: Tx, person_id: int, roles: list[str], limit: int, offset: int, sort: str = "recent",
              now: datetime | None = None) -> tuple[list[tuple[ItemBrief, str | None]], int]:
    """One page of the items on which a person holds any of `roles` (我参与的), newest first unless `sort` says
    (newest: the newest of each role, merged); and how many."""
    if not roles:
        return [], 0
    a = Assignment.__table__
    mine = select(a.c.item_id).where(a.c.person_id == person_id, a.c.role.in_(roles)).distinct()
    total = int(tx.execute(select(func.count()).select_from(mine.subquery())).scalar_one())
    if sort == "recent":
        per_role = [select(a.c.item_id).where(a.c.person_id == person_id, a.c.role == r)
                    .order_by(a.c.item_id.desc()).limit(limit + offset).subquery() for r in roles]
        merged = union(*(select(sq.c.item_id) for sq in per_role)).subquery()
        page = select(merged.c.item_id).order_by(merged.c.item_id.desc()).limit(limit).offset(offset)
        q = (listed().outerjoin(OrgUnit, OrgUnit.id == Item.group_unit_id)
             .where(Item.id.in_(page.scalar_subquery())).order_by(Item.id.desc()))
    else:
        q = (listed().outerjoin(OrgUnit, OrgUnit.id == Item.group_unit_id).where(Item.id.in_(mine))
             .order_by(*_list_order(sort, now, ())).limit(limit).offset(offset))
    return [brief(r) for r in tx.execute(q)], total


_HOLDS = Prepared(lambda: select(exists().where(Assignment.item_id == bindparam("i"), Assignment.person_id == bindparam("p"))))
_PRESENCE = Prepared(lambda: select(exists().where(Item.id == bindparam("i")),
                                    exists().where(Assignment.item_id == bindparam("i"), Assignment.person_id == bindparam("p")),
                                    select(SubItem.parent_id).where(SubItem.child_id == bindparam("i")).scalar_subquery()))


def holds_any_role(tx: Tx, item_id: int, person_id: int) -> bool:
    return bool(_HOLDS.scalar(tx, {"i": item_id, "p": person_id}))


def presence(tx: Tx, item_id: int, person_id: int) -> tuple[bool, bool]:
    """Whether the item exists, and whether the person holds any role on it: one statement (which also notes the
    item's parent, if it is a sub-item, for `sub_items.parent_id_of` in the same transaction)."""
    found, holds, parent = _PRESENCE.all(tx, {"i": item_id, "p": person_id})[0]
    tx.memo[("parent", item_id)] = parent
    return bool(found), bool(holds)
