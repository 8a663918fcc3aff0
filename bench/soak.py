"""Soak test with faults: `python bench/soak.py --minutes 30` (or `--short`, what CI runs) on PostgreSQL.

Several processes advance random items as their role holders, sweep and deliver, against a real
SMTP server on loopback, on a simulated clock that runs fast so deadlines pass during the run.
Meanwhile the harness SIGKILLs and restarts processes, stops the SMTP server for a while and
terminates every PostgreSQL connection. At the end it drains the outbox and checks: the audit chain
verifies; no item lost or doubled an update; every due rung was claimed once and delivered at least
once, never under two Message-IDs; nothing is left in the outbox. It prints the counts and exits 1
on any breach.
"""

from __future__ import annotations

import argparse
import email
import json
import multiprocessing as mp
import os
import random
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Everything the harness runs is imported here, before the long run: a module first read from disk half
# an hour later could belong to a different version of the code (an earlier run died of exactly that).

from chain import files_for  # noqa: E402  (bench/, the folder of this script)
from soak_check import check, store_of  # noqa: E402

from notifier.transports import SMTPTransport  # noqa: E402
from workflow import service  # noqa: E402
from workflow.errors import Unavailable  # noqa: E402
from workflow.service import deliver, sweep  # noqa: E402
from workflow.service.items import create_in  # noqa: E402

# The only exceptions an advancer may meet besides Conflict and Backdated: the database connection that
# the harness resets under it. Anything else (a TypeError, a refusal, a guard failure) is a breach.
MIN_MOVES_PER_MINUTE = 150  # measured: about 1,900 a minute on two slow cores; far fewer means the advancers were stuck
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # simulated start: Monday 09:00 in Shanghai
SPEED = 43200.0  # simulated seconds per wall second: half a day passes every second
LEASE = timedelta(seconds=10 * SPEED)  # a delivery lease of 10 wall seconds

# How special_supervision moves on from each state: trigger, the role that acts, fields (the vote is random).
MOVES = {
    "topic_selection": ("propose", "office", {"topic": "议题", "source": "社会关注"}),
    "annual_plan": ("adopt_plan", "council", {"meeting_date": "2027-06-24"}),
    "work_plan": ("approve_work_plan", "committee", {"plan_doc": "方案"}),
    "research": ("finish_research", "group_lead", {"research_report": "报告"}),
    "opinions_handover": ("hand_over_views", "office", {}),
    "report_review": ("submit_report", "department", {}),
    "report_revision": ("submit_revised_report", "department", {"report_doc": "修改稿"}),
    "report_circulation": ("circulate_report", "office", {}),
    "deliberation": ("deliberate", "committee", {}),
    "opinion_drafting": ("draft_opinions", "committee", {"opinions": "意见"}),
    "opinion_approval": ("pass_opinions", "council", {}),
    "opinion_handover": ("hand_over_opinions", "office", {"departments": "市生态环境局"}),
    "rectification": ("finish_rectification", "department", {}),
    "rectification_report": ("submit_rectification_report", "department", {"rectification_report": "整改报告"}),
    "council_review": ("refer_to_committee", "council", {}),
    "satisfaction_vote": ("record_vote", "committee", None),
    "council_measures": ("order_measures", "council", {"measures": "措施"}),
    "follow_up": ("close_follow_up", "group_lead", {}),
    "publication": ("notify_deputies", "office", {"published_docs": "审议意见"}),
    "public_release": ("publish", "office", {"publication_url": "http://rd.example/x"}),
}


def sim_now(wall_start: float) -> datetime:
    return T0 + timedelta(seconds=(time.time() - wall_start) * SPEED)


def advancer(url: str, wall_start: float, stop, log_path: str, seed: int, n_active: int) -> None:
    """Advance random items among the first n_active, as a person holding the acting role on that item."""
    from workflow.errors import Backdated, Conflict

    rng = random.Random(seed)
    store = store_of(url)
    with open(log_path, "a", buffering=1) as log:
        while not stop.is_set():
            item_id, version = rng.randint(1, n_active), None
            try:
                with store.read_engine.connect() as c:
                    version, state = c.exec_driver_sql(f"SELECT version, state FROM items WHERE id = {item_id}").one()
                    if state not in MOVES:
                        continue
                    trigger, role, fields = MOVES[state]
                    actor = c.exec_driver_sql(
                        "SELECT p.code FROM assignments a JOIN people p ON p.id = a.person_id "
                        f"WHERE a.item_id = {item_id} AND a.role = '{role}' ORDER BY a.id LIMIT 1").scalar()
                comment = None
                if fields is None:
                    satisfied = rng.choice([True, True, False])  # counted: 满意 iff more than half of all 50 members
                    fields = {"members_total": 50, "votes_for": 40 if satisfied else 20, "votes_against": 10 if satisfied else 30}
                    comment = None if satisfied else "不满意"
                if trigger == "order_measures":
                    comment = "主任会议决定"
                log.write(json.dumps(["try", item_id, version]) + "\n")
                service.advance(store, actor, item_id, trigger, sim_now(wall_start), fields=fields, comment=comment,
                                expected_version=version, files=files_for(trigger))
                log.write(json.dumps(["ok", item_id, version]) + "\n")
            except Conflict:
                log.write(json.dumps(["conflict", item_id, version]) + "\n")
            except Backdated:  # simulated time runs 43,200× fast: a commit a millisecond later is 40 s later
                log.write(json.dumps(["backdated", item_id, version]) + "\n")
            except Exception as e:  # a connection reset is expected (injected); check() treats any other type as a breach
                log.write(json.dumps(["error", item_id, version, type(e).__name__]) + "\n")
                time.sleep(0.05)


def sweeper(url: str, wall_start: float, stop) -> None:
    from sqlalchemy.exc import DBAPIError

    store = store_of(url)
    while not stop.is_set():
        try:
            sweep(store, sim_now(wall_start), batch=50)
        except (DBAPIError, Unavailable):
            continue  # the connection was reset under it (a fault the harness injects): next tick
        finally:
            time.sleep(0.3)


def deliverer(url: str, wall_start: float, stop, port: int) -> None:
    from sqlalchemy.exc import DBAPIError

    store = store_of(url)
    while not stop.is_set():
        try:
            deliver(store, SMTPTransport("127.0.0.1", port, timeout=5), sim_now(wall_start), max_attempts=1000,
                    retry_base=60, batch=50, lease=LEASE)
        except (DBAPIError, Unavailable):
            continue  # as in sweeper(): a reset connection; the lease brings its batch back
        finally:
            time.sleep(0.3)


class Inbox:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        mid = email.message_from_bytes(envelope.content)["Message-ID"]
        with self.lock:
            self.ids.append(mid)
        return "250 OK"


class Smtp:
    def __init__(self, inbox: Inbox) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.inbox, self.ctl = inbox, None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.ctl = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.ctl.start()

    def stop(self) -> None:
        if self.ctl:
            self.ctl.stop()
            self.ctl = None


def setup(url: str, n_items: int) -> None:
    from sqlalchemy import create_engine, text

    from workflow import templates

    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.begin() as c:
        c.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    eng.dispose()
    store = store_of(url)
    service.import_people(store, None, ROOT / "workflow" / "demo_people.yaml", T0)
    for p in templates.builtin_paths():
        service.publish(store, "wang.fang", p, T0)
    groups = ["g-env", "g-budget", "g-edu", "g-rural", "g-elderly"]
    with store.transaction() as tx:
        for i in range(n_items):
            create_in(tx, store, "wang.fang", template="special_supervision", title=f"专项监督{i + 1}", now=T0,
                      group="g-env" if i % 2 else groups[i % 5], fields={"urgency": ["一般", "一般", "急", "特急"][i % 4]})
    store.dispose()


def kill_connections(url: str) -> None:
    from sqlalchemy import create_engine

    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.connect() as c:
        c.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        c.commit()
    eng.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=os.environ.get("WUZHUAN_TEST_PG_URL") or os.environ.get("WUZHUAN_BENCH_PG_URL"),
                    help="PostgreSQL URL (its public schema is dropped); default WUZHUAN_TEST_PG_URL")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--short", action="store_true", help="the CI mode: 75 seconds, faults every few seconds")
    ap.add_argument("--items", type=int, default=300, help="items; the advancers work on the first half, the rest escalate")
    ap.add_argument("--advancers", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not args.url:
        print("soak: needs PostgreSQL: pass --url or set WUZHUAN_TEST_PG_URL", file=sys.stderr)
        return 2
    seconds = 75.0 if args.short else args.minutes * 60
    fault_every = 6.0 if args.short else 20.0
    rng = random.Random(args.seed)
    ctx = mp.get_context("spawn")
    setup(args.url, args.items)
    inbox = Inbox()
    smtp = Smtp(inbox)
    smtp.start()
    work = Path(tempfile.mkdtemp(prefix="wuzhuan-soak-"))
    stop = ctx.Event()
    wall_start = time.time()
    counts = Counter()

    def spawn(kind: str, k: int):
        if kind == "advancer":
            return ctx.Process(target=advancer, args=(args.url, wall_start, stop, str(work / f"adv{k}.log"),
                                                      args.seed * 100 + k + counts["kills"], args.items // 2))
        if kind == "sweeper":
            return ctx.Process(target=sweeper, args=(args.url, wall_start, stop))
        return ctx.Process(target=deliverer, args=(args.url, wall_start, stop, smtp.port))

    procs = {("advancer", k): spawn("advancer", k) for k in range(args.advancers)}
    procs |= {("sweeper", k): spawn("sweeper", k) for k in range(2)}
    procs |= {("deliverer", k): spawn("deliverer", k) for k in range(2)}
    for p in procs.values():
        p.start()
    print(f"soak: {seconds:.0f} s on {args.url.split('@')[-1]}, {args.items} items, {len(procs)} processes, "
          f"SMTP on 127.0.0.1:{smtp.port}", flush=True)
    deadline = time.monotonic() + seconds
    next_fault = time.monotonic() + fault_every
    smtp_back_at = None
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = time.monotonic()
        if smtp_back_at and now >= smtp_back_at:
            smtp.start()
            smtp_back_at = None
        for key, p in list(procs.items()):
            if not p.is_alive():  # died without being killed: a breach, restarted to keep the load on
                counts["crashed"] += 1
                procs[key] = spawn(*key)
                procs[key].start()
        if now < next_fault:
            continue
        next_fault = now + fault_every * rng.uniform(0.5, 1.5)
        fault = rng.choice(["kill", "kill", "smtp", "pg"])
        if fault == "kill":
            key = rng.choice(sorted(procs))
            os.kill(procs[key].pid, signal.SIGKILL)
            procs[key].join()
            procs[key] = spawn(*key)
            procs[key].start()
            counts["kills"] += 1
        elif fault == "smtp" and smtp_back_at is None:
            smtp.stop()
            smtp_back_at = now + fault_every * rng.uniform(0.5, 1.5)
            counts["smtp_outages"] += 1
        elif fault == "pg":
            kill_connections(args.url)
            counts["pg_connection_resets"] += 1
        elapsed = time.time() - wall_start
        print(f"  {elapsed:6.0f} s  simulated {sim_now(wall_start):%Y-%m-%d %H:%M}  {dict(counts)}", flush=True)
    if smtp_back_at:
        smtp.start()
    stop.set()
    for p in procs.values():
        p.join(timeout=60)
        if p.is_alive():
            p.kill()
    # Drain: final sweeps and deliveries until nothing is waiting (retries need their backoff to pass).
    store = store_of(args.url)
    final = sim_now(wall_start)
    sweep(store, final)
    t = final
    for _ in range(40):
        r = deliver(store, SMTPTransport("127.0.0.1", smtp.port), t, max_attempts=1000, retry_base=60, lease=LEASE)
        t += LEASE + timedelta(hours=2)
        if r.sent == 0 and r.failed == 0:
            with store.read() as s:
                waiting = s.conn.exec_driver_sql("SELECT count(*) FROM outbox WHERE status <> 'sent'").scalar()
            if not waiting:
                break
    store.dispose()
    smtp.stop()
    breaches, n = check(args.url, inbox, sorted(work.glob("adv*.log")), final)
    n.update(counts)
    if counts["crashed"]:
        breaches.append(f"{counts['crashed']} processes died without being killed")
    if n["rungs_fired"] == 0:
        breaches.append("no rung fell due: the run proved nothing about escalation")
    least = int(MIN_MOVES_PER_MINUTE * seconds / 60)
    if n["ops_ok"] < least:
        breaches.append(f"only {n['ops_ok']} moves succeeded (at least {least} expected in {seconds:.0f} s): "
                        "the run proved little about concurrent moves")
    print("\nsoak counts: " + json.dumps(dict(sorted(n.items())), ensure_ascii=False))
    print(f"simulated time {T0:%Y-%m-%d} → {final:%Y-%m-%d}, wall {time.time() - wall_start:.0f} s")
    if breaches:
        print("\nBREACHES:")
        for b in breaches[:30]:
            print("  " + b)
        return 1
    print("soak: all invariants held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
