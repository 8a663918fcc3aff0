"""People, organisation units and memberships: lookups, the default role holders of an item, imports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, or_, select, update

from ..rows import PersonRow, UnitRow

if TYPE_CHECKING:  # the parser is needed only by imports, not by every command that looks a person up
    from ..people_file import PeopleFile
from . import deputies
from .driver import Prepared
from .engine import Tx
from .models import Membership, Organisation, OrgUnit, Person
from .organisations import apply as apply_orgs
from .organisations import same_org

_PERSON = Prepared(lambda: select(Person.id, Person.code, Person.name, Person.email, Person.title, Person.active, Person.admin)
                   .where(Person.code == bindparam("code")))


def person(tx: Tx, code: str) -> PersonRow | None:
    row = _PERSON.first(tx, {"code": code})
    return None if row is None else PersonRow(**row)


def people_by_codes(tx: Tx, codes: list[str]) -> dict[str, PersonRow]:
    if not codes:
        return {}
    cols = (Person.id, Person.code, Person.name, Person.email, Person.title, Person.active, Person.admin)
    rows = tx.execute(select(*cols).where(Person.code.in_(list(codes)))).mappings()
    return {r["code"]: PersonRow(**r) for r in rows}


def people_by_ids(tx: Tx, ids: list[int]) -> dict[int, PersonRow]:
    if not ids:
        return {}
    cols = (Person.id, Person.code, Person.name, Person.email, Person.title, Person.active, Person.admin)
    rows = tx.execute(select(*cols).where(Person.id.in_(list(ids)))).mappings()
    return {r["id"]: PersonRow(**r) for r in rows}


def names(tx: Tx) -> dict[str, str]:
    """Person code → name, for everyone."""
    return dict(tx.execute(select(Person.code, Person.name)).all())


def names_of(tx: Tx, codes: set[str]) -> dict[str, str]:
    """Person code → name, for these codes (those that are people)."""
    return dict(tx.execute(select(Person.code, Person.name).where(Person.code.in_(sorted(codes)))).all()) if codes else {}


def count_people(tx: Tx) -> int:
    return tx.execute(select(func.count()).select_from(Person)).scalar_one()


def flags(tx: Tx) -> dict[str, list[str]]:
    """The codes of the administrators and of the disabled people, as the audit trail records them after a change."""
    rows = tx.execute(select(Person.code, Person.admin, Person.active).order_by(Person.code)).all()
    return {"admins": [c for c, a, _ in rows if a], "inactive": [c for c, _, act in rows if not act]}


def admins(tx: Tx) -> list[PersonRow]:
    cols = (Person.id, Person.code, Person.name, Person.email, Person.title, Person.active, Person.admin)
    rows = tx.execute(select(*cols).where(Person.admin.is_(True), Person.active.is_(True)).order_by(Person.code)).mappings()
    return [PersonRow(**r) for r in rows]


def staff_column(person_id):
    """Whether the person (`person_id`: a column or parameter) belongs to the office or the council, as a column of
    another statement (a session's reads it in the same round trip)."""
    return (select(Membership.id).join(OrgUnit, OrgUnit.id == Membership.unit_id)
            .where(Membership.person_id == person_id, or_(OrgUnit.kind == "office", OrgUnit.kind == "council"))
            .exists().label("staff"))


_IS_STAFF = Prepared(lambda: select(staff_column(bindparam("p"))))


def is_member(tx: Tx, unit_id: int, person_id: int) -> bool:
    """Whether the person holds any role in this one unit."""
    return tx.execute(select(Membership.id).where(Membership.unit_id == unit_id, Membership.person_id == person_id)
                      .limit(1)).first() is not None


def membership_roles(tx: Tx, person_id: int) -> set[str]:
    """The roles a person holds in any unit of the directory."""
    return set(tx.execute(select(Membership.role).where(Membership.person_id == person_id)).scalars())


def district_of(tx: Tx, person_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Person id → (code, name) of a district unit he belongs to (a deputy's district), for those who have one."""
    if not person_ids:
        return {}
    rows = tx.execute(select(Membership.person_id, OrgUnit.code, OrgUnit.name).join(OrgUnit, OrgUnit.id == Membership.unit_id)
                      .where(Membership.person_id.in_(person_ids), OrgUnit.kind == "district").order_by(Membership.id))
    out: dict[int, tuple[str, str]] = {}
    for pid, code, name in rows:
        out.setdefault(pid, (code, name))
    return out


def people_with_roles(tx: Tx, roles: list[str]) -> list[tuple[str, PersonRow]]:
    """(role, person) of the active people holding any of `roles` in the directory, each person once, by role order."""
    rows = tx.execute(select(Membership.role, Person.id, Person.code, Person.name, Person.email, Person.title, Person.active,
                             Person.admin).join(Person, Person.id == Membership.person_id)
                      .where(Membership.role.in_(roles), Person.active.is_(True)).order_by(Membership.id)).mappings()
    seen: dict[int, tuple[str, PersonRow]] = {}
    for r in sorted(rows, key=lambda r: roles.index(r["role"])):
        d = dict(r)
        role = d.pop("role")
        seen.setdefault(d["id"], (role, PersonRow(**d)))
    return list(seen.values())


def is_staff(tx: Tx, person_id: int) -> bool:
    """Whether a person belongs to the office or the council (who see every item)."""
    return bool(_IS_STAFF.scalar(tx, {"p": person_id}))


def unit(tx: Tx, code: str) -> UnitRow | None:
    row = tx.execute(select(OrgUnit.__table__).where(OrgUnit.code == code)).mappings().first()
    return None if row is None else UnitRow(**row)


_UNIT_BY_ID = Prepared(lambda: select(OrgUnit.__table__).where(OrgUnit.id == bindparam("id")))


def unit_by_id(tx: Tx, unit_id: int) -> UnitRow | None:
    row = _UNIT_BY_ID.first(tx, {"id": unit_id})
    return None if row is None else UnitRow(**row)


_ANY_WEBHOOK = Prepared(lambda: select(OrgUnit.id).where(OrgUnit.webhook_url.is_not(None)).limit(1))


def webhooks_of(tx: Tx, person_ids: list[int]) -> dict[int, list[UnitRow]]:
    """The units with a webhook that each person belongs to (one prepared probe when no unit has any)."""
    if not person_ids or _ANY_WEBHOOK.scalar(tx, {}) is None:
        return {}
    rows = tx.execute(select(Membership.person_id, *OrgUnit.__table__.columns).join(OrgUnit, OrgUnit.id == Membership.unit_id)
                      .where(Membership.person_id.in_(sorted(set(person_ids))), OrgUnit.webhook_url.is_not(None))
                      .order_by(OrgUnit.id)).mappings()
    out: dict[int, list[UnitRow]] = {}
    for r in rows:
        units = out.setdefault(r["person_id"], [])
        if all(u.id != r["id"] for u in units):
            units.append(UnitRow(**{k: v for k, v in r.items() if k != "person_id"}))
    return out


def list_people(tx: Tx) -> list[tuple[PersonRow, list[tuple[str, str, str]]]]:
    """Everyone with their memberships as (unit code, unit name, role)."""
    rows = tx.execute(
        select(Person.id, Person.code, Person.name, Person.email, Person.title, Person.active, Person.admin,
               OrgUnit.code.label("unit"), OrgUnit.name.label("unit_name"), Membership.role)
        .outerjoin(Membership, Membership.person_id == Person.id)
        .outerjoin(OrgUnit, OrgUnit.id == Membership.unit_id)
        .order_by(Person.code, OrgUnit.code, Membership.role)
    ).mappings()
    out: dict[str, tuple[PersonRow, list]] = {}
    for r in rows:
        p = PersonRow(r["id"], r["code"], r["name"], r["email"], r["title"], bool(r["active"]), bool(r["admin"]))
        entry = out.setdefault(p.code, (p, []))
        if r["unit"] is not None:
            entry[1].append((r["unit"], r["unit_name"], r["role"]))
    return list(out.values())


def default_holders(tx: Tx, unit_ids: list[int], roles: list[str], organisation_id: int | None = None) -> dict[str, list[int]]:
    """Role → person ids from the memberships of the item's units and of the units of its organisation
    (`organisation_id`, None: the root) that apply to all its items."""
    rows = tx.execute(
        select(Membership.role, Membership.person_id)
        .join(OrgUnit, OrgUnit.id == Membership.unit_id)
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.role.in_(roles), Person.active.is_(True),
               or_(OrgUnit.id.in_(unit_ids or [-1]),
                   OrgUnit.applies_to_all.is_(True) & same_org(OrgUnit.organisation_id, bindparam("org", organisation_id))))
        .order_by(Membership.id)
    ).all()
    out: dict[str, list[int]] = {}
    for role, pid in rows:
        if pid not in out.setdefault(role, []):
            out[role].append(pid)
    return out


def unit_names(tx: Tx, codes: set[str]) -> dict[str, str]:
    """Unit code → name, for the codes given."""
    if not codes:
        return {}
    return dict(tx.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(sorted(codes)))).all())


def units_of(tx: Tx, person_id: int | None) -> list[UnitRow]:
    """The units a person belongs to (None: every unit), each once, in the directory's order."""
    q = select(OrgUnit.__table__).order_by(OrgUnit.id)
    if person_id is not None:
        q = q.where(OrgUnit.id.in_(select(Membership.unit_id).where(Membership.person_id == person_id)))
    return [UnitRow(**r) for r in tx.execute(q).mappings()]


def unit_holders(tx: Tx, unit_id: int, roles: list[str]) -> dict[str, list[int]]:
    """Role → ids of the active people holding it in this one unit (not in the units that apply to all)."""
    rows = tx.execute(
        select(Membership.role, Membership.person_id).join(Person, Person.id == Membership.person_id)
        .where(Membership.unit_id == unit_id, Membership.role.in_(roles), Person.active.is_(True)).order_by(Membership.id)
    ).all()
    out: dict[str, list[int]] = {}
    for role, pid in rows:
        out.setdefault(role, []).append(pid)
    return out


@dataclass
class ImportCounts:
    people: int
    units: int
    memberships: int
    new_people: int
    new_memberships: int
    organisations: int = 0


def apply_import(tx: Tx, data: PeopleFile) -> ImportCounts:
    """Create or update the file's people and units, and add its memberships (none is removed)."""
    existing = {r.code: r.id for r in tx.execute(select(Person.code, Person.id))}
    # one statement for all the updates and one for all the new people (a file of 7,695 deputies: not 7,695 each)
    changed, added = [], []
    for p in data.people:
        values: dict[str, Any] = {"name": p.name, "email": p.email, "title": p.title, "admin": p.admin, "active": p.active}
        if p.code in existing:
            changed.append({"pid": existing[p.code], **values})
        else:
            added.append({"code": p.code, **values})
    if changed:
        tx.execute(update(Person).where(Person.id == bindparam("pid")).values(
            {k: bindparam(k) for k in ("name", "email", "title", "admin", "active")}), changed)
    if added:
        for r in tx.execute(insert(Person).returning(Person.id, Person.code, sort_by_parameter_order=True), added):
            existing[r.code] = r.id
    new_people = len(added)
    deputies.replace(tx, {existing[p.code]: [vars(m) for m in p.deputy] for p in data.people if p.deputy is not None})
    apply_orgs(tx, data.organisations)
    org_ids = org_ids_of(tx)
    units = {r.code: r.id for r in tx.execute(select(OrgUnit.code, OrgUnit.id))}
    memberships = new_memberships = 0
    for u in data.units:
        values = {"name": u.name, "kind": u.kind, "applies_to_all": u.applies_to_all, "webhook_url": u.webhook}
        if u.organisation is not None:  # unsaid: a new unit is the root's, one in the database keeps its organisation
            values["organisation_id"] = org_ids[u.organisation]
        if u.code in units:
            tx.execute(update(OrgUnit).where(OrgUnit.id == units[u.code]).values(**values))
        else:
            units[u.code] = tx.execute(insert(OrgUnit).values(code=u.code, **values).returning(OrgUnit.id)).scalar_one()
        have = {(r.person_id, r.role) for r in tx.execute(select(Membership.person_id, Membership.role)
                                                           .where(Membership.unit_id == units[u.code]))}
        fresh = []
        for m in u.members:
            key = (existing[m.person], m.role)
            memberships += 1
            if key not in have:
                fresh.append({"unit_id": units[u.code], "person_id": key[0], "role": m.role})
                have.add(key)
        if fresh:
            tx.execute(insert(Membership), fresh)
            new_memberships += len(fresh)
    return ImportCounts(len(data.people), len(data.units), memberships, new_people, new_memberships, len(data.organisations))


def org_ids_of(tx: Tx) -> dict[str, int | None]:
    """Code → the id units and items store for each organisation in the database (None for the root)."""
    return {r.code: (None if r.parent_id is None else r.id)
            for r in tx.execute(select(Organisation.code, Organisation.id, Organisation.parent_id))}


def known_codes(tx: Tx, codes: set[str]) -> set[str]:
    if not codes:
        return set()
    return set(tx.execute(select(Person.code).where(Person.code.in_(list(codes)))).scalars())
