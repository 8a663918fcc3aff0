"""Organisations (the People's Congresses of the deployment): their tree, imports, and whose staff sees which items.

A unit or item whose `organisation_id` is NULL belongs to the root organisation; so does everything in a database
whose people file never named an organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, bindparam, func, insert, or_, select, update

from .driver import Prepared
from .engine import Tx
from .models import Item, Membership, Organisation, OrgUnit, ProgressCount

if TYPE_CHECKING:
    from ..people_file import OrgEntry

STAFF_KINDS = ("office", "council")


@dataclass(slots=True, eq=False)
class OrgRow:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    slip_code: str | None


def by_code(tx: Tx, code: str) -> OrgRow | None:
    r = tx.execute(select(Organisation.__table__).where(Organisation.code == code)).mappings().first()
    return None if r is None else OrgRow(**r)


def chain(tx: Tx, organisation_id: int | None) -> tuple[int | None, ...]:
    """The organisation, those above it, and the root (None) last: where its templates come from, nearest first."""
    if organisation_id is None:
        return (None,)
    out: list[int | None] = []
    parents = dict(tx.execute(select(Organisation.id, Organisation.parent_id)).all())
    at = organisation_id
    while at is not None and at not in out and parents.get(at) is not None:  # the root itself is stored as None
        out.append(at)
        at = parents[at]
    return (*out, None)


def slip_code_of(tx: Tx, organisation_id: int | None) -> str:
    """The 机关代字 of an organisation (None: the root's); "" when it has none or no organisation is named."""
    q = select(Organisation.slip_code).where(
        Organisation.id == organisation_id if organisation_id is not None else Organisation.parent_id.is_(None))
    return tx.execute(q).scalar() or ""


def all_orgs(tx: Tx) -> list[OrgRow]:
    return [OrgRow(**r) for r in tx.execute(select(Organisation.__table__).order_by(Organisation.id)).mappings()]


def apply(tx: Tx, orgs: tuple[OrgEntry, ...]) -> dict[str, int | None]:
    """Create or update the file's organisations (parents first); → code → the id units and items store (None for
    the root, whose units and items keep NULL)."""
    ids = {r.code: r.id for r in tx.execute(select(Organisation.code, Organisation.id))}
    out: dict[str, int | None] = {}
    pending = list(orgs)
    while pending:  # the file is checked: every parent is among them, a level up, so this ends
        ready = [o for o in pending if o.parent is None or o.parent in out]
        for o in ready:
            values = {"name": o.name, "level": o.level, "slip_code": o.slip_code,
                      "parent_id": None if o.parent is None else ids[o.parent]}
            if o.code in ids:
                tx.execute(update(Organisation).where(Organisation.id == ids[o.code]).values(**values))
            else:
                ids[o.code] = tx.execute(insert(Organisation).values(code=o.code, **values).returning(Organisation.id)).scalar_one()
            out[o.code] = None if o.parent is None else ids[o.code]
        pending = [o for o in pending if o not in ready]
    return out


def same_org(a, b):
    """a and b name the same organisation (NULL being the root): `IS NOT DISTINCT FROM`."""
    return a.is_not_distinct_from(b)


_STAFF_SEES = Prepared(lambda: select(
    select(Membership.id).join(OrgUnit, OrgUnit.id == Membership.unit_id).join(Item, Item.id == bindparam("i"))
    .where(Membership.person_id == bindparam("p"), or_(*(OrgUnit.kind == k for k in STAFF_KINDS)),
           same_org(OrgUnit.organisation_id, Item.organisation_id)).exists()))


def staff_sees(tx: Tx, person_id: int, item_id: int) -> bool:
    """Whether the person belongs to the office or the council of the item's organisation (who see its items)."""
    return bool(_STAFF_SEES.scalar(tx, {"p": person_id, "i": item_id}))


def staff_orgs(tx: Tx, person_id: int) -> list[int | None]:
    """The organisations whose office or council the person belongs to (None: the root)."""
    rows = tx.execute(select(OrgUnit.organisation_id).join(Membership, Membership.unit_id == OrgUnit.id)
                      .where(Membership.person_id == person_id, OrgUnit.kind.in_(STAFF_KINDS)).distinct())
    return [r[0] for r in rows]


def subtree(orgs: list[OrgRow], tops: list[int | None]) -> list[int | None]:
    """`tops` and every organisation below them (None, the root, has every organisation below it)."""
    if None in tops:
        return [None, *(o.id for o in orgs if o.parent_id is not None)]
    out, frontier = set(tops), set(tops)
    while frontier:
        frontier = {o.id for o in orgs if o.parent_id in frontier} - out
        out |= frontier
    return sorted(out)


def in_orgs(column, orgs: list[int | None], one_by_one: bool = False):
    """A filter: the column's organisation is one of `orgs` (None among them: the root's, stored as NULL).
    `one_by_one`: as `=` tests, for a statement run on the driver's cursor (driver.stream), which has no
    expanding IN."""
    ids = [o for o in orgs if o is not None]
    listed = [] if not ids else [or_(*(column == i for i in ids))] if one_by_one else [column.in_(ids)]
    parts = listed + ([column.is_(None)] if None in orgs else [])
    return or_(*parts) if parts else and_(False)


def item_clocks(tx: Tx, cut) -> list[tuple]:
    """(organisation id, finished_at, due_at, yellow_at, paused_at) of each item created before `cut`: what the
    roll-up counts (no title, no field: nothing of an item is shown)."""
    return list(tx.execute(select(Item.organisation_id, Item.finished_at, Item.due_at, Item.yellow_at, Item.paused_at)
                           .where(Item.created_at < cut)))


def closed_counts(tx: Tx, last_day) -> dict[int | None, tuple[int, int, int]]:
    """Organisation → (steps closed, on time, working days late) up to `last_day`, from the board's progress counts
    of its units."""
    rows = tx.execute(select(OrgUnit.organisation_id, func.sum(ProgressCount.closed), func.sum(ProgressCount.on_time),
                             func.sum(ProgressCount.late_workdays))
                      .join(OrgUnit, OrgUnit.id == ProgressCount.unit_id).where(ProgressCount.day <= last_day)
                      .group_by(OrgUnit.organisation_id))
    return {o: (int(c or 0), int(t or 0), int(w or 0)) for o, c, t, w in rows}
