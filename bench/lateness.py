"""Escalation lateness with the scheduler ticking: rungs fall due during the run; how late is each recorded?"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import bindparam, select, update

from bench.scale import bulk_load, fresh_store
from workflow.service import sweep
from workflow.store.models import Escalation, Item, Step


def measure(url: str, n_rungs: int = 10_000, window: float = 20.0, tick: float = 1.0) -> dict:
    store = fresh_store(url)
    bulk_load(store, n_rungs, n_rungs)
    start = datetime.now(UTC) + timedelta(seconds=5)
    due = {i: start + timedelta(seconds=window * (i - 1) / n_rungs) for i in range(1, n_rungs + 1)}
    with store.engine.begin() as c:  # spread the rungs' due times over the run
        c.execute(update(Step).where(Step.id == bindparam("sid")).values(due_at=bindparam("d"), next_escalation_at=bindparam("d")),
                  [{"sid": i, "d": d} for i, d in due.items()])
        c.execute(update(Item).where(Item.id == bindparam("iid")).values(due_at=bindparam("d")),
                  [{"iid": i, "d": d} for i, d in due.items()])
    ticks: dict[datetime, datetime] = {}

    def job() -> None:  # the same job and options as `wuzhuan scheduler run`
        now = datetime.now(UTC)
        sweep(store, now)
        ticks[now] = datetime.now(UTC)

    sched = BackgroundScheduler(timezone=UTC)
    sched.add_job(job, "interval", seconds=tick, coalesce=True, max_instances=1, misfire_grace_time=3600,
                  next_run_time=datetime.now(UTC))
    done = threading.Event()
    sched.start()
    deadline = time.monotonic() + window + 60
    while time.monotonic() < deadline and not done.is_set():
        time.sleep(0.5)
        with store.read() as s:
            if s.execute(select(Escalation.id).order_by(Escalation.id.desc()).limit(1)).scalar() == n_rungs:
                done.set()
    sched.shutdown(wait=True)
    with store.read() as s:
        rows = s.execute(select(Escalation.step_id, Escalation.claimed_at)).all()
    late = sorted((ticks[claimed] - due[sid]).total_seconds() for sid, claimed in rows)
    store.dispose()
    pick = lambda q: late[min(len(late) - 1, int(q * len(late)))]  # noqa: E731
    return {"rungs": len(late), "expected": n_rungs, "tick": tick, "p50": pick(0.50), "p99": pick(0.99), "max": late[-1],
            "ticks": len(ticks)}
