"""Database engines and transactions: SQLite (WAL, BEGIN IMMEDIATE) or PostgreSQL, migrated by Alembic."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
)

from ..audit_chain import key_id
from ..audit_key import load_key
from ..config import Settings
from ..errors import InvalidInput, SchemaOutdated, Unavailable
from .driver import begin_immediate, read_scalar
from .schema import ensure_schema, key_required, translated, where_of

DEFAULT_URL = "sqlite:///wuzhuan.db"
POOL = 8  # connections kept per process (the workbench runs as many threads; `wuzhuan serve --workers N` keeps N × POOL)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("WUZHUAN_DATABASE_URL") or DEFAULT_URL


def _json(value) -> str:
    """JSON columns keep Chinese as UTF-8 text: half the bytes of backslash-u escapes, and readable in the database."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _sqlite_setup(engine: Engine, readonly: bool) -> None:
    # pysqlite's own transaction handling would BEGIN DEFERRED; take the write lock at BEGIN
    # instead so that read-then-write transactions never fail with SQLITE_BUSY_SNAPSHOT.
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not readonly:  # a read-only connection can neither set nor need these
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        # Read the file through a memory map (up to 1 GiB) instead of a read() call per page: a server's
        # pages of a large database cost no system call once the OS has them cached.
        cur.execute("PRAGMA mmap_size=1073741824")
        cur.close()

    # Reads (Store.read, and every transaction of a read-only store) begin a plain deferred
    # transaction: WAL gives them a consistent snapshot and they never wait for a writer.
    # Row locks: statements that lock say `.with_for_update()` on both databases. SQLAlchemy renders
    # it on PostgreSQL and leaves it out on SQLite, where BEGIN IMMEDIATE already holds the write lock.
    event.listen(engine, "begin", begin_immediate)


def make_engine(url: str | None = None, readonly: bool = False) -> Engine:
    """An Engine for the URL (default ./wuzhuan.db); raises InvalidInput for a bad URL.

    `readonly`: SQLite opens the file read-only (it must exist) and never takes the write lock;
    PostgreSQL sessions default to read-only transactions.
    """
    url = database_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(f"'{url}' is not a database URL (e.g. sqlite:///wuzhuan.db or postgresql+psycopg://user@host/db)") from None
    except (ValueError, TypeError) as e:
        raise InvalidInput(f"'{url}' is not a database URL ({e})") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        args: dict = {"timeout": 30}
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database).expanduser()
            parent = path.resolve().parent
            if not parent.is_dir():
                raise InvalidInput(f"cannot create the database {parsed.database}: folder {parent} does not exist")
            if path.exists() and not path.is_file():
                raise InvalidInput(f"{parsed.database} is not a file, so it cannot be a database")
            if readonly:
                if not path.is_file():
                    raise SchemaOutdated(f"{parsed.database} 处还没有数据库", next="upgrade_schema")
                parsed = parsed.set(database=f"file:{path.resolve()}?mode=ro", query={"uri": "true"})
        engine = create_engine(parsed, connect_args=args, json_serializer=_json, pool_size=POOL, max_overflow=POOL, pool_use_lifo=True)
        if readonly:
            engine = engine.execution_options(wuzhuan_read=True)
        _sqlite_setup(engine, readonly)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInput(f"unsupported database '{parsed.get_backend_name()}': use SQLite or PostgreSQL")
    args = {"options": "-c default_transaction_read_only=on"} if readonly else {}
    engine = create_engine(parsed, json_serializer=_json, connect_args=args, pool_size=POOL, max_overflow=POOL, pool_use_lifo=True)
    _ping_when_idle(engine)
    return engine


PING_IDLE_SECONDS = 1.0  # a pooled PostgreSQL connection unused this long is checked before it is handed out


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it has lain idle (the server may have restarted, or a firewall
    dropped it, meanwhile): a dead one is replaced, and the caller never sees it. SQLAlchemy's pool_pre_ping checks
    at every checkout, one round trip more for every transaction — two for each page of the workbench, whose
    connections are never idle for long (a busy worker takes the same few back within milliseconds). A connection
    dropped within a second of its last use, or while in use, is reported once (Unavailable: the page says the
    database cannot be reached) and SQLAlchemy then replaces every connection the pool held before it."""

    @event.listens_for(engine, "checkin")
    def _idle_from(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection, record, proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error:
            alive = False
        if not alive:
            raise DisconnectionError("the pooled connection was dropped while idle")  # the pool connects anew


class Tx:
    """One transaction on one connection. Every statement runs through here or through a Prepared
    statement given this Tx; there is no ORM session, so nothing is ever pending unseen.
    `key` is the audit key that signs the events it appends (None: unsigned). `pending` holds what a store module
    gathers during the work and writes in one go at its end (see `before_commit`); `memo`, what a use case reads
    once per transaction and asks again (the acting person)."""

    __slots__ = ("conn", "key", "pending", "memo", "_hooks")

    def __init__(self, conn, key: bytes | None = None) -> None:
        self.conn = conn
        self.key = key
        self.pending: dict = {}
        self.memo: dict = {}
        self._hooks: list = []

    def before_commit(self, hook) -> None:
        """Run `hook(tx)` once after the transaction's work, before it commits: the writes that every move shares
        (the board's counts) come last, after every row lock the work takes, so they cannot deadlock with them."""
        if hook not in self._hooks:
            self._hooks.append(hook)

    def finish(self) -> None:
        while self._hooks:
            self._hooks.pop(0)(self)

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name

    def execute(self, stmt, params=None):
        return self.conn.execute(stmt, params) if params is not None else self.conn.execute(stmt)


class Store:
    """An engine for one database, opening transactions; the one handle the service layer takes.

    `settings` (workflow.config.Settings) travel with the store: the use cases read what they
    need of them (organisation name, mail domain, links, the clock policy).
    """

    def __init__(self, url: str | None = None, migrate: bool = True, settings=None, readonly: bool = False):
        self.url = database_url(url)
        self.settings = settings or Settings()
        self.readonly = readonly
        self.audit_key = load_key(self.settings.audit_key_file, self.settings.audit_key)
        self.wall_clock = _wall_clock  # a test may replace it; only the clock policy reads it
        self._key_checked = False  # checked by the first transaction (see _check_key)
        self.engine = make_engine(self.url, readonly=readonly)
        if migrate:
            ensure_schema(self.engine, may_migrate=not readonly)
        self._driver_error = self.engine.dialect.loaded_dbapi.Error
        self.read_engine = self.engine.execution_options(wuzhuan_read=True)
        if self.dialect == "postgresql":  # BEGIN READ ONLY (psycopg says it in the BEGIN: no extra round trip)
            self.read_engine = self.read_engine.execution_options(postgresql_readonly=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The database URL without its password."""
        return where_of(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One transaction: commit on success, roll back on any exception (database trouble a person can act on
        comes out as a domain error). A database whose audit trail is signed is never written without its key."""
        try:
            with self.engine.begin() as conn:
                if not self._key_checked:
                    self._check_key(conn)
                tx = Tx(conn, self.audit_key)
                yield tx
                tx.finish()
        except (DBAPIError, self._driver_error) as e:
            raise self._failed(e) from None
        self._key_checked = True

    def _failed(self, e: Exception) -> Exception:
        """The domain error for a database failure; after trouble with the database itself the pooled connections
        are let go, so that the next request opens fresh ones (a SQLite file opened while it was read-only stays
        read-only on that connection; a PostgreSQL server that restarted has closed them all)."""
        err = translated(e, self.display_url, self.dialect) or e
        if isinstance(err, Unavailable):
            self.engine.dispose()
        return err

    def _check_key(self, conn) -> None:
        """A trail is signed by one key: record its fingerprint on first use, refuse any other key after, and refuse
        to write at all without the key once the trail has one (a forgotten setting must not break the trail)."""
        known = conn.exec_driver_sql("SELECT value FROM meta WHERE key = 'audit_key_id'").scalar()
        if self.audit_key is None:
            if known is not None:
                raise key_required(self.display_url, known)
            return
        kid = key_id(self.audit_key)
        if known is None:
            conn.execute(text("INSERT INTO meta (key, value) VALUES ('audit_key_id', :v)"), {"v": kid})
        elif known != kid:
            raise InvalidInput(f"数据库 {self.display_url} 的审计记录由指纹为 {known} 的密钥签名，"
                               f"而现在配置的密钥指纹是 {kid}：请配置该数据库启用时使用的密钥",
                               expected=known, configured=kid)

    @contextmanager
    def read(self, snapshot: bool = False) -> Iterator[Tx]:
        """A read-only transaction. On PostgreSQL it ends by COMMIT (of nothing), not ROLLBACK: psycopg forgets
        every statement it prepared on the connection at a rollback, so reads ended that way were parsed and
        planned again each time (the inbox's statement: 5.4 ms a run instead of 1.7). A read that fails rolls back.

        `snapshot`: every statement sees the same moment (REPEATABLE READ on PostgreSQL; a SQLite read
        transaction always does), for a check that reads a table more than once."""
        engine = self.read_engine.execution_options(isolation_level="REPEATABLE READ") if (
            snapshot and self.dialect == "postgresql") else self.read_engine
        try:
            with engine.connect() as conn:
                if snapshot and self.dialect == "sqlite":
                    conn.exec_driver_sql("SELECT 1 FROM sqlite_master LIMIT 1")  # the snapshot starts here
                yield Tx(conn)
                if self.dialect == "postgresql":
                    if conn.in_transaction():
                        conn.commit()
                    else:  # only statements run on the driver itself (store.driver): SQLAlchemy began nothing
                        conn.connection.dbapi_connection.commit()
        except (DBAPIError, self._driver_error) as e:
            raise self._failed(e) from None

    def read_one(self, prepared, params: dict) -> object:
        """One value read outside any transaction (driver.read_scalar), its failures translated as every read's."""
        try:
            return read_scalar(self.engine, prepared, params)
        except (DBAPIError, self._driver_error) as e:
            raise self._failed(e) from None

    def check_writable(self) -> None:
        """Raise now what the first write would (KeyRequired, Unavailable): a long-running process says it at start."""
        with self.transaction():  # an empty write transaction: BEGIN IMMEDIATE and the key check are the test
            pass

    def dispose(self) -> None:
        self.engine.dispose()
