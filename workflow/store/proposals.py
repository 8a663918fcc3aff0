"""我献策: proposal rows, their co-signers, the screening, and the proposals a person may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_, select, update

from .engine import Tx
from .models import Membership, OrgUnit, Person
from .organisations import in_orgs
from .proposal_models import Proposal, ProposalCosigner


@dataclass(slots=True)
class ProposalRow:
    id: int
    organisation_id: int | None
    author_id: int
    title: str
    text: str
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    item_id: int | None
    meeting_id: int | None


@dataclass(slots=True)
class CosignerRow:
    person_id: int
    code: str
    name: str
    confirmed_at: datetime | None


def add(tx: Tx, *, organisation_id: int | None, author_id: int, title: str, text: str, at: datetime,
        cosigners: list[int]) -> int:
    pid = tx.execute(insert(Proposal).values(organisation_id=organisation_id, author_id=author_id, title=title, text=text,
                                             status="submitted", created_at=at).returning(Proposal.id)).scalar_one()
    if cosigners:
        tx.execute(insert(ProposalCosigner), [{"proposal_id": pid, "person_id": c} for c in cosigners])
    return pid


def get(tx: Tx, proposal_id: int, lock: bool = False) -> ProposalRow | None:
    q = select(Proposal.__table__).where(Proposal.id == proposal_id)
    r = tx.execute(q.with_for_update() if lock else q).mappings().first()
    return None if r is None else ProposalRow(**r)


def cosigners(tx: Tx, proposal_ids: list[int]) -> dict[int, list[CosignerRow]]:
    out: dict[int, list[CosignerRow]] = {i: [] for i in proposal_ids}
    if not proposal_ids:
        return out
    c = ProposalCosigner.__table__.c
    rows = tx.execute(select(c.proposal_id, c.person_id, Person.code, Person.name, c.confirmed_at)
                      .join(Person, Person.id == c.person_id).where(c.proposal_id.in_(proposal_ids)).order_by(Person.code))
    for r in rows:
        out[r.proposal_id].append(CosignerRow(r.person_id, r.code, r.name, r.confirmed_at))
    return out


def confirm(tx: Tx, proposal_id: int, person_id: int, at: datetime) -> bool:
    """His confirmation as a co-signer; False when he is not one, or confirmed already."""
    c = ProposalCosigner.__table__.c
    r = tx.execute(update(ProposalCosigner).where(c.proposal_id == proposal_id, c.person_id == person_id,
                                                  c.confirmed_at.is_(None)).values(confirmed_at=at))
    return r.rowcount == 1


def decide(tx: Tx, proposal_id: int, *, status: str, by: str, at: datetime, reason: str | None,
           item_id: int | None = None, meeting_id: int | None = None) -> None:
    tx.execute(update(Proposal).where(Proposal.id == proposal_id).values(
        status=status, decided_by=by, decided_at=at, reason=reason, item_id=item_id, meeting_id=meeting_id))


def readable(tx: Tx, person_id: int | None, staff_orgs: list[int | None] | None, *, mine: bool = False,
             meeting_id: int | None = None, limit: int = 500) -> list[ProposalRow]:
    """The newest proposals he may read: his own and those he is asked to co-sign; with `staff_orgs`, those to these
    organisations (None among them: the root's) unless `mine`; every one for `person_id` None (the operator)."""
    p = Proposal.__table__.c
    q = select(Proposal.__table__)
    if person_id is not None:
        own = or_(p.author_id == person_id,
                  p.id.in_(select(ProposalCosigner.proposal_id).where(ProposalCosigner.person_id == person_id)))
        if staff_orgs and not mine:
            own = or_(own, in_orgs(p.organisation_id, staff_orgs))
        q = q.where(own)
    if meeting_id is not None:
        q = q.where(p.meeting_id == meeting_id)
    return [ProposalRow(**r) for r in tx.execute(q.order_by(p.id.desc()).limit(limit)).mappings()]


def deputy_orgs(tx: Tx, person_id: int) -> list[int | None]:
    """The organisations whose deputy he is (None: the root's): those of his units of kind deputy (市人大代表), else
    those of the units where he holds the role deputy (a district's unit naming the city deputies elected there)."""
    rows = tx.execute(select(OrgUnit.organisation_id, OrgUnit.kind == "deputy").join(Membership, Membership.unit_id == OrgUnit.id)
                      .where(Membership.person_id == person_id, or_(OrgUnit.kind == "deputy", Membership.role == "deputy"))
                      .distinct()).all()
    own = [org for org, kind in rows if kind]
    return list(dict.fromkeys(own or [org for org, _k in rows]))


def office_unit(tx: Tx, person_id: int, organisation_id: int | None) -> str | None:
    """The code of an office unit of that organisation he belongs to (None: he is not its office)."""
    cond = OrgUnit.organisation_id.is_(None) if organisation_id is None else OrgUnit.organisation_id == organisation_id
    return tx.execute(select(OrgUnit.code).join(Membership, Membership.unit_id == OrgUnit.id)
                      .where(Membership.person_id == person_id, OrgUnit.kind == "office", cond)
                      .order_by(OrgUnit.code).limit(1)).scalar()
