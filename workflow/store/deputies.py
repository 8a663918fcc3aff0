"""The deputies' registry: a person's mandates replaced from a people file, and the list by level and organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, insert, select

from .deputy_models import DeputyMandate
from .engine import Tx
from .models import Membership, Organisation, OrgUnit, Person
from .organisations import in_orgs


@dataclass(slots=True)
class MandateRow:
    person_id: int
    code: str
    name: str
    active: bool
    level: str
    constituency: str | None
    team: str | None
    station: str | None
    term: int | None
    since: date | None
    until: date | None


def replace(tx: Tx, mandates: dict[int, list[dict]]) -> int:
    """Each person's mandates become those given (person id → rows of level, constituency, …); → rows written."""
    if not mandates:
        return 0
    ids = list(mandates)
    for i in range(0, len(ids), 500):
        tx.execute(delete(DeputyMandate).where(DeputyMandate.person_id.in_(ids[i:i + 500])))
    rows = [{"person_id": pid, **m} for pid, ms in mandates.items() for m in ms]
    if rows:
        tx.execute(insert(DeputyMandate), rows)
    return len(rows)


def listed(tx: Tx, *, level: str | None = None, orgs: list[int | None] | None = None,
           org_code: str | None = None) -> list[MandateRow]:
    """Every mandate with its deputy, by name; of one level; of deputies who belong to a unit of the organisations
    `orgs` (None among them: the root's) or of the organisation `org_code`."""
    m = DeputyMandate.__table__.c
    q = (select(m.person_id, Person.code, Person.name, Person.active, m.level, m.constituency, m.team, m.station, m.term,
                m.since, m.until).join(Person, Person.id == m.person_id))
    if level:
        q = q.where(m.level == level)
    if org_code is not None:
        found = tx.execute(select(Organisation.id, Organisation.parent_id).where(Organisation.code == org_code)).first()
        if found is None:
            return []
        q = q.where(m.person_id.in_(_members_of([None if found.parent_id is None else found.id])))  # the root: NULL
    if orgs is not None:
        q = q.where(m.person_id.in_(_members_of(orgs)))
    return [MandateRow(*r) for r in tx.execute(q.order_by(Person.code, m.level, m.term))]


def listed_for(tx: Tx, person_id: int) -> bool:
    """Whether the person holds any mandate as a deputy."""
    return tx.execute(select(DeputyMandate.id).where(DeputyMandate.person_id == person_id).limit(1)).first() is not None


def _members_of(orgs: list[int | None]):
    """The people in a unit of one of the organisations (None: the root's)."""
    return select(Membership.person_id).join(OrgUnit, OrgUnit.id == Membership.unit_id).where(
        in_orgs(OrgUnit.organisation_id, orgs))
