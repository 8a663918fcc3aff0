"""Failures told honestly: a database that is gone, full or read-only is 503 on the web (never 400 or 500) and exit 2
with one line at the command line; the running workbench recovers by itself when the database comes back.

The faults are real: a file made immutable (chattr +i, which root cannot write through either), a small tmpfs
filled up, PostgreSQL backends of the test database terminated by the server itself.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient
from test_web import field, login

from cli import cli
from conftest import PW, SIM, T0, Clock, at, passwords, seed
from workflow import scheduler, service
from workflow.errors import Unavailable
from workflow.store import Store
from workflow.store import engine as engine_module
from workflow.web import create_app

NOW = at("2026-01-07 09:00")


def _item(store: Store) -> int:
    a = service.create_item(store, "wang.fang", template="special_supervision", title="大气污染防治", now=T0, group="g-env").id
    service.advance(store, "wang.fang", a, "propose", at("2026-01-06 09:00"), fields={"topic": "大气", "source": "社会关注"})
    return a


def _move(c: TestClient, item: int):
    """li.ming adopts the plan from the item page's own form."""
    html = c.get(f"/items/{item}").text
    return c.post(f"/items/{item}/advance", follow_redirects=False,
                  data={"csrf": field(html, "csrf"), "trigger": "adopt_plan", "field:meeting_date": "2026-06-25",
                        "version": field(html, "version")})


def _assert_503(r, api: bool = False) -> None:
    assert r.status_code == 503, (r.status_code, r.text[:300])
    assert r.headers.get("retry-after", "").isdigit()
    assert "Traceback" not in r.text
    if api:
        assert r.json()["status"] == 503 and r.json()["error"]
    else:
        assert "数据库" in r.text and "503" in r.text


@contextlib.contextmanager
def immutable(path: Path):
    """The file cannot be written, even by root (chattr +i); skipped where the filesystem cannot do it."""
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("a read-only database file needs chattr +i (ext2/3/4, xfs, btrfs; CAP_LINUX_IMMUTABLE)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_workbench_started_on_a_read_only_file_answers_503_and_recovers_without_a_restart(ready_sqlite, tmp_path):
    """Issue 24: such a workbench answered 400, and went on refusing every move after the file was writable again."""
    store = ready_sqlite
    passwords(store)
    item = _item(store)
    token = service.accounts.issue_token(store, "li.ming", NOW).token
    clock = Clock(NOW)
    with TestClient(create_app(store, clock)) as c:
        assert login(c, "li.ming").status_code == 303
        cookies = dict(c.cookies)
    url = store.url
    store.dispose()
    db = Path(url.removeprefix("sqlite:///"))
    with immutable(db):
        ro = Store(url, settings=SIM)  # the server starts while the file cannot be written
        app = create_app(ro, clock)
        c = TestClient(app, cookies=cookies)
        assert c.get(f"/items/{item}").status_code == 200  # reading works
        _assert_503(_move(c, item))
        api = TestClient(app)
        r = api.post(f"/api/items/{item}/advance", headers={"Authorization": f"Bearer {token}"},
                     json={"trigger": "adopt_plan", "fields": {"meeting_date": "2026-06-25"}})
        _assert_503(r, api=True)
        _assert_503(TestClient(app).post("/login", data={"username": "li.ming", "password": PW, "csrf": "x"},
                                         cookies={"wz_login": "x"}))
    r = _move(c, item)  # the file is writable again: the same running workbench moves the item
    assert r.status_code == 303, r.text[:300]
    assert service.show_item(ro, service.OPERATOR, item, NOW).state == "work_plan"
    ro.dispose()


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB filesystem of its own (tmpfs), unmounted afterwards; skipped where mounting is not allowed."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("a full disk is made with a small tmpfs, which needs mount(8) and CAP_SYS_ADMIN")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_answers_503_and_the_workbench_recovers_when_space_is_freed(seeded_sqlite, small_disk):
    db = small_disk / "wuzhuan.db"
    shutil.copyfile(seeded_sqlite, db)
    store = Store(f"sqlite:///{db}", settings=SIM)
    passwords(store)
    item = _item(store)
    app = create_app(store, Clock(NOW))
    c = TestClient(app)
    assert login(c, "li.ming").status_code == 303
    filler = small_disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as f:  # fill the disk to the last byte
        while True:
            f.write(b"\0" * 65536)
            f.flush()
    with contextlib.suppress(OSError), filler.open("ab") as f:
        while True:
            f.write(b"\0")
            f.flush()
    r = _move(c, item)
    _assert_503(r)
    assert "磁盘" in r.text
    filler.unlink()
    r = _move(c, item)
    assert r.status_code == 303, r.text[:300]
    assert service.show_item(store, service.OPERATOR, item, NOW).state == "work_plan"
    store.dispose()


def _terminate_others(url: str) -> int:
    """End every backend of the test database but our own (what a restart of PostgreSQL does to the workbench)."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as c:
        n = c.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    engine.dispose()
    return n


def test_lost_postgresql_connections_are_503_on_every_route_then_the_workbench_recovers(pg_url, monkeypatch):
    """Issue 24: after backends were terminated some read paths answered 500 with a traceback, others 400."""
    monkeypatch.setattr(engine_module, "PING_IDLE_SECONDS", 3600.0)  # no ping to hide the loss: the request meets it
    store = Store(pg_url, settings=SIM)
    seed(store)
    passwords(store)
    item = _item(store)
    token = service.accounts.issue_token(store, "li.ming", NOW).token
    app = create_app(store, Clock(NOW))
    c, api = TestClient(app), TestClient(app)
    assert login(c, "li.ming").status_code == 303
    bearer = {"Authorization": f"Bearer {token}"}
    requests = [("page", lambda: c.get("/")), ("page", lambda: c.get(f"/items/{item}")), ("page", lambda: c.get("/involved")),
                ("page", lambda: c.get("/board")), ("page", lambda: c.get("/outbox")),
                ("api", lambda: api.get("/api/items", headers=bearer)),
                ("api", lambda: api.get(f"/api/items/{item}/history", headers=bearer)),
                ("api", lambda: api.post(f"/api/items/{item}/advance", headers=bearer, json={"trigger": "no_such_move"}))]
    seen = []
    for kind, send in requests:
        for _ in range(3):  # warm the pool: every pooled connection has served
            assert send().status_code < 500
        assert _terminate_others(pg_url) >= 1
        r = send()
        seen.append(r.status_code)
        assert r.status_code in (200, 303, 403, 503) and r.status_code not in (400, 500), (kind, r.status_code, r.text[:300])
        if r.status_code == 503:
            _assert_503(r, api=kind == "api")
        assert send().status_code < 500  # the next request finds the database again
    assert 503 in seen
    assert _move(c, item).status_code == 303  # and a move goes through after all that
    store.dispose()


def test_the_command_line_says_an_unavailable_database_in_one_line_with_exit_2(seeded_sqlite, tmp_path):
    runner = CliRunner()
    for command in (["items", "list"], ["db", "upgrade"]):  # db upgrade said "internal error … a bug" (exit 1)
        r = runner.invoke(cli, ["--db", "postgresql://postgres@127.0.0.1:9/none", *command], obj={})
        assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1 and "无法连接数据库" in r.output, r.output
    db = tmp_path / "w.db"
    shutil.copyfile(seeded_sqlite, db)
    with immutable(db):
        r = runner.invoke(cli, ["--db", f"sqlite:///{db}", "items", "create", "--template", "special_supervision",
                                "--title", "x", "--group", "g-env", "--actor", "wang.fang", "--now", "2026-01-07T09:00"],
                          obj={}, env={"WUZHUAN_CLOCK_SIMULATION": "1"})
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1 and "无法写入" in r.output, r.output


def test_the_scheduler_says_an_outage_once_and_its_end_once(caplog):
    """Issue 24: `scheduler run` logged a full traceback for every expected connection loss."""
    outage = scheduler.Outage()
    fails = iter([True, True, True, False, False])

    def job():
        if next(fails):
            raise Unavailable(f"无法连接数据库 postgresql://db/wuzhuan：server closed the connection ({uuid.uuid4()})")

    run = scheduler.guarded("sweep", job, outage)
    with caplog.at_level(logging.INFO, logger="wuzhuan.scheduler"):
        for _ in range(5):
            run()
    lines = [r for r in caplog.records if r.name == "wuzhuan.scheduler"]
    assert [r.getMessage().split(" (")[0].split(":")[0] for r in lines] == ["database unavailable", "database available again"]
    assert all(r.exc_info is None for r in lines)

    def bug():
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):  # a bug is not an outage: APScheduler logs it with its traceback
        scheduler.guarded("sweep", bug, outage)()


def test_a_process_without_the_key_is_refused_at_start(tmp_path):
    """`scheduler run` and `serve` say at start that the trail is signed and the key is missing (exit 2)."""
    url = f"sqlite:///{tmp_path / 'k.db'}"
    s = Store(url, settings=SIM.__class__(audit_key="ab" * 32, clock_simulation=True))
    seed(s)
    s.dispose()
    for args in (["scheduler", "run"], ["serve", "--port", "1"]):
        r = CliRunner().invoke(cli, ["--db", url, *args], obj={}, env={"WUZHUAN_AUDIT_KEY": ""})
        assert r.exit_code == 2 and "WUZHUAN_AUDIT_KEY_FILE" in r.output, (args, r.output)


def test_a_pg_store_opened_while_the_server_is_unreachable_is_one_line(tmp_path):
    with pytest.raises(Unavailable) as e:
        Store("postgresql://postgres@127.0.0.1:9/none")
    assert e.value.exit_code == 2 and e.value.http_status == 503
