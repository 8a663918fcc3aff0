"""`wuzhuan serve` as people start it: a real process on a loopback port, logged into over HTTP, stopped by SIGTERM.

SQLite from one process; PostgreSQL with two worker processes sharing the store.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from conftest import PW, ROOT, passwords, pg_url_or_skip, reset_pg, seed
from workflow import service
from workflow.store import Store

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`wuzhuan --db URL serve --port P ARGS…` in a child process."""

    def __init__(self, url: str, *args: str):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("WUZHUAN_")}
        self.proc = subprocess.Popen([sys.executable, "cli.py", "--db", url, "serve", "--port", str(self.port), *args],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def wait_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # waiting for the port to open, not for domain time to pass
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode}: {self.proc.stdout.read()}")
            try:
                if httpx.get(f"{self.base}/login", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:  # not listening yet: look again in a moment
                time.sleep(0.1)
                continue
            time.sleep(0.1)
        raise AssertionError("serve did not answer within 60 s")

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return self.proc.returncode, out


def _cookies(r: httpx.Response) -> dict[str, str]:
    return dict(c.split(";", 1)[0].split("=", 1) for c in r.headers.get_list("set-cookie"))


def log_in(base: str, code: str) -> dict[str, str]:
    """The session cookie, carried by hand: behind an https base_url the cookies are Secure, and this is plain http."""
    page = httpx.get(f"{base}/login")
    csrf = re.search(r'name="csrf" value="([^"]*)"', page.text).group(1)
    r = httpx.post(f"{base}/login", data={"username": code, "password": PW, "csrf": csrf},
                   headers={"Cookie": "; ".join(f"{k}={v}" for k, v in _cookies(page).items())})
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    return {"Cookie": f"wz_session={_cookies(r)['wz_session']}"}


def _exercise(served: Served) -> None:
    served.wait_up()
    session = log_in(served.base, "li.ming")
    for _ in range(6):  # several requests, so that both workers of the PostgreSQL case answer some
        r = httpx.get(f"{served.base}/", headers=session)
        assert r.status_code == 200 and "李明" in r.text
    assert httpx.get(f"{served.base}/definitions", headers=session).status_code == 200
    assert httpx.get(f"{served.base}/", follow_redirects=False).status_code == 303  # nobody: to the login page


def test_serve_on_sqlite_answers_and_stops_on_sigterm(ready_sqlite):
    passwords(ready_sqlite)
    served = Served(ready_sqlite.url)
    try:
        _exercise(served)
        assert "Secure" not in httpx.get(f"{served.base}/login").headers["set-cookie"]
    finally:
        code, out = served.stop()
    assert code == 0, out
    assert "Traceback" not in out and f"wuzhuan workbench on http://127.0.0.1:{served.port}/" in out


def test_serve_on_postgresql_with_two_workers(tmp_path):
    url = pg_url_or_skip()
    reset_pg(url)
    store = Store(url)
    seed(store)
    passwords(store)
    store.dispose()
    served = Served(url, "--workers", "2", "--base-url", "https://duban.example.gov.cn")
    try:
        _exercise(served)
        # the setting reaches the worker processes: an https base_url makes the cookies Secure
        assert "Secure" in httpx.get(f"{served.base}/login").headers["set-cookie"]
    finally:
        code, out = served.stop()
    assert code == 0, out
    assert "Traceback" not in out and out.count("Started server process") == 2, out


def test_the_workers_listening_socket_gives_its_connections_no_nagle_delay():
    """Several workers share a socket that uvicorn binds with protocol 0, on which asyncio leaves Nagle's algorithm
    on: a page written as headers then body then waited ~40 ms for the client's delayed ACK. The socket `serve
    --workers N` binds turns it off, and the connections it accepts inherit that."""
    from workflow.web import _Config

    listener = _Config("workflow.web:from_environment", factory=True, host="127.0.0.1", port=0, workers=2).bind_socket()
    with listener:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        listener.listen()
        with socket.create_connection(listener.getsockname()) as _client:
            accepted, _addr = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_a_served_app_sets_what_it_loaded_aside_from_the_cycle_collector(tmp_path):
    """A full collection walked every object loaded at start (80,000: the modules of Python and the libraries), 40–100 ms
    during which a worker answered nobody. The app `serve` runs (here: a worker's) has them frozen out of its reach."""
    code = ("import gc, json; from workflow.web import from_environment; app = from_environment(); "
            "print(json.dumps([gc.get_freeze_count(), len(gc.get_objects())]))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WUZHUAN_")}
    env["WUZHUAN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'w.db'}"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    frozen, still_walked = json.loads(done.stdout.splitlines()[-1])
    assert frozen > 20_000 and still_walked < frozen / 20, (frozen, still_walked)


def test_serve_clock_demo_acts_at_the_demos_time_and_offers_a_department_with_work(tmp_path):
    """Issue 28 §7: on the demo's database `serve --clock demo` acts from the story's 2026-04-20 09:10: item 3, due
    2026-05-15, is green there (at the wall clock it is months late); luo.gang's inbox holds his 整改落实."""
    from workflow.demo import PASSWORD, run_demo

    run_demo(tmp_path / "demo", lambda _line: None)
    url = f"sqlite:///{tmp_path / 'demo' / 'wuzhuan.db'}"
    store = Store(url)
    start = service.simulation_clock(store)
    assert start.isoformat() == "2026-04-20T01:10:00+00:00"
    store.dispose()
    served = Served(url, "--clock", "demo")
    try:
        served.wait_up()
        session = log_in_with(served.base, "luo.gang", PASSWORD)
        inbox = httpx.get(f"{served.base}/", headers=session).text
        assert 'href="/items/9"' in inbox, inbox[:2000]
        lead = log_in_with(served.base, "zhao.hua", PASSWORD)
        item3 = httpx.get(f"{served.base}/items/3", headers=lead).text
        assert "已逾期" not in item3 and "2026-05-15 24:00" in item3
    finally:
        code, out = served.stop()
    assert code == 0, out
    assert "demo clock: the workbench acts from 2026-04-20 09:10" in out


def log_in_with(base: str, code: str, password: str) -> dict[str, str]:
    page = httpx.get(f"{base}/login")
    csrf = re.search(r'name="csrf" value="([^"]*)"', page.text).group(1)
    r = httpx.post(f"{base}/login", data={"username": code, "password": password, "csrf": csrf},
                   headers={"Cookie": "; ".join(f"{k}={v}" for k, v in _cookies(page).items())})
    assert r.status_code == 303, r.text[:300]
    return {"Cookie": f"wz_session={_cookies(r)['wz_session']}"}


def test_serve_clock_demo_on_a_real_database_is_one_line_and_exit_2(ready_sqlite):
    out = subprocess.run([sys.executable, "cli.py", "--db", ready_sqlite.url, "serve", "--clock", "demo"], cwd=ROOT,
                         env={k: v for k, v in os.environ.items() if not k.startswith("WUZHUAN_")},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "演示时钟只能用于演示（模拟）数据库" in out.stderr and "Traceback" not in out.stderr
