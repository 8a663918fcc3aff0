"""Fixtures: stores on real SQLite files and on the PostgreSQL named by WUZHUAN_TEST_PG_URL."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from workflow.calendar import TZ
from workflow.db import Store

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("WUZHUAN_TEST_PG_URL")
PG_REQUIRED = os.environ.get("WUZHUAN_REQUIRE_PG") == "1"


def at(text_: str) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    return datetime.fromisoformat(text_).replace(tzinfo=TZ).astimezone(UTC)


def pg_url_or_skip() -> str:
    if not PG_URL:
        if PG_REQUIRED:
            pytest.fail("WUZHUAN_REQUIRE_PG=1 but WUZHUAN_TEST_PG_URL is not set")
        pytest.skip("PostgreSQL tests need WUZHUAN_TEST_PG_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    try:
        eng = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with eng.connect() as c:
            c.exec_driver_sql("SELECT 1")
        eng.dispose()
    except Exception as e:
        if PG_REQUIRED:
            pytest.fail(f"PostgreSQL at WUZHUAN_TEST_PG_URL is required but unreachable: {e}")
        pytest.skip(f"PostgreSQL at WUZHUAN_TEST_PG_URL is unreachable: {e}")
    return PG_URL


def reset_pg(url: str) -> None:
    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.begin() as c:
        c.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    eng.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'wuzhuan.db'}"


@pytest.fixture
def pg_url() -> str:
    url = pg_url_or_skip()
    reset_pg(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wuzhuan.db'}"
    url = pg_url_or_skip()
    reset_pg(url)
    return url


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(sqlite_url):
    s = Store(sqlite_url)
    yield s
    s.dispose()


T0 = at("2026-01-05 09:00")


def setup_directory(store: Store, now: datetime = T0) -> None:
    """Publish the built-in templates and import the demo's people."""
    from workflow import people, registry

    with store.transaction() as s:
        for p in registry.builtin_paths():
            registry.publish(s, p, "admin", now)
        people.import_people(s, ROOT / "workflow" / "demo_people.yaml", "admin", now)


@pytest.fixture
def ready(store):
    setup_directory(store)
    return store
