"""Schema: migrations match the models; empty databases are migrated; foreign or outdated ones are refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from workflow.db import Store
from workflow.errors import SchemaOutdated
from workflow.models import Base


def test_migrations_match_the_models(db_url):
    store = Store(db_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    store.dispose()
    assert diff == []


def test_foreign_tables_are_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text("CREATE TABLE invoices (id INTEGER)"))
    eng.dispose()
    with pytest.raises(SchemaOutdated, match="not wuzhuan's"):
        Store(url)


def test_outdated_schema_asks_for_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store(url).dispose()
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    eng.dispose()
    with pytest.raises(SchemaOutdated, match="run `wuzhuan db upgrade`"):
        Store(url)


def test_sqlite_runs_in_wal_with_immediate_transactions(sqlite_store):
    with sqlite_store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_head_constant_matches_alembic():
    from workflow.db import HEAD, head_revision

    assert HEAD == head_revision()


def test_upgrade_from_0001_keeps_queued_notices_and_drops_the_outbox_key(db_url):
    """0002 drops outbox → escalations (a quadratic check on PostgreSQL); rows, indexes and uniqueness stay."""
    from alembic import command
    from sqlalchemy import inspect

    from workflow.db import _alembic_config, make_engine, upgrade

    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0001")
    row = ("<m1@x>", "reminder", "a@example.org", "甲", "{}", "pending", 0, "2026-03-02 01:00:00", "2026-03-02 01:00:00")
    insert = ("INSERT INTO outbox (message_id, notice, to_addr, to_name, context, status, attempts, next_attempt_at, created_at)"
              " VALUES (:a, :b, :c, :d, :e, :f, :g, :h, :i)")
    params = dict(zip("abcdefghi", row, strict=True))
    with engine.begin() as conn:
        conn.execute(text(insert), params)
        assert inspect(conn).get_foreign_keys("outbox") != []
    assert upgrade(engine) == ("0001", "0002")
    with engine.begin() as conn:
        insp = inspect(conn)
        assert insp.get_foreign_keys("outbox") == []
        assert "ix_outbox_ready" in {i["name"] for i in insp.get_indexes("outbox")}
        assert conn.execute(text("SELECT message_id, to_name FROM outbox")).all() == [("<m1@x>", "甲")]
    with pytest.raises(IntegrityError, match="(?i)unique"), engine.begin() as conn:
        conn.execute(text(insert), params)
    engine.dispose()
    Store(db_url).dispose()  # opens without asking for an upgrade


def test_a_failed_upgrade_leaves_the_database_as_it_was(db_url, monkeypatch):
    """The whole upgrade is one transaction: a failure after 0002 has run rolls all of it back."""
    import alembic.command
    from sqlalchemy import inspect

    from workflow.db import _alembic_config, make_engine, upgrade

    engine = make_engine(db_url)
    with engine.begin() as conn:
        alembic.command.upgrade(_alembic_config(conn), "0001")
    real = alembic.command.upgrade

    def upgrade_then_fail(cfg, revision):
        real(cfg, revision)
        conn = cfg.attributes["connection"]
        assert inspect(conn).get_foreign_keys("outbox") == []  # 0002 did run
        raise RuntimeError("power cut")

    monkeypatch.setattr(alembic.command, "upgrade", upgrade_then_fail)
    with pytest.raises(RuntimeError, match="power cut"):
        upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
        assert inspect(conn).get_foreign_keys("outbox") != []
    engine.dispose()
