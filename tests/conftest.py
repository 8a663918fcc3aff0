"""Fixtures: stores on real SQLite files and on the PostgreSQL named by WUZHUAN_TEST_PG_URL.

A SQLite database with the schema migrated, the demo's people imported and the built-in
templates published is built once per test session and copied for each test that wants one.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from workflow import service, templates
from workflow.calendar import TZ
from workflow.config import Settings
from workflow.service import accounts
from workflow.store import Store

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = ROOT / "workflow" / "demo_people.yaml"
# The command-line tests start hundreds of processes: let them reuse compiled bytecode even where the
# environment says not to write it (PYTHONDONTWRITEBYTECODE=1 made every process compile every module).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False
PG_REQUIRED = os.environ.get("WUZHUAN_REQUIRE_PG") == "1"


def _worker_url(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets a database of its own beside the named one (test → test_gw0, …):
    the PostgreSQL tests drop and recreate the public schema, so two workers must never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base, _, name = url.rpartition("/")
    name, sep, query = name.partition("?")
    return f"{base}/{name}_{worker}{sep}{query}"


PG_URL = _worker_url(os.environ.get("WUZHUAN_TEST_PG_URL"))
_PG_CREATED: list[bool] = []


def _create_worker_database() -> None:
    """Create this worker's database once, connecting to the named one (CREATE DATABASE cannot run in a transaction)."""
    named = os.environ["WUZHUAN_TEST_PG_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    own = PG_URL.rpartition("/")[2].partition("?")[0]
    eng = create_engine(named, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        if not c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": own}).first():
            c.exec_driver_sql(f'CREATE DATABASE "{own}"')
    eng.dispose()


def at(text_: str) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    return datetime.fromisoformat(text_).replace(tzinfo=TZ).astimezone(UTC)


T0 = at("2026-01-05 09:00")
ADMIN = "wang.fang"  # the demo directory's administrator
# The tests act on dates of 2026 and 2027, some ahead of the wall clock: their stores are simulations.
SIM = Settings(clock_simulation=True)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"  # a smallest PDF the type check accepts
# The documents each built-in chain's moves require (issue 27): a test walking a chain gives one small PDF each.
CHAIN_FILES = {
    "special_supervision": {"submit_report": ("report_file",), "hand_over_opinions": ("opinions_file",),
                            "submit_rectification_report": ("rectification_file", "evidence")},
    "opinion_handling": {"hand_over": ("opinions_file",), "submit_summary": ("summary_file",)},
    "department_rectification": {"report": ("measures_file", "evidence")},
    "audit_rectification": {"submit_report": ("rectification_file",), "report_again": ("rectification_file",)},
}


def chain_files(trigger: str, template: str = "special_supervision") -> dict | None:
    """The files a built-in template's move requires, one small PDF per file field (None for a move needing none)."""
    names = CHAIN_FILES.get(template, {}).get(trigger)
    return {f: [(f"{f}.pdf", io.BytesIO(PDF))] for f in names} if names else None


PW = "correct horse battery"  # every demo person's workbench password in the web tests
_HASH: list[str] = []


class Clock:
    """A server's clock, moved by the test (time is passed in, never slept on)."""

    def __init__(self, t: datetime):
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def passwords(store: Store) -> None:
    """Everyone in the demo directory gets the password PW (one argon2 hash, computed once)."""
    if not _HASH:
        _HASH.append(accounts._hasher().hash(PW))
    with store.transaction() as tx:
        tx.execute(text("UPDATE people SET password_hash = :h"), {"h": _HASH[0]})


def pg_url_or_skip() -> str:
    if not PG_URL:
        if PG_REQUIRED:
            pytest.fail("WUZHUAN_REQUIRE_PG=1 but WUZHUAN_TEST_PG_URL is not set")
        pytest.skip("PostgreSQL tests need WUZHUAN_TEST_PG_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    try:
        if PG_URL != os.environ["WUZHUAN_TEST_PG_URL"] and not _PG_CREATED:
            _create_worker_database()
            _PG_CREATED.append(True)
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


def seed(store: Store, now: datetime = T0) -> None:
    """Import the demo's people (the first import needs no administrator), then publish the built-ins as 王芳."""
    service.import_people(store, None, PEOPLE, now)
    for p in templates.builtin_paths():
        service.publish(store, ADMIN, p, now)


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seed") / "seed.db"
    s = Store(f"sqlite:///{path}", settings=SIM)
    seed(s)
    s.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


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
    """An empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wuzhuan.db'}"
    url = pg_url_or_skip()
    reset_pg(url)
    return url


@pytest.fixture
def store(db_url):
    """An empty, migrated store of each kind."""
    s = Store(db_url, settings=SIM)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(sqlite_url):
    s = Store(sqlite_url, settings=SIM)
    yield s
    s.dispose()


def _seeded_sqlite_copy(seeded: Path, tmp_path: Path) -> str:
    target = tmp_path / "wuzhuan.db"
    shutil.copyfile(seeded, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", "postgres"])
def ready(request, tmp_path, seeded_sqlite):
    """A store of each kind with the demo's people and the built-in templates."""
    if request.param == "sqlite":
        s = Store(_seeded_sqlite_copy(seeded_sqlite, tmp_path), settings=SIM)
    else:
        url = pg_url_or_skip()
        reset_pg(url)
        s = Store(url, settings=SIM)
        seed(s)
    yield s
    s.dispose()


@pytest.fixture
def ready_sqlite(tmp_path, seeded_sqlite):
    """A seeded SQLite store only (for tests that are about something other than the database)."""
    s = Store(_seeded_sqlite_copy(seeded_sqlite, tmp_path), settings=SIM)
    yield s
    s.dispose()
