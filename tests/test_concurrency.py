"""Several processes on one store: no lost or doubled update, and every rung claimed exactly once under SIGKILL."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import T0, at, chain_files, pg_url_or_skip, reset_pg, seed
from workflow import service
from workflow.service.items import create_in
from workflow.store import Store
from workflow.store.models import Escalation, Item, Outbox, ProgressCount, Step

pytestmark = pytest.mark.slow
CTX = mp.get_context("spawn")

# The first moves of the chain: (trigger, actor, fields) by the state the item is in.
PATH = {
    "topic_selection": ("propose", "wang.fang", {"topic": "x", "source": "社会关注"}),
    "annual_plan": ("adopt_plan", "li.ming", {"meeting_date": "2026-06-25"}),
    "work_plan": ("approve_work_plan", "chen.jing", {"plan_doc": "1号"}),
    "research": ("finish_research", "zhao.hua", {"research_report": "报告"}),
    "opinions_handover": ("hand_over_views", "wang.fang", {}),
    "report_review": ("submit_report", "huang.bo", {}),
    "deliberation": ("deliberate", "chen.jing", {}),
}


def _advancer(url: str, ids: list[int], start, rounds: int, out) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from workflow.errors import Conflict

    store = Store(url)
    wins, conflicts, others = [], 0, []
    start.wait()
    for _ in range(rounds):
        for item_id in ids:
            with store.read() as tx:
                version, state = tx.execute(select(Item.version, Item.state).where(Item.id == item_id)).one()
            if state not in PATH:
                continue
            trigger, actor, fields = PATH[state]
            try:
                service.advance(store, actor, item_id, trigger, T0, fields=fields, expected_version=version,
                                files=chain_files(trigger))
                wins.append((item_id, version))
            except Conflict:
                conflicts += 1
            except Exception as e:  # anything but a conflict is a failure of the test
                others.append(f"{type(e).__name__}: {e}")
    store.dispose()
    out.put((wins, conflicts, others))


def run_advancers(url: str, n_procs=8, n_items=50, rounds=3):
    store = Store(url)
    seed(store)
    with store.transaction() as tx:
        ids = [create_in(tx, store, "wang.fang", template="special_supervision", title=f"并发{i}", now=T0, group="g-env").id
               for i in range(n_items)]
    store.dispose()
    start, out = CTX.Event(), CTX.Queue()
    procs = [CTX.Process(target=_advancer, args=(url, ids[::-1] if k % 2 else ids, start, rounds, out)) for k in range(n_procs)]
    for p in procs:
        p.start()
    time.sleep(0.5)
    start.set()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    wins = [w for r in results for w in r[0]]
    conflicts = sum(r[1] for r in results)
    others = [o for r in results for o in r[2]]
    store = Store(url)
    with store.read() as s:
        versions = dict(s.execute(select(Item.id, Item.version)).all())
        steps = dict(s.execute(select(Step.item_id, func.count()).group_by(Step.item_id)).all())
    store.dispose()
    return ids, wins, conflicts, others, versions, steps


def check_no_lost_update(ids, wins, conflicts, others, versions, steps):
    assert others == [], others[:3]
    assert len(wins) == len(set(wins)), "two processes won the same item version"
    per_item = {i: sum(1 for w, _ in wins if w == i) for i in ids}
    for i in ids:
        assert versions[i] == 1 + per_item[i], f"item {i}: {per_item[i]} wins but version {versions[i]}"
        assert steps[i] == 1 + per_item[i], f"item {i}: {per_item[i]} wins but {steps[i]} steps"
    assert conflicts > 0, "the processes never collided; the test proved nothing"


def check_progress_counted_once_per_move(url: str, ids, wins) -> None:
    """Every winning move added to the same progress_counts row (one group, one day), concurrently: none lost,
    none twice — the counts equal a recount from the steps and the moves that won."""
    store = Store(url)

    def counts():
        with store.read() as tx:
            return sorted(tuple(r) for r in tx.execute(select(
                ProgressCount.unit_id, ProgressCount.template_key, ProgressCount.year, ProgressCount.day,
                ProgressCount.items, ProgressCount.closed, ProgressCount.on_time, ProgressCount.late_workdays)))
    kept = counts()
    assert sum(r[4] for r in kept) == len(ids) and sum(r[5] for r in kept) == len(wins)
    service.recount_progress(store, "wang.fang", at("2026-01-06 09:00"))
    assert counts() == kept
    store.dispose()


def test_eight_processes_on_a_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    result = run_advancers(url)
    check_no_lost_update(*result)
    check_progress_counted_once_per_move(url, result[0], result[1])


@pytest.mark.postgres
def test_eight_processes_on_postgres():
    url = pg_url_or_skip()
    reset_pg(url)
    result = run_advancers(url)
    check_no_lost_update(*result)
    check_progress_counted_once_per_move(url, result[0], result[1])


# --- sweeping processes, one killed ------------------------------------------------------------

def _sweeper(url: str, start, batch: int) -> None:
    store = Store(url)
    start.wait()
    service.sweep(store, at("2026-01-27 09:00"), batch=batch)
    store.dispose()


def run_sweepers(url: str, n_steps=600, n_procs=4, batch=10):
    store = Store(url)
    seed(store)
    with store.transaction() as tx:
        for i in range(n_steps):
            create_in(tx, store, "wang.fang", template="special_supervision", title=f"逾期{i}", now=T0, group="g-env")
    start = CTX.Event()
    procs = [CTX.Process(target=_sweeper, args=(url, start, batch)) for _ in range(n_procs)]
    for p in procs:
        p.start()
    time.sleep(1.0)
    start.set()
    victim = procs[0]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill it once real work is under way
        with store.read() as s:
            done = s.execute(select(func.count()).select_from(Escalation)).scalar_one()
        if done >= n_steps // 4:
            break
        time.sleep(0.02)
    os.kill(victim.pid, signal.SIGKILL)
    victim.join()
    assert victim.exitcode == -signal.SIGKILL
    restarted = CTX.Process(target=_sweeper, args=(url, start, batch))
    restarted.start()
    for p in procs[1:] + [restarted]:
        p.join(timeout=300)
        assert p.exitcode == 0
    with store.read() as s:
        fired = s.execute(select(Escalation.step_id, func.count()).where(Escalation.status == "fired").group_by(Escalation.step_id)).all()
        per_esc = s.execute(select(Outbox.escalation_id, func.count()).where(Outbox.escalation_id.is_not(None))
                            .group_by(Outbox.escalation_id)).all()
        open_due = s.execute(select(func.count()).select_from(Step).where(Step.next_escalation_at <= at("2026-01-27 09:00"))).scalar_one()
        per_rung = notices_per_rung(s)
    store.dispose()
    assert len(fired) == n_steps, f"{len(fired)} of {n_steps} steps escalated"
    assert all(n == 1 for _, n in fired)
    assert len(per_esc) == n_steps and all(n == 1 for _, n in per_esc)  # one message: To the owner, Cc the group lead
    assert open_due == 0
    check_each_rung_told_each_person_once(per_rung, n_steps)
    check_slips_numbered_without_gaps(url, n_steps)


def check_slips_numbered_without_gaps(url: str, n: int) -> None:
    """However many sweepers raced (and one died), the year's 督办单 are numbered 1..n, each once."""
    store = Store(url)
    with store.read() as s:
        slips = [r for (r,) in s.execute(select(Escalation.slip_no).where(Escalation.status == "fired"))]
    store.dispose()
    numbers = sorted(int(x.split("第")[1].rstrip("号")) for x in slips)
    assert numbers == list(range(1, n + 1)), numbers[:10]


def notices_per_rung(tx):
    """(step, rung, address) → times the address was among a message's To or Cc, over every escalation's e-mails."""
    rows = tx.execute(select(Escalation.step_id, Escalation.rung, Outbox.recipients)
                      .join(Outbox, Outbox.escalation_id == Escalation.id).where(Outbox.channel == "email")).all()
    out: dict = {}
    for step, rung, readers in rows:
        for _name, addr, _role in readers["to"] + readers["cc"]:
            out[(step, rung, addr)] = out.get((step, rung, addr), 0) + 1
    return out


def check_each_rung_told_each_person_once(per_rung: dict, n_steps: int) -> None:
    twice = {k: n for k, n in per_rung.items() if n != 1}
    assert twice == {}, f"told more than once: {list(twice.items())[:5]}"
    steps_told = {(step, rung) for step, rung, _p in per_rung}
    assert len(steps_told) == n_steps, f"{len(steps_told)} (step, rung) pairs told, {n_steps} expected"
    assert len(per_rung) == 2 * n_steps  # the owner and the group lead of each step


def _sweeper_that_stops_inside(url: str, flag: str) -> None:
    """Sweep, but stop for good inside the transaction, after claiming its rungs and queuing their notices."""
    from workflow.store import outbox

    real = outbox.queue

    def queue_then_hang(tx, rows):
        real(tx, rows)
        Path(flag).write_text("inside")
        time.sleep(600)  # killed here, with claims, notices and events written but not committed

    outbox.queue = queue_then_hang
    service.sweep(Store(url), at("2026-01-27 09:00"), batch=1000)


def run_killed_inside(url: str, tmp_path: Path, n_steps: int = 40) -> None:
    store = Store(url)
    seed(store)
    with store.transaction() as tx:
        for i in range(n_steps):
            create_in(tx, store, "wang.fang", template="special_supervision", title=f"逾期{i}", now=T0, group="g-env")
    flag = tmp_path / "inside"
    victim = CTX.Process(target=_sweeper_that_stops_inside, args=(url, str(flag)))
    victim.start()
    deadline = time.monotonic() + 60
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert flag.exists(), "the sweeper never got inside its transaction"
    os.kill(victim.pid, signal.SIGKILL)
    victim.join()
    with store.read() as s:  # nothing of the killed transaction is visible
        assert s.execute(select(func.count()).select_from(Escalation)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(Outbox).where(Outbox.escalation_id.is_not(None))).scalar_one() == 0
    r = service.sweep(store, at("2026-01-27 09:00"))  # its lock went with it: the next sweep does the work, once
    assert r.fired == n_steps
    assert service.sweep(store, at("2026-01-27 09:00")).fired == 0
    with store.read() as s:
        check_each_rung_told_each_person_once(notices_per_rung(s), n_steps)
    check_slips_numbered_without_gaps(url, n_steps)  # the killed sweeper's numbers were given back
    assert service.verify_audit(store).ok
    store.dispose()


def test_a_sweeper_killed_inside_its_transaction_sqlite(tmp_path):
    run_killed_inside(f"sqlite:///{tmp_path / 'inside.db'}", tmp_path)


@pytest.mark.postgres
def test_a_sweeper_killed_inside_its_transaction_postgres(tmp_path):
    url = pg_url_or_skip()
    reset_pg(url)
    run_killed_inside(url, tmp_path)


def test_four_sweepers_one_killed_sqlite(tmp_path):
    run_sweepers(f"sqlite:///{tmp_path / 'sweep.db'}")


@pytest.mark.postgres
def test_four_sweepers_one_killed_postgres():
    url = pg_url_or_skip()
    reset_pg(url)
    run_sweepers(url)
