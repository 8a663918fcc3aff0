"""APScheduler wiring only: interval jobs (sweep, deliver, the 通报 digest) in the foreground until a signal."""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from .errors import Unavailable, WuzhuanError
from .service import Store, deliver_with, send_digest, sweep

log = logging.getLogger("wuzhuan.scheduler")


class Outage:
    """Says once that the database went away and once that it came back, however many jobs fail meanwhile: an
    expected outage (a restart of PostgreSQL, a full disk) is one line in the log, not a traceback a minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since: datetime | None = None

    def failed(self, job: str, e: Unavailable) -> None:
        with self._lock:
            if self.since is None:
                self.since = datetime.now(UTC)
                log.warning("database unavailable (%s): %s — the jobs go on trying", job, e)

    def ok(self) -> None:
        with self._lock:
            if self.since is not None:
                log.warning("database available again (unavailable since %s)", self.since.isoformat(timespec="seconds"))
                self.since = None


def guarded(name: str, job, outage: Outage):
    """The job, with the database's unavailability said once (see Outage); a bug keeps its traceback."""
    def run() -> None:
        try:
            job()
        except Unavailable as e:
            outage.failed(name, e)
            return
        outage.ok()
    run.__name__ = name
    return run


def build(store: Store, sweep_seconds: int, deliver_seconds: int, totals: Counter | None = None) -> BackgroundScheduler:
    """The scheduler with its jobs; each job is a function of the current time and safe to run anywhere.

    `totals`, when given, adds up what the jobs did (sweeps, fired, queued, deliveries, sent, failed, dead).
    """
    totals = totals if totals is not None else Counter()

    def sweep_job() -> None:
        r = sweep(store, datetime.now(UTC))
        totals.update(sweeps=1, fired=r.fired, skipped=r.skipped, queued=r.queued)
        log.info("sweep: %s rungs fired, %s skipped, %s notices queued", r.fired, r.skipped, r.queued)

    def digest_job() -> None:  # once per period whichever process gets there first: the digests row is the claim
        try:
            r = send_digest(store, datetime.now(UTC))
        except Unavailable:
            raise
        except WuzhuanError as e:  # no scorecard template published yet, a broken scorecard: said, not fatal
            log.warning("digest not sent: %s", e)
            return
        if r.sent:
            totals.update(digests=1)
            log.info("digest %s: %s message(s) queued", r.period, r.messages)

    def deliver_job() -> None:
        r = deliver_with(store, datetime.now(UTC))
        totals.update(deliveries=1, sent=r.sent, failed=r.failed, dead=r.dead)
        log.info("deliver: %s sent, %s to retry, %s dead", r.sent, r.failed, r.dead)

    sched = BackgroundScheduler(jobstores={"default": MemoryJobStore()},
                                executors={"default": ThreadPoolExecutor(2)}, timezone=UTC)
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600, "next_run_time": datetime.now(UTC)}
    outage = Outage()
    sched.add_job(guarded("sweep", sweep_job, outage), "interval", seconds=sweep_seconds, id="sweep", **common)
    sched.add_job(guarded("deliver", deliver_job, outage), "interval", seconds=deliver_seconds, id="deliver", **common)
    sched.add_job(guarded("digest", digest_job, outage), "interval", seconds=max(sweep_seconds, 600), id="digest", **common)
    return sched


def run(store: Store, sweep_seconds: int, deliver_seconds: int) -> dict[str, int]:
    """Run until SIGTERM or SIGINT, then wait for the job in hand to commit; returns what the jobs did."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    store.check_writable()  # a database that cannot be written now, or not without its audit key: said before starting
    totals: Counter = Counter()
    sched = build(store, sweep_seconds, deliver_seconds, totals)
    sched.start()
    log.info("scheduler started: sweep every %ss, deliver every %ss (database %s)", sweep_seconds, deliver_seconds,
             store.display_url)
    stop.wait()
    log.info("stopping: finishing the job in hand")
    sched.shutdown(wait=True)
    log.info("stopped")
    keys = ("sweeps", "fired", "skipped", "queued", "deliveries", "sent", "failed", "dead", "digests")
    return {k: totals[k] for k in keys}
