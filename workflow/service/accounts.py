"""Accounts of the workbench: passwords and API tokens set by the operator, logins (throttled), sessions.

Passwords are hashed with argon2id; API tokens and session cookies are random 256-bit values of
which the database keeps only the SHA-256. Every login, failure, lock and logout is in the audit trail.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import InvalidInput, NotFound, NotPermitted
from ..present import fmt
from ..rows import AccountRow, PersonRow
from ..store import Store, Tx, directory
from ..store import accounts as account_store
from ..store import audit as audit_store
from ..store import meta as meta_store
from . import common

MIN_PASSWORD = 10
MAX_PASSWORD = 1000
FAILURES = 5  # failed logins of one account …
WINDOW = timedelta(minutes=15)  # … within this long …
LOCK = timedelta(minutes=1)  # … make it wait this long
TOUCH_EVERY = timedelta(seconds=60)  # a session's last-seen time is written at most this often


class LoginRefused(NotPermitted):
    """Wrong name or password, or a disabled account: the message never says which."""


class LoginLocked(NotPermitted):
    """Too many failed logins for one account: it waits a minute."""


@dataclass
class AccountChanged:
    person: str
    what: str
    sessions_ended: int = 0
    tokens_revoked: int = 0


@dataclass
class IssuedToken:
    person: str
    id: int
    token: str  # shown once; only its SHA-256 is kept


@dataclass
class LoggedIn:
    person: PersonRow
    cookie: str  # the session cookie's value (only its SHA-256 is stored)
    csrf: str
    expires_at: datetime


@dataclass
class SessionInfo:
    id: str
    person: PersonRow
    csrf: str
    staff: bool = False  # office or council staff, or an administrator: the pages show them the board and the 台账


def operator() -> str:
    """Who runs an operator command at the server's shell, as the audit trail records it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return common.shown(f"operator:{user}@{socket.gethostname()}", 64)


def _hasher():
    from argon2 import PasswordHasher  # argon2-cffi: only where passwords are set or checked

    return PasswordHasher()  # argon2id with the library's current recommended costs


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _account(tx: Tx, code: str) -> AccountRow:
    acc = _find(tx, code)
    if acc is None:
        raise NotFound(f"没有代码为“{common.shown(code)}”的人员", person=common.shown(code), next="list_people")
    return acc


def _find(tx: Tx, code: str) -> AccountRow | None:
    return account_store.account(tx, code) if common.is_code(code) else None


def set_password(store: Store, code: str, password: str, now: datetime, by: str | None = None) -> AccountChanged:
    """Set a person's workbench password (an operator at the server's shell); his open sessions end."""
    common.check_now(now)
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 个字符（最多 {MAX_PASSWORD} 个）", parameter="password")
    common.text_in(password, "密码", one_line=True)
    hashed = _hasher().hash(password)
    by = by or operator()
    with store.transaction() as tx:
        acc = _account(tx, code)
        account_store.update_account(tx, acc.person.id, password_hash=hashed)
        account_store.clear_throttle(tx, _name_key(acc.person.code))
        ended = account_store.revoke_sessions_of(tx, acc.person.id, now)
        audit_store.append(tx, at=now, actor=by, kind="password_set", data={"person": acc.person.code, "sessions_ended": ended})
    return AccountChanged(acc.person.code, "password set", sessions_ended=ended)


def demo_passwords(store: Store, password: str, now: datetime) -> int:
    """Give everyone the same password — only on a database marked as the demo's simulation (never a real one)."""
    common.check_now(now)
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 个字符（最多 {MAX_PASSWORD} 个）", parameter="password")
    hashed = _hasher().hash(password)
    with store.transaction() as tx:
        if meta_store.get(tx, meta_store.SIMULATION) != "demo":
            raise NotPermitted("所有人共用一个密码只用于演示数据库；请为每个人分别设置密码", next="set_password")
        people = [p for p, _ in directory.list_people(tx)]
        for p in people:
            account_store.update_account(tx, p.id, password_hash=hashed)
        audit_store.append(tx, at=now, actor=None, kind="demo_passwords_set", data={"people": len(people)})
    return len(people)


def set_active(store: Store, code: str, active: bool, now: datetime, by: str | None = None) -> AccountChanged:
    """Disable a person (he can no longer log in or act; his sessions and tokens end) or enable him again."""
    common.check_now(now)
    by = by or operator()
    with store.transaction() as tx:
        acc = _account(tx, code)
        if not active and acc.person.admin:
            others = [a for a in _admins(tx) if a != acc.person.code]
            if not others:
                raise InvalidInput(f"{acc.person.name}（{acc.person.code}）是最后一位在用的管理员：请先启用或指定另一位管理员",
                                   person=acc.person.code)
        account_store.update_account(tx, acc.person.id, active=active)
        ended = revoked = 0
        if not active:
            ended = account_store.revoke_sessions_of(tx, acc.person.id, now)
            revoked = len(account_store.revoke_tokens(tx, acc.person.id, now))
        audit_store.append(tx, at=now, actor=by, kind="person_enabled" if active else "person_disabled",
                           data={"person": acc.person.code, "sessions_ended": ended, "tokens_revoked": revoked})
    return AccountChanged(acc.person.code, "enabled" if active else "disabled", ended, revoked)


def set_admin(store: Store, code: str, admin: bool, now: datetime, by: str | None = None) -> AccountChanged:
    """Make a person an administrator, or no longer one (an operator at the server's shell: this is how a database
    without an administrator gets one). The last active administrator is never removed."""
    common.check_now(now)
    by = by or operator()
    with store.transaction() as tx:
        acc = _account(tx, code)
        if not admin and acc.person.admin and acc.person.active and not [a for a in _admins(tx) if a != acc.person.code]:
            raise InvalidInput(f"{acc.person.name}（{acc.person.code}）是最后一位在用的管理员，不能取消：请先指定另一位管理员",
                               person=acc.person.code)
        if acc.person.admin != admin:
            account_store.update_account(tx, acc.person.id, admin=admin)
            audit_store.append(tx, at=now, actor=by, kind="admin_set", data={"person": acc.person.code, "admin": admin})
    return AccountChanged(acc.person.code, "administrator" if admin else "no longer an administrator")


def _admins(tx: Tx) -> list[str]:
    return [p.code for p in directory.admins(tx)]


def issue_token(store: Store, code: str, now: datetime, by: str | None = None) -> IssuedToken:
    """A new API token for a person (shown once); the person acts through it with his own rights."""
    common.check_now(now)
    by = by or operator()
    token = "wz_" + secrets.token_urlsafe(32)
    with store.transaction() as tx:
        acc = _account(tx, code)
        if not acc.person.active:
            raise InvalidInput(f"{acc.person.name}（{acc.person.code}）的账号已停用：请先启用", person=acc.person.code)
        tid = account_store.insert_token(tx, acc.person.id, digest(token), now, by)
        audit_store.append(tx, at=now, actor=by, kind="token_issued", data={"person": acc.person.code, "token_id": tid})
    return IssuedToken(acc.person.code, tid, token)


def revoke_token(store: Store, code: str, now: datetime, token_id: int | None = None, by: str | None = None) -> AccountChanged:
    """Revoke a person's API tokens (all of them, or the one with `token_id`)."""
    common.check_now(now)
    by = by or operator()
    with store.transaction() as tx:
        acc = _account(tx, code)
        ids = account_store.revoke_tokens(tx, acc.person.id, now, token_id)
        if token_id is not None and not ids:
            raise NotFound(f"{acc.person.name}（{acc.person.code}）没有编号为 {token_id} 的有效令牌", person=acc.person.code)
        audit_store.append(tx, at=now, actor=by, kind="token_revoked", data={"person": acc.person.code, "token_ids": ids})
    return AccountChanged(acc.person.code, "tokens revoked", tokens_revoked=len(ids))


# --- logging in ----------------------------------------------------------------------------------

def _name_key(username: str) -> str:
    """The throttle's key for a name as typed: whoever types a name, real or not, is counted the same way."""
    return digest(username.strip().lower())


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    """A hash of nothing anyone knows, checked when a name has no account or no password: a failed login costs the
    same time whether the name exists or not (argon2's ~0.1 s), so timing tells nobody which names are real."""
    if not _DUMMY:
        _DUMMY.append(_hasher().hash(secrets.token_urlsafe(24)))
    return _DUMMY[0]


REFUSED = "用户名或密码不正确。"


def login(store: Store, username: str, password: str, now: datetime, client: str = "") -> LoggedIn:
    """Check a name and password; a new session on success. Raises LoginRefused (never saying whether the name
    exists) or LoginLocked: five failures of one name within 15 minutes make it wait a minute — any name, a real
    one or not, with the same messages and the same cost, so that neither says which names exist."""
    common.check_now(now)
    username = (username or "").strip()
    client = common.shown(client or "", 200)
    key = _name_key(username)
    outcome, detail = None, {}
    with store.transaction() as tx:  # the failure is counted and recorded even though the login is refused
        acc = _find(tx, username)
        th = account_store.throttle(tx, key)
        if th is not None and th.locked_until is not None and now < th.locked_until:
            outcome, detail = "locked", {"until": fmt(th.locked_until)}
        else:
            hashed = acc.password_hash if acc is not None and acc.password_hash else _dummy_hash()
            matches = _verify(hashed, password)  # checked whatever else is wrong: the same time for every name
            if not (matches and acc is not None and acc.person.active and acc.password_hash):
                outcome = "failed"
                recent = th is not None and now - th.since < WINDOW
                failures = th.failures + 1 if recent else 1
                since = th.since if recent else now
                if failures >= FAILURES:
                    account_store.set_throttle(tx, key, 0, now, now + LOCK)
                    outcome, detail = "locking", {"until": fmt(now + LOCK), "failures": failures}
                else:
                    account_store.set_throttle(tx, key, failures, since, None)
        if outcome is None:
            cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            expires = now + timedelta(hours=store.settings.session_max_hours)
            account_store.insert_session(tx, id=digest(cookie), person_id=acc.person.id, csrf=csrf, created_at=now,
                                         last_seen_at=now, expires_at=expires, client=client)
            if th is not None:
                account_store.clear_throttle(tx, key)
            if _hasher().check_needs_rehash(acc.password_hash):
                account_store.update_account(tx, acc.person.id, password_hash=_hasher().hash(password))
            audit_store.append(tx, at=now, actor=acc.person.code, kind="login", data={"client": client})
            return LoggedIn(acc.person, cookie, csrf, expires)
        who = acc.person.code if acc is not None else common.shown(username) or "(empty)"
        kind = {"failed": "login_failed", "locking": "login_locked", "locked": "login_refused_locked"}[outcome]
        audit_store.append(tx, at=now, actor=who, kind=kind, data={"client": client, **detail})
    if outcome == "failed":
        raise LoginRefused(REFUSED)
    raise LoginLocked(f"登录失败次数过多，请于 {detail['until']} 后再试。", until=detail["until"])


def _verify(hashed: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def session(store: Store, cookie: str | None, now: datetime) -> SessionInfo | None:
    """The live session a cookie names (None: none, revoked, idle too long, past its end, or its person disabled)."""
    if not cookie or len(cookie) > 200:
        return None
    sid = digest(cookie)
    with store.read() as tx:
        found = account_store.session(tx, sid)
        if found is None:
            return None
        s, person, staff = found
    staff = person.admin or staff
    idle = timedelta(minutes=store.settings.session_idle_minutes)
    if s.revoked_at is not None or now >= s.expires_at or now - s.last_seen_at >= idle or not person.active:
        return None
    if now - s.last_seen_at >= TOUCH_EVERY:  # idle time is kept to the minute: no write on every request
        with store.transaction() as tx:
            account_store.touch_session(tx, sid, now)
    return SessionInfo(sid, person, s.csrf, staff)


def csrf_ok(info: SessionInfo, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(info.csrf, token)


def logout(store: Store, info: SessionInfo, now: datetime) -> None:
    with store.transaction() as tx:
        account_store.revoke_session(tx, info.id, now)
        audit_store.append(tx, at=now, actor=info.person.code, kind="logout", data={})


def token_person(store: Store, token: str | None, now: datetime) -> PersonRow | None:
    """The person an API token acts for (None: unknown, revoked, or a disabled person)."""
    if not token or len(token) > 200:
        return None
    with store.read() as tx:
        found = account_store.token(tx, digest(token))
    if found is None:
        return None
    t, person = found
    if t.revoked_at is not None or not person.active:
        return None
    if t.last_used_at is None or now - t.last_used_at >= TOUCH_EVERY:
        with store.transaction() as tx:
            account_store.touch_token(tx, t.id, now)
    return person
