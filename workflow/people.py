"""People, organisation units and memberships: import from YAML/CSV, list, resolve role holders."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from . import audit, loader
from .db import connection_of
from .driver import Prepared
from .errors import InvalidInput, NotFound
from .models import Assignment, Membership, OrgUnit, Person

UNIT_KINDS = ("group", "committee", "council", "office", "department", "district", "deputy", "other")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_CODE = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass
class ImportResult:
    people: int = 0
    units: int = 0
    memberships: int = 0


def _read(path: Path) -> dict[str, Any]:
    text = loader.read_text(path, InvalidInput)
    if path.suffix.lower() == ".csv":
        return _from_csv(text, path)
    try:
        data = loader.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise InvalidInput(f"{path}{where}: not valid YAML") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: expected a mapping with `people` and `units`")
    return data


def _from_csv(text: str, path: Path) -> dict[str, Any]:
    """CSV: one row per membership; columns person,name,email,title,unit,unit_name,unit_kind,role,applies_to_all."""
    reader = csv.DictReader(io.StringIO(text))
    need = {"person", "name", "email"}
    if not reader.fieldnames or not need <= set(reader.fieldnames):
        raise InvalidInput(f"{path}: the CSV header must contain {', '.join(sorted(need))} (and unit, unit_name, unit_kind, role)")
    people: dict[str, dict] = {}
    units: dict[str, dict] = {}
    for n, row in enumerate(reader, start=2):
        code = (row.get("person") or "").strip()
        if not code:
            raise InvalidInput(f"{path}:{n}: empty person code")
        people[code] = {"code": code, "name": row.get("name", "").strip(), "email": (row.get("email") or "").strip() or None,
                        "title": (row.get("title") or "").strip() or None}
        unit = (row.get("unit") or "").strip()
        if unit:
            u = units.setdefault(unit, {"code": unit, "name": (row.get("unit_name") or unit).strip(),
                                        "kind": (row.get("unit_kind") or "other").strip(),
                                        "applies_to_all": (row.get("applies_to_all") or "").strip().lower() in ("1", "true", "yes", "是"),
                                        "members": []})
            if (row.get("role") or "").strip():
                u["members"].append({"person": code, "role": row["role"].strip()})
    return {"people": list(people.values()), "units": list(units.values())}


def import_people(session: Session, path: str | Path, actor: str | None, now: datetime) -> ImportResult:
    """Create or update people, units and memberships from a file; raises InvalidInput naming the entry."""
    path = Path(path)
    data = _read(path)
    res = ImportResult()
    by_code: dict[str, Person] = {p.code: p for p in session.execute(select(Person)).scalars()}
    for i, p in enumerate(data.get("people") or [], start=1):
        if not isinstance(p, dict) or not p.get("code") or not p.get("name"):
            raise InvalidInput(f"{path}: person {i} needs `code` and `name`")
        code = str(p["code"]).strip()
        if not _CODE.match(code):
            raise InvalidInput(f"{path}: person {i}: code '{code}' may use letters, digits, '.', '-' and '_' only")
        email = p.get("email")
        if email and not _EMAIL.match(str(email)):
            raise InvalidInput(f"{path}: person '{code}': '{email}' is not an email address")
        person = by_code.get(code)
        if person is None:
            person = by_code[code] = Person(code=code, name=str(p["name"]), active=True)
            session.add(person)
        person.name, person.email, person.title = str(p["name"]), email, p.get("title")
        res.people += 1
    session.flush()
    units = {u.code: u for u in session.execute(select(OrgUnit)).scalars()}
    for i, u in enumerate(data.get("units") or [], start=1):
        if not isinstance(u, dict) or not u.get("code") or not u.get("name"):
            raise InvalidInput(f"{path}: unit {i} needs `code` and `name`")
        kind = u.get("kind", "other")
        if kind not in UNIT_KINDS:
            raise InvalidInput(f"{path}: unit '{u['code']}': kind '{kind}' is not one of {', '.join(UNIT_KINDS)}")
        unit = units.get(u["code"])
        if unit is None:
            unit = units[u["code"]] = OrgUnit(code=u["code"], name=u["name"], kind=kind)
            session.add(unit)
        unit.name, unit.kind, unit.applies_to_all = u["name"], kind, bool(u.get("applies_to_all", False))
        session.flush()
        existing = {(m.person_id, m.role) for m in session.execute(select(Membership).where(Membership.unit_id == unit.id)).scalars()}
        for m in u.get("members") or []:
            if not isinstance(m, dict) or "person" not in m or "role" not in m:
                raise InvalidInput(f"{path}: unit '{u['code']}': each member needs `person` and `role`")
            person = by_code.get(str(m["person"]))
            if person is None:
                raise InvalidInput(f"{path}: unit '{u['code']}': unknown person '{m['person']}' (list them under `people`)")
            if (person.id, m["role"]) not in existing:
                session.add(Membership(unit_id=unit.id, person_id=person.id, role=str(m["role"])))
                existing.add((person.id, m["role"]))
            res.memberships += 1
        res.units += 1
    audit.append(session, at=now, actor=actor, kind="people_imported",
                 data={"file": path.name, "people": res.people, "units": res.units, "memberships": res.memberships})
    return res


def person(session: Session, code: str) -> Person:
    p = session.execute(select(Person).where(Person.code == code)).scalar_one_or_none()
    if p is None:
        raise NotFound(f"no person with code '{code}' (see `wuzhuan people list`)")
    return p


def unit(session: Session, code: str) -> OrgUnit:
    u = session.execute(select(OrgUnit).where(OrgUnit.code == code)).scalar_one_or_none()
    if u is None:
        raise NotFound(f"no organisation unit '{code}' (see `wuzhuan people list`)")
    return u


def list_people(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Person, OrgUnit, Membership.role)
        .outerjoin(Membership, Membership.person_id == Person.id)
        .outerjoin(OrgUnit, OrgUnit.id == Membership.unit_id)
        .order_by(Person.code, OrgUnit.code)
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for p, u, role in rows:
        e = out.setdefault(p.code, {"code": p.code, "name": p.name, "email": p.email, "title": p.title, "roles": []})
        if u is not None:
            e["roles"].append({"unit": u.code, "unit_name": u.name, "role": role})
    return list(out.values())


def default_holders(session: Session, unit_ids: list[int], roles: list[str]) -> dict[str, list[int]]:
    """Role → person ids from the memberships of the item's units and of units that apply to all."""
    rows = session.execute(
        select(Membership.role, Membership.person_id)
        .join(OrgUnit, OrgUnit.id == Membership.unit_id)
        .where(Membership.role.in_(roles), or_(OrgUnit.id.in_(unit_ids or [-1]), OrgUnit.applies_to_all.is_(True)))
        .order_by(Membership.id)
    ).all()
    out: dict[str, list[int]] = {}
    for role, pid in rows:
        if pid not in out.setdefault(role, []):
            out[role].append(pid)
    return out


@dataclass(frozen=True)
class Holder:
    """A person as seen through a role on an item (plain data, no ORM state)."""

    id: int
    code: str
    name: str
    email: str | None


_HOLDERS = (select(Assignment.item_id, Assignment.role, Person.id, Person.code, Person.name, Person.email)
            .join(Person, Person.id == Assignment.person_id).order_by(Assignment.id))


_HOLDERS_OF_MANY = _HOLDERS.where(Assignment.item_id.in_(bindparam("ids", expanding=True)))
_HOLDERS_OF_ONE = Prepared(_HOLDERS.where(Assignment.item_id == bindparam("id")))


def holders_many(session: Session, item_ids: list[int]) -> dict[int, dict[str, list[Holder]]]:
    """Role → people assigned, for each item, in one query."""
    out: dict[int, dict[str, list[Holder]]] = {i: {} for i in item_ids}
    for item_id, role, pid, code, name, email in connection_of(session).execute(_HOLDERS_OF_MANY, {"ids": list(item_ids) or [-1]}):
        out[item_id].setdefault(role, []).append(Holder(pid, code, name, email))
    return out


def holders(session: Session, item_id: int) -> dict[str, list[Holder]]:
    """Role → people assigned on an item."""
    out: dict[str, list[Holder]] = {}
    for _item_id, role, pid, code, name, email in _HOLDERS_OF_ONE.all(connection_of(session), {"id": item_id}):
        out.setdefault(role, []).append(Holder(pid, code, name, email))
    return out


def roles_of(session: Session, item_id: int, person_id: int) -> set[str]:
    return set(session.execute(
        select(Assignment.role).where(Assignment.item_id == item_id, Assignment.person_id == person_id)
    ).scalars())
