"""Accounts of the workbench: password hashes and login throttling, sessions, API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..rows import AccountRow, ApiTokenRow, PersonRow, SessionRow, ThrottleRow
from .directory import staff_column
from .driver import Prepared
from .engine import Tx
from .models import ApiToken, LoginThrottle, Person, Session

_PERSON_COLS = (Person.id, Person.code, Person.name, Person.email, Person.title, Person.active, Person.admin)
_SESSION = Prepared(lambda: select(Session.__table__, *[c.label(f"p__{c.key}") for c in _PERSON_COLS],
                                   staff_column(Person.id))
                    .join(Person, Person.id == Session.person_id).where(Session.id == bindparam("id")))
_TOKEN = Prepared(lambda: select(ApiToken.__table__, *[c.label(f"p__{c.key}") for c in _PERSON_COLS])
                  .join(Person, Person.id == ApiToken.person_id).where(ApiToken.digest == bindparam("digest")))


def _person(r) -> PersonRow:
    return PersonRow(**{c.key: r[f"p__{c.key}"] for c in _PERSON_COLS})


def account(tx: Tx, code: str) -> AccountRow | None:
    """The person with his password hash."""
    r = tx.execute(select(*_PERSON_COLS, Person.password_hash).where(Person.code == code)).mappings().first()
    if r is None:
        return None
    return AccountRow(PersonRow(**{c.key: r[c.key] for c in _PERSON_COLS}), r["password_hash"])


def throttle(tx: Tx, name: str) -> ThrottleRow | None:
    """A name's failed logins, row-locked so that concurrent failures are all counted (None: none lately)."""
    r = tx.execute(select(LoginThrottle.failures, LoginThrottle.since, LoginThrottle.locked_until)
                   .where(LoginThrottle.name == name).with_for_update()).first()
    return None if r is None else ThrottleRow(r.failures, r.since, r.locked_until)


def set_throttle(tx: Tx, name: str, failures: int, since: datetime, locked_until: datetime | None) -> None:
    values = {"failures": failures, "since": since, "locked_until": locked_until}
    ins = (postgresql if tx.dialect == "postgresql" else sqlite).insert(LoginThrottle).values(name=name, **values)
    tx.execute(ins.on_conflict_do_update(index_elements=["name"], set_=values))


def clear_throttle(tx: Tx, name: str) -> None:
    tx.execute(delete(LoginThrottle).where(LoginThrottle.name == name))


def update_account(tx: Tx, person_id: int, **values) -> None:
    tx.execute(update(Person).where(Person.id == person_id).values(**values))


def insert_session(tx: Tx, **values) -> None:
    tx.execute(insert(Session).values(**values))


def session(tx: Tx, session_id: str) -> tuple[SessionRow, PersonRow, bool] | None:
    """The session, its person, and whether he is office or council staff."""
    r = _SESSION.first(tx, {"id": session_id})
    if r is None:
        return None
    return SessionRow(**{c.key: r[c.key] for c in Session.__table__.columns}), _person(r), bool(r["staff"])


def touch_session(tx: Tx, session_id: str, at: datetime) -> None:
    tx.execute(update(Session).where(Session.id == session_id).values(last_seen_at=at))


def revoke_session(tx: Tx, session_id: str, at: datetime) -> None:
    tx.execute(update(Session).where(Session.id == session_id, Session.revoked_at.is_(None)).values(revoked_at=at))


def revoke_sessions_of(tx: Tx, person_id: int, at: datetime) -> int:
    return tx.execute(update(Session).where(Session.person_id == person_id, Session.revoked_at.is_(None))
                      .values(revoked_at=at)).rowcount


def insert_token(tx: Tx, person_id: int, digest: str, at: datetime, by: str | None) -> int:
    return tx.execute(insert(ApiToken).values(person_id=person_id, digest=digest, created_at=at, created_by=by)
                      .returning(ApiToken.id)).scalar_one()


def token(tx: Tx, digest: str) -> tuple[ApiTokenRow, PersonRow] | None:
    r = _TOKEN.first(tx, {"digest": digest})
    if r is None:
        return None
    return ApiTokenRow(**{c.key: r[c.key] for c in ApiToken.__table__.columns}), _person(r)


def touch_token(tx: Tx, token_id: int, at: datetime) -> None:
    tx.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))


def revoke_tokens(tx: Tx, person_id: int, at: datetime, token_id: int | None = None) -> list[int]:
    q = update(ApiToken).where(ApiToken.person_id == person_id, ApiToken.revoked_at.is_(None))
    if token_id is not None:
        q = q.where(ApiToken.id == token_id)
    return list(tx.execute(q.values(revoked_at=at).returning(ApiToken.id)).scalars())


def live_tokens(tx: Tx, person_id: int) -> int:
    return tx.execute(select(func.count()).select_from(ApiToken)
                      .where(ApiToken.person_id == person_id, ApiToken.revoked_at.is_(None))).scalar_one()
