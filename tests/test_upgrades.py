"""Every database ever made upgrades: built by the code of each released schema, upgraded by `wuzhuan db upgrade`.

The old code is taken from this repository's own history (`git archive` of the last commit at that schema) and
runs its own demo — people, five items along the chain, a pause, an extension, escalation sweeps — then sweeps
three months later without delivering, so the database holds fired rungs and queued notices. Upgraded by the
command an operator runs, nothing may be lost: the rows are the same, the trail verifies (its replay too), every
queued notice is delivered once over SMTP and renders, and there is an administrator.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select, text
from test_smtp import smtp  # noqa: F401  (the fixture)

from cli import cli
from conftest import ROOT, pg_url_or_skip, reset_pg
from workflow import service
from workflow.config import Settings
from workflow.errors import KeyRequired
from workflow.service import deliver
from workflow.store import Store
from workflow.store.schema import HEAD

KEY = "5a" * 32
LATER = datetime(2026, 7, 20, 1, 0, tzinfo=UTC)  # after the old code's last sweep: its queued notices are due


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def _release(schema: str) -> str:
    """The last commit whose newest migration was `schema`: the parent of the commit that added the next one."""
    following = f"{int(schema) + 1:04d}"
    added = _git("log", "--format=%H", "--diff-filter=A", "--", f"workflow/migrations/versions/{following}_*.py")
    if not added:
        pytest.fail(f"no commit adds migration {following}: the history this test builds from is incomplete")
    return _git("rev-parse", f"{added.splitlines()[-1]}^")


@pytest.fixture(scope="session")
def releases(tmp_path_factory) -> dict[str, Path]:
    """Schema → a folder with that release's files (the current one: this checkout)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("building old databases needs this repository's git history (a clone, not an export)")
    if _git("rev-parse", "--is-shallow-repository") == "true":
        pytest.skip("building old databases needs the full git history (this clone is shallow)")
    out = {"current": ROOT}
    for schema in ("0002", "0007"):
        folder = tmp_path_factory.mktemp(f"release-{schema}")
        archive = subprocess.run(["git", "archive", _release(schema)], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        out[schema] = folder
    return out


def build(source: Path, url: str, work: Path, key: str | None = None) -> dict:
    """Run the release's own demo against `url` (tests/build_old.py), in a process of its own."""
    args = [sys.executable, str(ROOT / "tests" / "build_old.py"), str(source), url, str(work)] + ([key] if key else [])
    env = {k: v for k, v in os.environ.items() if not k.startswith("WUZHUAN_")}
    done = subprocess.run(args, cwd=work.parent, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _engine(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def snapshot(url: str) -> dict[str, dict[tuple, dict]]:
    """Every row of every table, by primary key."""
    engine = _engine(url)
    out = {}
    with engine.connect() as c:
        insp = inspect(c)
        for table in insp.get_table_names():
            if table == "alembic_version":
                continue
            cols = [x["name"] for x in insp.get_columns(table)]
            key = insp.get_pk_constraint(table)["constrained_columns"] or cols
            rows = c.execute(text(f"SELECT * FROM {table}")).mappings().all()
            out[table] = {tuple(r[k] for k in key): {k: _plain(r[k]) for k in cols} for r in rows}
    engine.dispose()
    return out


def _plain(v):
    """A value as both databases give it back: JSON text parsed, times without a zone, booleans as such."""
    if isinstance(v, str) and v[:1] in "{[":
        try:
            return json.loads(v)
        except ValueError:
            return v
    if isinstance(v, datetime):
        return v.replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] == " ":
        try:
            return datetime.fromisoformat(v).isoformat(" ", "microseconds")
        except ValueError:
            return v
    return v


def same_rows(before: dict, after: dict) -> list[str]:
    """What of `before` is missing or changed in `after` (new tables and new columns are allowed; the audit head moves
    on past the upgrade's own event, and `audit verify` checks it)."""
    lost = []
    for table, rows in before.items():
        if table == "audit_head":
            continue
        kept = after.get(table, {})
        if table == "slip_counters":  # 0016 keys each year's counter by its series too: the old one is series ''
            kept = {(r["year"],): r for r in kept.values() if r.get("series") == ""} | kept
        for pk, row in rows.items():
            now = kept.get(pk)
            if now is None:
                lost.append(f"{table} {pk}: gone")
                continue
            lost += [f"{table} {pk} {k}: {v!r} → {now[k]!r}" for k, v in row.items() if k in now and now[k] != v
                     and not (isinstance(v, int | bool) and isinstance(now[k], int | bool) and int(v) == int(now[k]))]
    return lost


@pytest.fixture(params=["sqlite", "postgres"])
def target(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    url = pg_url_or_skip()
    reset_pg(url)
    return url


@pytest.mark.parametrize("schema", ["0002", "0007", "current"])
def test_a_database_of_every_released_schema_upgrades_with_nothing_lost(schema, releases, target, tmp_path, smtp):  # noqa: F811
    made = build(releases[schema], target, tmp_path / "demo")
    assert made["revision"] == (HEAD if schema == "current" else schema) and made["pending"] > 0
    before = snapshot(target)
    admins_before = {r["code"] for r in before["people"].values() if r.get("admin")} if "admin" in next(
        iter(before["people"].values())) else None

    r = CliRunner().invoke(cli, ["--db", target, "db", "upgrade"], obj={}, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert f"schema at {HEAD}" in r.output
    lost = same_rows(before, snapshot(target))
    assert lost == [], lost[:20]

    store = Store(target, settings=Settings(clock_simulation=True))
    try:
        report = service.verify_audit(store)
        assert report.ok and report.differing == 0, (report.problem, report.unexplained[:5])
        with store.read() as tx:
            admins = {c for (c,) in tx.execute(text("SELECT code FROM people WHERE admin AND active")).all()}
        assert admins, "an upgraded database must have an administrator"
        if admins_before is None:  # a schema from before administrators: the office's members, and they are named
            assert admins == {"wang.fang"} and "王芳 (wang.fang)" in r.output
        else:
            assert admins == admins_before

        ctl, inbox, port = smtp
        cfg = Settings(smtp_host="127.0.0.1", smtp_port=port, clock_simulation=True)
        done = deliver(store, service.transport_for(cfg), LATER, max_attempts=1)
        assert done.dead == 0 and done.failed == 0, service.list_outbox(store, "dead")[:3]
        assert done.sent == made["pending"] and len(inbox.messages) == done.sent
        assert deliver(store, service.transport_for(cfg), LATER).sent == 0  # once each
        assert len(inbox.messages) == made["pending"]
        assert all(m.subject for m in service.list_outbox(store, "sent", 10_000))
    finally:
        store.dispose()


def test_a_signed_database_upgrades_only_with_its_key_and_is_bound_to_it(releases, tmp_path):
    url = f"sqlite:///{tmp_path / 'keyed.db'}"
    build(releases["0007"], url, tmp_path / "demo", key=KEY)
    before = snapshot(url)
    r = CliRunner().invoke(cli, ["--db", url, "db", "upgrade"], obj={}, env={"WUZHUAN_AUDIT_KEY": ""})
    assert r.exit_code == 2 and "WUZHUAN_AUDIT_KEY_FILE" in r.output and len(r.output.strip().splitlines()) == 1
    assert snapshot(url) == before  # refused before anything changed
    with pytest.raises(KeyRequired):
        service.upgrade_schema(url)
    r = CliRunner().invoke(cli, ["--db", url, "db", "upgrade"], obj={}, env={"WUZHUAN_AUDIT_KEY": KEY})
    assert r.exit_code == 0, r.output
    store = Store(url, settings=Settings(audit_key=KEY))
    try:
        report = service.verify_audit(store)
        assert report.ok and report.authenticated and report.differing == 0, report.problem
        with store.read() as tx:
            bound = tx.execute(text("SELECT bound_seq FROM audit_head")).scalar()
            kind = tx.execute(text(f"SELECT kind FROM audit_events WHERE seq = {bound}")).scalar()
        assert kind == "audit_key_bound"
    finally:
        store.dispose()


def test_a_failed_upgrade_of_a_sqlite_file_with_people_leaves_it_as_it_was(releases, tmp_path, monkeypatch):
    """Issue 24: a 0002 file with people failed in 0003 ('FOREIGN KEY constraint failed [DROP TABLE people]'); and
    whatever fails, the file is as it was."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    build(releases["0002"], url, tmp_path / "demo")
    before = snapshot(url)
    from workflow.store import upgrades as upgrade_module

    real = upgrade_module.migrate

    def migrate_then_fail(conn, revision="head"):
        real(conn, revision)
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD  # it did all run
        raise RuntimeError("power cut")

    monkeypatch.setattr(upgrade_module, "migrate", migrate_then_fail)
    with pytest.raises(RuntimeError, match="power cut"):
        service.upgrade_schema(url)
    assert snapshot(url) == before
    engine = _engine(url)
    with engine.connect() as c:
        assert c.execute(select(text("version_num")).select_from(text("alembic_version"))).scalar() == "0002"
    engine.dispose()
