"""The schema: its revision, the migrations run atomically, and database errors told as domain errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import (
    DatabaseError,
    DataError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)

from ..errors import Conflict, InvalidInput, KeyRequired, SchemaOutdated, Unavailable

HEAD = "0023"  # the newest migration; a test checks it against Alembic (kept here so no command imports Alembic to start)
MIGRATIONS = Path(__file__).parent.parent / "migrations"


def alembic_config(connection):
    from alembic.config import (
        Config,  # Alembic only when migrating: it costs every command ~0.1 s to import
    )

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()


def current_revision(connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def migrating(engine: Engine) -> Iterator:
    """A connection in one transaction, fit for migrations (up or down): on PostgreSQL under the migrations' lock;
    on SQLite with foreign keys checked once at the end (a table rebuilt by a migration drops and recreates rows
    others refer to), so that a failure anywhere leaves the file as it was."""
    sqlite = engine.dialect.name == "sqlite"
    try:
        connection = engine.connect()
    except Exception as e:  # a server that cannot be reached is Unavailable (exit 2, HTTP 503), not a bug
        raise (translated(e, where_of(engine), engine.dialect.name) or e) from e
    with connection as conn:
        if sqlite:  # PRAGMA foreign_keys is ignored inside a transaction: it is set on the bare connection
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():  # SQLite: BEGIN IMMEDIATE holds the write lock for the DDL
                if not sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(7261626)"))
                yield conn
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise InvalidInput(f"升级后数据库 {where_of(engine)} 有 {len(broken)} 行引用了不存在的记录"
                                           f"（首个：表 {broken[0][0]} 第 {broken[0][1]} 行）：升级已撤销，数据库保持原样")
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def migrate(conn, revision: str = "head") -> dict:
    """Run the migrations on a connection of `migrating`; → what they reported (Alembic's config attributes)."""
    from alembic import command

    cfg = alembic_config(conn)
    command.upgrade(cfg, revision)
    return dict(cfg.attributes)


KEY_SETTING = "audit_key_file in wuzhuan.toml, or WUZHUAN_AUDIT_KEY_FILE"


def key_required(where: str, fingerprint: str | None = None) -> KeyRequired:
    return KeyRequired(f"{f'数据库 {where} ' if where else '本数据库'}的审计记录已用审计密钥签名"
                       f"{f'（密钥指纹 {fingerprint}）' if fingerprint else ''}，"
                       f"本进程未配置该密钥，不能写入：请设置 {KEY_SETTING}（指向签名该记录的密钥文件）",
                       setting="audit_key_file", fingerprint=fingerprint)


def where_of(engine: Engine) -> str:
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
        err = translated(e, where_of(engine), engine.dialect.name)
        if isinstance(err, Unavailable):
            raise err from None
        raise InvalidInput(f"无法打开数据库 {where_of(engine)}：{_orig(e)}") from None


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
            raise SchemaOutdated(f"数据库 {where_of(engine)} 是空的，尚未建表", next="upgrade_schema")
        with migrating(engine) as conn:
            migrate(conn)
        return
    if rev is None:
        raise SchemaOutdated(f"数据库 {where_of(engine)} 里已有不属于 wuzhuan 的表：请换一个数据库")
    raise SchemaOutdated(f"数据库结构为第 {rev} 版，本程序需要第 {HEAD} 版：请先升级数据库", revision=rev, needs=HEAD,
                         next="upgrade_schema")


def translated(e: Exception, where: str, dialect: str = "") -> Exception | None:
    """The domain error for a database failure a person can act on (None: not one of those, a bug).

    `e` is SQLAlchemy's error or the driver's own (statements run on the driver raise its errors). Trouble with
    the database itself — a lost or refused connection, a full disk, a read-only file, a lock held too long — is
    Unavailable (503, exit 2): the request was fine and may be sent again later."""
    orig = getattr(e, "orig", None) or e
    text_ = str(orig).lower()
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate in ("40P01", "40001"):  # PostgreSQL: deadlock, serialization failure: a race with another writer
        return Conflict(f"数据库 {where} 上的这项操作与他人的同时操作冲突，未生效：请重新查看后再试", reason=first)
    if "readonly database" in text_ or "read-only" in text_ or sqlstate == "25006":
        return Unavailable(f"数据库 {where} 当前无法写入（文件或其所在文件夹对本用户只读，或以只读方式打开）："
                           "恢复写权限后重试", reason=first)
    if "database or disk is full" in text_ or "no space left" in text_ or "disk i/o error" in text_ or sqlstate == "53100":
        return Unavailable(f"数据库 {where} 当前无法写入：{first}（请释放磁盘空间后重试）", reason=first)
    if "database is locked" in text_ or sqlstate == "55P03" or "lock timeout" in text_ or "could not obtain lock" in text_:
        return Unavailable(f"数据库 {where} 繁忙：另一进程占用已超过 30 秒，请稍后重试", reason=first)
    if "file is not a database" in text_ or "file is encrypted" in text_:
        return InvalidInput(f"无法打开数据库 {where}：该文件不是 SQLite 数据库（路径是否正确？）", reason=first)
    if "unable to open database file" in text_:
        return Unavailable(f"无法打开数据库 {where}：{first}（文件或文件夹是否存在、是否可读写？）", reason=first)
    if isinstance(e, DataError) or type(orig).__name__ == "DataError":
        return InvalidInput(f"有一个值无法存入数据库：{first}", reason=first)
    # PostgreSQL's operational errors are the server's or the network's (SQLite's left are bugs: no such table …)
    lost = getattr(e, "connection_invalidated", False) or isinstance(e, DisconnectionError)
    if lost or dialect == "postgresql" and (isinstance(e, OperationalError | InterfaceError)
                                             or _is_driver_error(orig, ("OperationalError", "InterfaceError"))):
        return Unavailable(f"无法连接数据库 {where}：{first}（数据库恢复后重试）", reason=first)
    return None


def _is_driver_error(orig: BaseException, names: tuple[str, ...]) -> bool:
    """Whether a driver's exception is (a subclass of) one of the DB-API classes `names`."""
    return any(c.__name__ in names for c in type(orig).__mro__ if c.__module__.split(".")[0] in ("psycopg", "sqlite3"))
