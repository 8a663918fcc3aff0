"""我监督: announcement rows, sign-ups, the confirmed attendance, and the announcements a person may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, or_, select, update

from .announce_models import Announcement, Signup
from .engine import Tx
from .models import Person
from .organisations import in_orgs


@dataclass(slots=True)
class AnnouncementRow:
    id: int
    organisation_id: int | None
    item_id: int | None
    kind: str
    day: date
    place: str | None
    note: str | None
    organiser: str
    created_at: datetime
    confirmed_at: datetime | None
    confirmed_by: str | None
    activity_id: int | None


@dataclass(slots=True)
class SignupRow:
    person_id: int
    code: str
    name: str
    signed_at: datetime | None
    attended: bool


def add(tx: Tx, **values) -> int:
    return tx.execute(insert(Announcement).values(**values).returning(Announcement.id)).scalar_one()


def get(tx: Tx, announcement_id: int, lock: bool = False) -> AnnouncementRow | None:
    q = select(Announcement.__table__).where(Announcement.id == announcement_id)
    r = tx.execute(q.with_for_update() if lock else q).mappings().first()
    return None if r is None else AnnouncementRow(**r)


def signups(tx: Tx, ids: list[int]) -> dict[int, list[SignupRow]]:
    out: dict[int, list[SignupRow]] = {i: [] for i in ids}
    if not ids:
        return out
    c = Signup.__table__.c
    for r in tx.execute(select(c.announcement_id, c.person_id, Person.code, Person.name, c.signed_at, c.attended)
                        .join(Person, Person.id == c.person_id).where(c.announcement_id.in_(ids)).order_by(Person.code)):
        out[r.announcement_id].append(SignupRow(r.person_id, r.code, r.name, r.signed_at, r.attended))
    return out


def sign_up(tx: Tx, announcement_id: int, person_id: int, at: datetime) -> bool:
    """His sign-up, once (False when he signed up already)."""
    c = Signup.__table__.c
    if tx.execute(select(c.person_id).where(c.announcement_id == announcement_id, c.person_id == person_id)).first():
        return False
    tx.execute(insert(Signup).values(announcement_id=announcement_id, person_id=person_id, signed_at=at, attended=False))
    return True


def mark_attended(tx: Tx, announcement_id: int, person_ids: list[int]) -> None:
    """These attended: their sign-ups marked (a deputy who came without signing up gets a row)."""
    c = Signup.__table__.c
    have = {r[0] for r in tx.execute(select(c.person_id).where(c.announcement_id == announcement_id))}
    new = [{"announcement_id": announcement_id, "person_id": p, "signed_at": None, "attended": True}
           for p in person_ids if p not in have]
    if new:
        tx.execute(insert(Signup), new)
    tx.execute(update(Signup).where(c.announcement_id == announcement_id, c.person_id.in_(person_ids)).values(attended=True))


def confirmed(tx: Tx, announcement_id: int, *, by: str, at: datetime, activity_id: int | None) -> None:
    tx.execute(update(Announcement).where(Announcement.id == announcement_id).values(
        confirmed_by=by, confirmed_at=at, activity_id=activity_id))


def readable(tx: Tx, orgs: list[int | None] | None, person_id: int | None, organiser: str | None,
             limit: int = 500) -> list[AnnouncementRow]:
    """The newest announcements of the organisations `orgs` (None among them: the root's; `orgs` None: every one),
    and those he organised or signed up for."""
    a = Announcement.__table__.c
    q = select(Announcement.__table__)
    if orgs is not None:
        cond = in_orgs(a.organisation_id, orgs)
        if organiser:
            cond = or_(cond, a.organiser == organiser)
        if person_id is not None:
            cond = or_(cond, a.id.in_(select(Signup.announcement_id).where(Signup.person_id == person_id)))
        q = q.where(cond)
    return [AnnouncementRow(**r) for r in tx.execute(q.order_by(a.day.desc(), a.id.desc()).limit(limit)).mappings()]
