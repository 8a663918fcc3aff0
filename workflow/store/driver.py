"""The hot path on the database driver itself: Core statements compiled once per dialect, and COPY.

SQLAlchemy spends about 25 µs of Python on each statement it runs (building the execution
context, result metadata, events); the engine's advance runs a dozen small statements, so that
overhead was most of a move's time. A `Prepared` statement is an ordinary Core statement,
compiled by SQLAlchemy for the connection's dialect the first time it runs there, with its
columns' own type conversions (aware datetimes to UTC, JSON) looked up once; each run then costs
one call to the driver. It runs in the caller's SQLAlchemy transaction, on the same connection,
and driver errors come back as SQLAlchemy's, like those of any other statement.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

_MISSING = object()


def _numbered(dialect):
    """psycopg's dialect compiling parameters as $1, $2, … (each name once), which psycopg's RawCursor sends as they
    are: its own %(name)s style is parsed again at every run of a statement longer than 4 KB or with more than 50
    parameters (the inbox's: 0.2 ms a run). Other dialects as they are."""
    if dialect.driver != "psycopg":
        return dialect
    numbered = _NUMBERED.get(dialect)
    if numbered is None:
        numbered = _NUMBERED[dialect] = copy.copy(dialect)
        numbered.paramstyle, numbered.positional = "numeric_dollar", True
    return numbered


_NUMBERED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # an engine's dialect → its numbered copy


class _Compiled:
    __slots__ = ("sql", "named", "names", "plan", "keys", "convert", "plain", "error", "raw")

    def __init__(self, stmt, dialect) -> None:
        self.raw = dialect.driver == "psycopg"
        dialect = _numbered(dialect)
        c = stmt.compile(dialect=dialect)
        self.sql = c.string
        self.named = not dialect.positional
        binds = c.binds
        order = list(binds) if self.named else list(c.positiontup)
        self.names = order
        # (name, default, converter) for each parameter, in the order the driver takes them
        self.plan = [(n, _MISSING if binds[n].required else binds[n].value,
                      binds[n].type.dialect_impl(dialect).bind_processor(dialect)) for n in order]
        cols = stmt.exported_columns  # a SELECT's columns, or an INSERT's RETURNING (empty without)
        self.keys = tuple(cols.keys())
        results = [col.type.dialect_impl(dialect).result_processor(dialect, None) for col in cols]
        self.convert = [(i, p) for i, p in enumerate(results) if p is not None]  # only the columns that need it
        self.plain = not self.convert
        self.error = dialect.loaded_dbapi.Error

    def args(self, params: dict[str, Any]) -> Any:
        values = []
        for name, default, convert in self.plan:
            v = params.get(name, default)
            if v is _MISSING:
                raise KeyError(f"statement needs a value for '{name}': {self.sql}")
            values.append(v if convert is None or v is None else convert(v))
        return dict(zip(self.names, values, strict=True)) if self.named else values

    def execute(self, driver_connection, params: dict[str, Any]):
        """Run on the driver's connection; → its cursor."""
        args = self.args(params)
        if self.raw:
            from psycopg import RawCursor

            return RawCursor(driver_connection).execute(self.sql, args)
        return driver_connection.execute(self.sql, args)

    def row(self, raw: tuple) -> tuple | list:
        if self.plain:
            return raw
        out = list(raw)
        for i, p in self.convert:
            v = out[i]
            if v is not None:
                out[i] = p(v)
        return out


def _wrapped(dialect, conn, e: Exception, sql: str) -> DBAPIError:
    """The driver's error as SQLAlchemy raises it; a lost connection is invalidated, as SQLAlchemy would.

    `conn` is a SQLAlchemy Connection or a pooled driver connection: both can be invalidated.
    """
    lost = dialect.is_disconnect(e, None, None)
    if lost:
        conn.invalidate(e)
    return DBAPIError.instance(sql, None, e, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect)


class Prepared:
    """A Core statement run on the driver's cursor of a transaction's connection (see the module docstring).

    `build` makes the statement; it is called when the statement is first compiled, so a module
    full of them costs nothing at import (every command imports the store). A statement this path
    cannot run is refused when it is compiled, before anything runs: an expanding IN (its SQL
    depends on the length of the list) needs SQLAlchemy's own execution.
    """

    __slots__ = ("_build", "_stmt", "_compiled")

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._stmt = None
        self._compiled: dict[str, _Compiled] = {}

    @property
    def stmt(self):
        if self._stmt is None:
            stmt = self._build()
            expanding = [b.key for b in visitors.iterate(stmt) if isinstance(b, BindParameter) and b.expanding]
            if expanding:
                raise ValueError(f"a prepared statement cannot take a list parameter (expanding IN: {', '.join(expanding)}); "
                                 "run it through Tx.execute instead")
            self._stmt = stmt
        return self._stmt

    def _for(self, dialect) -> _Compiled:
        key = dialect.dialect_description  # e.g. "sqlite+pysqlite", "postgresql+psycopg"
        cp = self._compiled.get(key)
        if cp is None:
            cp = self._compiled[key] = _Compiled(self.stmt, dialect)
        return cp

    def run(self, tx, params: dict[str, Any] | None = None) -> tuple[_Compiled, Any]:
        """Execute in the transaction `tx` (a store Tx); returns (compiled form, driver cursor)."""
        conn = tx.conn
        cp = self._for(conn.dialect)
        try:
            return cp, cp.execute(conn.connection.driver_connection, params or {})
        except cp.error as e:
            raise _wrapped(conn.dialect, conn, e, cp.sql) from e

    def rowcount(self, tx, params: dict[str, Any] | None = None) -> int:
        return self.run(tx, params)[1].rowcount

    def first(self, tx, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The first row as {column: value}, or None."""
        cp, cur = self.run(tx, params)
        raw = cur.fetchone()
        return None if raw is None else dict(zip(cp.keys, cp.row(raw), strict=True))

    def scalar(self, tx, params: dict[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        cp, cur = self.run(tx, params)
        raw = cur.fetchone()
        return None if raw is None else cp.row(raw)[0]

    def dicts(self, tx, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every row as {column: value}."""
        cp, cur = self.run(tx, params)
        return [dict(zip(cp.keys, cp.row(r), strict=True)) for r in cur.fetchall()]

    def all(self, tx, params: dict[str, Any] | None = None) -> list[tuple]:
        cp, cur = self.run(tx, params)
        rows = cur.fetchall()
        return rows if cp.plain else [cp.row(r) for r in rows]


def read_scalar(engine, prepared: Prepared, params: dict[str, Any]) -> Any:
    """One read outside any transaction, on a pooled driver connection with no SQLAlchemy Connection around it.

    A single SELECT needs no explicit transaction; what the driver opened (PostgreSQL) is committed, as
    Store.read does, so that the driver keeps the statements it prepared on the connection.
    """
    cp = prepared._for(engine.dialect)
    pooled = engine.raw_connection()
    try:
        raw = cp.execute(pooled.driver_connection, params).fetchone()
        pooled.driver_connection.commit()
    except cp.error as e:
        raise _wrapped(engine.dialect, pooled, e, cp.sql) from e
    finally:
        pooled.close()
    return None if raw is None else cp.row(raw)[0]


def begin_immediate(conn) -> None:
    """SQLite's BEGIN IMMEDIATE (or BEGIN for reads) sent straight to the driver, from the engine's begin event."""
    sql = "BEGIN" if conn.get_execution_options().get("wuzhuan_read") else "BEGIN IMMEDIATE"
    try:
        conn.connection.driver_connection.execute(sql)
    except conn.dialect.loaded_dbapi.Error as e:
        raise _wrapped(conn.dialect, conn, e, sql) from e


def insert_rows(tx, table, rows: list[dict]) -> None:
    """Insert many rows that need nothing back: COPY on PostgreSQL, executemany on SQLite.

    Every row must carry the same keys. Values go through the columns' own types (aware
    datetimes to UTC, JSON) exactly as an INSERT would. On PostgreSQL, COPY costs about half
    of psycopg's pipelined executemany per row (the sweep's notices and audit events).
    """
    if not rows:
        return
    conn = tx.conn
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), rows)
        return
    cols = list(rows[0])
    procs = [table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in cols]
    statement = f"COPY {table.name} ({', '.join(cols)}) FROM STDIN"
    try:
        with conn.connection.driver_connection.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row([v if p is None or v is None else p(v) for p, v in zip(procs, (row[c] for c in cols), strict=True)])
    except conn.dialect.loaded_dbapi.Error as e:
        raise _wrapped(conn.dialect, conn, e, statement) from e


def stream(tx, stmt):
    """The rows of a one-off Core statement read on the transaction's driver cursor, as the driver's tuples (with
    the columns' own conversions where a column has one): no SQLAlchemy Row per row, which matters for a report
    that reads a million rows. Compiled on every call, so not for statements run in a loop."""
    conn = tx.conn
    cp = _Compiled(stmt, conn.dialect)
    try:
        cur = cp.execute(conn.connection.driver_connection, {})
    except cp.error as e:
        raise _wrapped(conn.dialect, conn, e, cp.sql) from e
    return cur if cp.plain else map(cp.row, cur)
