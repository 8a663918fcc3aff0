"""The driver paths (prepared statements, bulk insert by COPY): the same rows, values and errors as SQLAlchemy's own."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, func, literal, select, text
from sqlalchemy.exc import IntegrityError

from conftest import at
from workflow.errors import Unavailable
from workflow.store import Store
from workflow.store import engine as engine_module
from workflow.store.driver import Prepared, insert_rows, read_scalar
from workflow.store.models import Outbox, Person
from workflow.store.outbox import _INSERT as _INSERT_OUTBOX


def _row(mid: str, **kw):
    return {"message_id": mid, "escalation_id": None, "item_id": 7, "notice": "reminder", "person_id": 3,
            "to_addr": "a@example.org", "to_name": "王芳", "context": {"step_id": 1, "rung": {"label": "蓝色督办"}},
            "status": "pending", "attempts": 0, "next_attempt_at": at("2026-03-02 09:00"), "created_at": at("2026-03-02 09:00"),
            "recipients": None, "channel": "email"} | kw


def test_insert_rows_writes_what_an_insert_would(store):
    with store.transaction() as s:
        insert_rows(s, Outbox.__table__, [_row("<a@x>"), _row("<b@x>", context={"comment": "请于'周五'前\n反馈"})])
        insert_rows(s, Outbox.__table__, [])
    with store.read() as s:
        got = s.execute(select(Outbox.message_id, Outbox.to_name, Outbox.context, Outbox.created_at).order_by(Outbox.id)).all()
    assert [(o.message_id, o.to_name, o.context) for o in got] == [
        ("<a@x>", "王芳", {"step_id": 1, "rung": {"label": "蓝色督办"}}), ("<b@x>", "王芳", {"comment": "请于'周五'前\n反馈"})]
    assert got[0].created_at == at("2026-03-02 09:00")  # stored as UTC, handed back aware


def test_insert_rows_raises_sqlalchemy_errors_and_keeps_nothing(store):
    with store.transaction() as s:
        insert_rows(s, Outbox.__table__, [_row("<a@x>")])
    with pytest.raises(IntegrityError), store.transaction() as s:
        insert_rows(s, Outbox.__table__, [_row("<c@x>"), _row("<a@x>")])
    with store.read() as s:
        assert s.execute(select(Outbox.message_id)).scalars().all() == ["<a@x>"]


_OUTBOX_BY_ID = Prepared(lambda: select(Outbox.message_id, Outbox.context, Outbox.created_at).where(Outbox.message_id == bindparam("m")))


def test_prepared_statements_convert_like_sqlalchemy(store):
    with store.transaction() as s:
        conn = s
        _INSERT_OUTBOX.run(conn, _row("<p@x>"))
        assert _OUTBOX_BY_ID.first(conn, {"m": "<p@x>"}) == {
            "message_id": "<p@x>", "context": {"step_id": 1, "rung": {"label": "蓝色督办"}}, "created_at": at("2026-03-02 09:00")}
        assert _OUTBOX_BY_ID.first(conn, {"m": "<none@x>"}) is None
    assert read_scalar(store.engine, _OUTBOX_BY_ID, {"m": "<p@x>"}) == "<p@x>"
    assert read_scalar(store.engine, _OUTBOX_BY_ID, {"m": "<none@x>"}) is None


_MANY_VALUES = Prepared(lambda: select(func.count()).select_from(Outbox).where(
    Outbox.message_id.in_([literal(f"<{k}@x>") for k in range(80)]),  # 80 constant parameters, a long statement
    Outbox.attempts >= bindparam("least"), Outbox.attempts <= bindparam("least") + 1,  # one parameter used twice
    Outbox.to_name == literal("100%")))  # a percent sign: nothing to escape in PostgreSQL's numbered style


def test_prepared_statements_with_many_constants_a_repeated_parameter_and_a_percent_sign(store):
    """What the inbox's statement is made of (PostgreSQL runs it numbered, $1 … $n, on psycopg's raw cursor)."""
    with store.transaction() as s:
        insert_rows(s, Outbox.__table__, [_row("<3@x>", to_name="100%", attempts=2), _row("<5@x>", to_name="100%", attempts=4),
                                          _row("<500@x>", to_name="100%", attempts=2), _row("<7@x>", attempts=2)])
    with store.read() as s:
        assert [_MANY_VALUES.scalar(s, {"least": n}) for n in (1, 2, 3, 4, 5)] == [1, 1, 1, 1, 0]


def test_prepared_statements_raise_sqlalchemy_errors(store):
    with store.transaction() as s:
        _INSERT_OUTBOX.run(s, _row("<p@x>"))
    with pytest.raises(IntegrityError), store.transaction() as s:
        _INSERT_OUTBOX.run(s, _row("<p@x>"))
    with pytest.raises(KeyError, match="needs a value for 'message_id'"), store.transaction() as s:
        _INSERT_OUTBOX.run(s, {})


def test_a_lost_postgresql_connection_is_reported_and_replaced(pg_url):
    store = Store(pg_url)
    with pytest.raises(Unavailable, match="无法连接数据库"), store.transaction() as s:
        _INSERT_OUTBOX.run(s, _row("<q@x>"))
        with store.engine.connect() as other:  # the server drops our connection mid-transaction
            other.exec_driver_sql(f"SELECT pg_terminate_backend({s.conn.connection.driver_connection.info.backend_pid})")
        _INSERT_OUTBOX.run(s, _row("<r@x>"))
    # the pool hands out live connections again; nothing of the broken transaction was kept
    with store.transaction() as s:
        _INSERT_OUTBOX.run(s, _row("<s@x>"))
    assert read_scalar(store.engine, _OUTBOX_BY_ID, {"m": "<q@x>"}) is None
    assert read_scalar(store.engine, _OUTBOX_BY_ID, {"m": "<s@x>"}) == "<s@x>"
    store.dispose()


def test_a_postgresql_connection_dropped_while_idle_in_the_pool_is_replaced_unseen(pg_url, monkeypatch):
    """A pooled connection unused for PING_IDLE_SECONDS is checked before it is handed out; a dead one is replaced
    and the caller never sees it. A connection in steady use is not checked (no extra round trip)."""
    store = Store(pg_url)
    try:
        with store.read() as s:
            pid = s.conn.connection.driver_connection.info.backend_pid
        pings = []
        real = store.engine.dialect.do_ping
        monkeypatch.setattr(store.engine.dialect, "do_ping", lambda c: pings.append(1) or real(c))
        monkeypatch.setattr(engine_module, "PING_IDLE_SECONDS", 3600.0)  # however slow the machine, never idle this long
        for _ in range(3):  # busy: the same connection comes back at once
            with store.read() as s:
                assert s.execute(text("SELECT 1")).scalar() == 1
        assert pings == []
        killer = Store(pg_url)  # the server drops the idle pooled connection
        with killer.engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        killer.dispose()
        monkeypatch.setattr(engine_module, "PING_IDLE_SECONDS", 0.0)  # as if it had lain idle long enough
        with store.read() as s:
            assert s.execute(text("SELECT count(*) FROM people")).scalar() >= 0
            assert s.conn.connection.driver_connection.info.backend_pid != pid
        assert pings
    finally:
        store.dispose()


def test_a_statement_the_driver_path_cannot_run_is_refused_when_it_is_compiled(store):
    bad = Prepared(lambda: select(Outbox.id).where(Outbox.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="expanding IN: ids"), store.read() as tx:
        bad.all(tx, {"ids": [1, 2]})  # refused before anything reaches the driver


def test_day_numbers_and_times_formatted_by_the_database_agree_with_python(store):
    """The reports let the database compute a timestamp's Shanghai day number (and the day a due time closes: 24:00
    belongs to the day before) and format it for the 台账; both agree with workflow.calendar and workflow.present at
    the edges: midnight, either side of it, the last instant of a minute, far from 1970. The day numbers are exact
    to the millisecond (SQLite's date functions round to it), the text to the microsecond."""
    from datetime import timedelta

    from sqlalchemy import literal

    from workflow.calendar import EPOCH, last_day, local_date
    from workflow.present import fmt
    from workflow.store.models import Step
    from workflow.store.progress import day_number
    from workflow.store.reports import _shown

    ms, us = timedelta(milliseconds=1), timedelta(microseconds=1)
    midnight = at("2026-01-07 00:00")
    exact_to_ms = [midnight, midnight + ms, midnight - ms, at("2026-06-30 13:05"), at("2199-12-31 23:59") + 59 * 1000 * ms,
                   at("1970-01-02 00:00"), at("2026-01-07 09:41") + 59_999 * ms]
    with store.read() as tx:
        for t in exact_to_ms + [midnight + us, midnight - us, at("2026-01-07 09:41") + timedelta(seconds=59, microseconds=999_950)]:
            v = literal(t, Step.due_at.type)
            days, closes, shown = tx.execute(select(day_number(tx, v), day_number(tx, v, last=True), _shown(tx, v))).one()
            assert shown == fmt(t), t
            if t in exact_to_ms:
                assert (days, closes) == ((local_date(t) - EPOCH).days, (last_day(t) - EPOCH).days), t


_PEOPLE_COUNT = Prepared(lambda: select(func.count()).select_from(Person))


def test_postgresql_reads_are_read_only_and_keep_the_statements_the_driver_prepared(pg_url):
    """A read ends by COMMIT, not ROLLBACK, so psycopg keeps what it prepared on the connection (a rollback makes it
    forget everything): the fifth run of a statement is prepared on the server, and stays so across reads. A write
    inside a read is refused by PostgreSQL itself, so committing a read can keep nothing."""
    store = Store(pg_url)
    try:
        by_sqlalchemy = select(func.count()).select_from(Person).where(Person.code == bindparam("c"))
        for _ in range(6):
            with store.read() as tx:
                tx.execute(by_sqlalchemy, {"c": "x"}).scalar()
                _PEOPLE_COUNT.scalar(tx)
            read_scalar(store.engine, _PEOPLE_COUNT, {})
        with store.read() as tx:
            prepared = tx.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
        assert any("people.code" in s for s in prepared) and any("count(*)" in s and "code" not in s for s in prepared), prepared
        with pytest.raises(Unavailable, match="当前无法写入"), store.read() as tx:
            tx.execute(text("INSERT INTO meta (key, value) VALUES ('x', 'y')"))
        with store.read() as tx:
            assert tx.execute(text("SELECT count(*) FROM meta WHERE key = 'x'")).scalar() == 0
    finally:
        store.dispose()

