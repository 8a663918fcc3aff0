"""APScheduler wiring only: two interval jobs (sweep, deliver) in the foreground until a signal."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from .config import Settings
from .db import Store
from .delivery import deliver_with
from .sweep import sweep

log = logging.getLogger("wuzhuan.scheduler")


def build(store: Store, settings: Settings, sweep_seconds: int, deliver_seconds: int) -> BackgroundScheduler:
    """The scheduler with its two jobs; each job is a function of the current time and safe to run anywhere."""

    def sweep_job() -> None:
        r = sweep(store, datetime.now(UTC))
        log.info("sweep: %s rungs fired, %s skipped, %s notices queued", r.get("fired", 0), r.get("skipped", 0), r.get("queued", 0))

    def deliver_job() -> None:
        r = deliver_with(store, settings, datetime.now(UTC))
        log.info("deliver: %s sent, %s to retry, %s dead", r["sent"], r["failed"], r["dead"])

    sched = BackgroundScheduler(jobstores={"default": MemoryJobStore()},
                                executors={"default": ThreadPoolExecutor(2)}, timezone=UTC)
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600, "next_run_time": datetime.now(UTC)}
    sched.add_job(sweep_job, "interval", seconds=sweep_seconds, id="sweep", **common)
    sched.add_job(deliver_job, "interval", seconds=deliver_seconds, id="deliver", **common)
    return sched


def run(store: Store, settings: Settings, sweep_seconds: int, deliver_seconds: int) -> None:
    """Run until SIGTERM or SIGINT, then wait for the job in hand to commit before exiting."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    sched = build(store, settings, sweep_seconds, deliver_seconds)
    sched.start()
    log.info("scheduler started: sweep every %ss, deliver every %ss (database %s)", sweep_seconds, deliver_seconds,
             store.engine.url.render_as_string(hide_password=True))
    stop.wait()
    log.info("stopping: finishing the job in hand")
    sched.shutdown(wait=True)
    log.info("stopped")
