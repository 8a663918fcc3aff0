"""Accounts of the workbench: password hashes and login throttling, sessions, API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update

from ..rows import AccountRow, ApiTokenRow, PersonRow, SessionRow
from .directory import staff_column
from .driver import Prepared
from .engine import Tx
from .models import ApiToken, Person, Session

_PERSON_COLS = (Person.id, Person.code, Person.name, Person.email, Person.title, Person.active, Person.admin)
_SESSION = Prepared(lambda: select(Session.__table__, *[c.label(f"p__{c.key}") for c in _PERSON_COLS],
                                   staff_column(Person.id))
                    .join(Person, Person.id == Session.person_id).where(Session.id == bindparam("id")))
_TOKEN = Prepared(lambda: select(ApiToken.__table__, *[c.label(f"p__{c.key}") for c in _PERSON_COLS])
                  .join(Person, Person.id == ApiToken.person_id).where(ApiToken.digest == bindparam("digest")))


def _person(r) -> PersonRow:
    return PersonRow(**{c.key: r[f"p__{c.key}"] for c in _PERSON_COLS})


def account(tx: Tx, code: str) -> AccountRow | None:
    """The person with his login state, row-locked so that concurrent failures are all counted."""
    r = tx.execute(select(*_PERSON_COLS, Person.password_hash, Person.login_failures, Person.failures_since,
                          Person.locked_until).where(Person.code == code).with_for_update()).mappings().first()
    if r is None:
        return None
    return AccountRow(PersonRow(**{c.key: r[c.key] for c in _PERSON_COLS}), r["password_hash"], r["login_failures"],
                      r["failures_since"], r["locked_until"])


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
