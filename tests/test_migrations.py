"""Schema: migrations match the models; empty databases are migrated; foreign or outdated ones are refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

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
