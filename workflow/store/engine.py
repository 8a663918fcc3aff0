"""Database engines and transactions: SQLite (WAL, BEGIN IMMEDIATE) or PostgreSQL, migrated by Alembic."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DataError,
    DBAPIError,
    DisconnectionError,
    OperationalError,
    ProgrammingError,
)

from ..audit_chain import key_id
from ..audit_key import load_key
from ..config import Settings
from ..errors import Conflict, InvalidInput, SchemaOutdated, Unavailable
from .driver import begin_immediate

DEFAULT_URL = "sqlite:///wuzhuan.db"
POOL = 8  # connections kept per process (the workbench runs as many threads; `wuzhuan serve --workers N` keeps N × POOL)
HEAD = "0012"  # the newest migration; a test checks it against Alembic (kept here so no command imports Alembic to start)
MIGRATIONS = Path(__file__).parent.parent / "migrations"


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
                    raise SchemaOutdated(f"there is no database at {parsed.database} yet: create it with `wuzhuan db upgrade` "
                                         "(commands that act create it by themselves)")
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


def _alembic_config(connection):
    from alembic.config import (
        Config,  # Alembic only when migrating: it costs every command ~0.1 s to import
    )

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()


def current_revision(connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision, one process at a time; returns (before, after)."""
    from alembic import command

    with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE holds the write lock for the DDL
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7261626)"))
        before = current_revision(conn)
        command.upgrade(_alembic_config(conn), "head")
        return before, head_revision()


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True).replace("?mode=ro&uri=true", "").replace("file:", "")


def schema_revision(engine: Engine) -> tuple[str | None, bool]:
    """(revision, has tables) read without taking any lock; InvalidInput for a file that is not a database."""
    reader = engine.execution_options(wuzhuan_read=True)
    try:
        with reader.connect() as conn:
            try:
                rev = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
                return rev, True
            except (OperationalError, ProgrammingError):  # no alembic_version table: empty or foreign
                conn.rollback()
            return None, bool(inspect(conn).get_table_names())
    except DatabaseError as e:
        raise InvalidInput(f"cannot open the database {_where(engine)}: {_orig(e)}") from None


def _orig(e: DatabaseError) -> str:
    text_ = str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)
    if "file is not a database" in text_ or "file is encrypted" in text_:
        return "the file is not an SQLite database (is the path right?)"
    return text_


def ensure_schema(engine: Engine, may_migrate: bool = True) -> None:
    """Migrate an empty database (if `may_migrate`); refuse an outdated or foreign one (run `wuzhuan db upgrade`).

    The check reads without a write lock, so that it never waits behind a writer; only an empty
    database is migrated, under the migration's own lock.
    """
    rev, has_tables = schema_revision(engine)
    if rev == HEAD:
        return
    if rev is None and not has_tables:
        if not may_migrate:
            raise SchemaOutdated(f"the database {_where(engine)} is empty: create its tables with `wuzhuan db upgrade` "
                                 "(commands that act do it by themselves)")
        upgrade(engine)
        return
    if rev is None:
        raise SchemaOutdated(f"{_where(engine)} holds tables that are not wuzhuan's; use another database")
    raise SchemaOutdated(f"the database schema is at revision {rev}, this wuzhuan needs {HEAD}: run `wuzhuan db upgrade`")


def translated(e: DBAPIError, where: str) -> Exception | None:
    """The domain error for a database failure a person can act on (None: not one of those, a bug)."""
    text_ = str(e.orig or e).lower()
    first = str(e.orig or e).strip().splitlines()[0] if str(e.orig or e).strip() else type(e).__name__
    if "readonly database" in text_ or "read-only" in text_:
        return Unavailable(f"the database {where} cannot be written (the file or its folder is read-only for this "
                            "user, or it was opened for reading only)")
    if "database or disk is full" in text_ or "no space left" in text_ or "disk i/o error" in text_:
        return Unavailable(f"the database {where} cannot be written: {first} (free some space, then try again)")
    if "database is locked" in text_ or "lock timeout" in text_ or "could not obtain lock" in text_:
        return Conflict(f"the database {where} is busy (another process has held it for 30 seconds): try again")
    if "unable to open database file" in text_ or "file is not a database" in text_:
        return InvalidInput(f"cannot open the database {where}: {first}")
    if isinstance(e, OperationalError) and e.connection_invalidated or "connection" in text_ and "refused" in text_:
        return Unavailable(f"cannot reach the database {where}: {first}")
    if isinstance(e, DataError):
        return InvalidInput(f"a value cannot be stored in the database: {first}")
    return None


class Tx:
    """One transaction on one connection. Every statement runs through here or through a Prepared
    statement given this Tx; there is no ORM session, so nothing is ever pending unseen.
    `key` is the audit key that signs the events it appends (None: unsigned). `pending` holds what a store module
    gathers during the work and writes in one go at its end (see `before_commit`)."""

    __slots__ = ("conn", "key", "pending", "_hooks")

    def __init__(self, conn, key: bytes | None = None) -> None:
        self.conn = conn
        self.key = key
        self.pending: dict = {}
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
        self._key_checked = self.audit_key is None
        self.engine = make_engine(self.url, readonly=readonly)
        if migrate:
            ensure_schema(self.engine, may_migrate=not readonly)
        self.read_engine = self.engine.execution_options(wuzhuan_read=True)
        if self.dialect == "postgresql":  # BEGIN READ ONLY (psycopg says it in the BEGIN: no extra round trip)
            self.read_engine = self.read_engine.execution_options(postgresql_readonly=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The database URL without its password."""
        return _where(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One transaction: commit on success, roll back on any exception (database trouble a person can act on
        comes out as a domain error)."""
        try:
            with self.engine.begin() as conn:
                if not self._key_checked:
                    self._bind_key(conn)
                tx = Tx(conn, self.audit_key)
                yield tx
                tx.finish()
        except DBAPIError as e:
            raise (translated(e, self.display_url) or e) from None

    def _bind_key(self, conn) -> None:
        """A trail is signed by one key: record its fingerprint on first use, refuse any other key after."""
        kid = key_id(self.audit_key)
        known = conn.exec_driver_sql("SELECT value FROM meta WHERE key = 'audit_key_id'").scalar()
        if known is None:
            conn.execute(text("INSERT INTO meta (key, value) VALUES ('audit_key_id', :v)"), {"v": kid})
        elif known != kid:
            raise InvalidInput(f"the audit trail of {self.display_url} is signed with the key whose fingerprint is {known}; "
                               f"the key configured now is {kid}: configure the key this database was started with")
        self._key_checked = True

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction. On PostgreSQL it ends by COMMIT (of nothing), not ROLLBACK: psycopg forgets
        every statement it prepared on the connection at a rollback, so reads ended that way were parsed and
        planned again each time (the inbox's statement: 5.4 ms a run instead of 1.7). A read that fails rolls back."""
        try:
            with self.read_engine.connect() as conn:
                yield Tx(conn)
                if self.dialect == "postgresql":
                    if conn.in_transaction():
                        conn.commit()
                    else:  # only statements run on the driver itself (store.driver): SQLAlchemy began nothing
                        conn.connection.dbapi_connection.commit()
        except DBAPIError as e:
            raise (translated(e, self.display_url) or e) from None

    def dispose(self) -> None:
        self.engine.dispose()
