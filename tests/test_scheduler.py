"""`wuzhuan scheduler run` as a real process: it ticks, sweeps and delivers, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import T0, seed
from workflow import service
from workflow.scheduler import build
from workflow.store import Store


def test_jobs_are_configured_as_documented(sqlite_store):
    sched = build(sqlite_store, 60, 30)
    jobs = {j.id: j for j in sched.get_jobs()}
    assert set(jobs) == {"sweep", "deliver", "digest"}
    for j in jobs.values():
        assert j.coalesce and j.max_instances == 1 and j.misfire_grace_time == 3600
    assert jobs["sweep"].trigger.interval.total_seconds() == 60
    assert jobs["deliver"].trigger.interval.total_seconds() == 30
    assert jobs["digest"].trigger.interval.total_seconds() == 600  # at most every 10 minutes; it sends once a period


def test_scheduler_process_sweeps_delivers_and_stops_on_sigterm(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    store = Store(url)
    seed(store)
    service.create_item(store, "wang.fang", template="special_supervision", title="逾期", now=T0, group="g-env")
    store.dispose()  # created at T0 (January 2026): its rungs are long due by the wall clock
    exe = Path(sys.executable).parent / "wuzhuan"
    env = os.environ | {"WUZHUAN_OUTBOX_DIR": str(tmp_path / "mail")}
    proc = subprocess.Popen([str(exe), "--db", url, "scheduler", "run", "--sweep-seconds", "1", "--deliver-seconds", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(list((tmp_path / "mail").glob("*.eml"))) < 3:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "sweep: 1 rungs fired" in out and "deliver:" in out and "stopped" in out
    # the handover to the office, one red 督办单 To the owner, Cc group lead, committee and the two council members,
    # and this week's 通报 digest to the council and the office (its week has begun at the wall clock)
    names = sorted(p.name for p in (tmp_path / "mail").glob("*.eml"))
    assert len(names) == 3 and sum(n.startswith("wuzhuan.digest.251.") for n in names) == 1, names
    assert "digest " in out
