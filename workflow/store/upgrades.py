"""Upgrading a database: the migrations in one transaction, with its audit key, and the upgrade in its trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, inspect, text

from ..audit_chain import key_id
from ..errors import InvalidInput
from . import audit as audit_store
from . import directory
from .engine import Tx
from .schema import current_revision, head_revision, key_required, migrate, migrating, where_of


@dataclass
class Upgraded:
    before: str | None
    after: str
    made_admins: list[tuple[str, str]] = field(default_factory=list)  # (code, name): made administrators by 0003
    admins: list[tuple[str, str]] = field(default_factory=list)  # (code, name): every active administrator after
    trail_broken: bool = False  # the upgrade could not be recorded: the trail's head does not match its events


def upgrade(engine: Engine, key: bytes | None = None, at: datetime | None = None) -> Upgraded:
    """Bring the schema to the newest revision, one process at a time, atomically (see schema.migrating): a failure
    leaves the database as it was.

    An existing database that changed revision records the upgrade in its audit trail, signed with `key`: a
    database whose trail is signed is upgraded only with its key (KeyRequired, before anything changes)."""
    with migrating(engine) as conn:
        before = current_revision(conn)
        if before is not None:
            _key_check(conn, key, where_of(engine))
        reported = migrate(conn)
        out = Upgraded(before, head_revision(), list(reported.get("made_admins", [])))
        out.admins = [(c, n) for c, n in conn.exec_driver_sql(
            "SELECT code, name FROM people WHERE admin AND active ORDER BY code").all()]
        if before is not None and before != out.after:
            _record(conn, key, out, at or datetime.now(UTC))
    return out


def _key_check(conn, key: bytes | None, where: str) -> None:
    """A database whose trail was signed (its key's fingerprint is recorded) is upgraded with that key only."""
    if "meta" not in inspect(conn).get_table_names():
        return  # before audit keys existed (0004): nothing is signed
    known = conn.exec_driver_sql("SELECT value FROM meta WHERE key = 'audit_key_id'").scalar()
    if known is not None and key is None:
        raise key_required(where, known)
    if known is not None and known != key_id(key):
        raise InvalidInput(f"数据库 {where} 的审计记录由指纹为 {known} 的密钥签名，而现在配置的密钥指纹是 "
                           f"{key_id(key)}：请用该数据库启用时使用的密钥升级")
    if known is None and key is not None:
        conn.execute(text("INSERT INTO meta (key, value) VALUES ('audit_key_id', :v)"), {"v": key_id(key)})


def _record(conn, key: bytes | None, out: Upgraded, at: datetime) -> None:
    """The upgrade as an audit event: the revisions, who was made an administrator, and the directory's
    administrators and disabled people as they stand (what the trail's replay checks those flags against)."""
    last = conn.exec_driver_sql("SELECT coalesce(max(seq), 0) FROM audit_events").scalar()
    if conn.exec_driver_sql("SELECT last_seq FROM audit_head WHERE id = 1").scalar() != last:
        out.trail_broken = True  # a trail whose head does not end it cannot take an event: `audit verify` says why
        return
    tx = Tx(conn, key)
    audit_store.append(tx, at=at, actor=None, kind="schema_upgraded",
                       data={"from": out.before, "to": out.after, "made_admins": [c for c, _n in out.made_admins],
                             **directory.flags(tx)})
