"""Many open items: bulk loading, the sweep over them (timed in a child for its peak memory), the red list."""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.memory import run_measured  # noqa: E402
from workflow.store import Store  # noqa: E402
from workflow.store.models import Assignment, Item, Person, Step, TemplateVersion  # noqa: E402

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def bulk_load(store: Store, n_open: int, n_due: int, chunk: int = 20_000, late_lights: int = 0) -> None:
    """n_open open items at topic_selection, of which n_due have their 'blue' rung due at NOW.

    Rows are written with Core executemany; this is benchmark set-up, the items are what the engine
    would have created (a step each, due times, escalation pointers, two role holders on the due ones).
    `late_lights` of the items are overdue by their light (due before NOW) without a rung due.
    """
    with store.read() as s:
        tv = s.execute(select(TemplateVersion.id).where(TemplateVersion.key == "special_supervision")).scalar_one()
        pid = dict(s.execute(select(Person.code, Person.id)).all())
    entered = NOW - timedelta(days=20)
    later = NOW + timedelta(days=30)
    due_past = NOW - timedelta(hours=1)
    rng = random.Random(1)
    due_ids = set(rng.sample(range(1, n_open + 1), n_due))
    late_ids = set(rng.sample(sorted(set(range(1, n_open + 1)) - due_ids), late_lights)) if late_lights else set()
    with store.engine.begin() as conn:
        for lo in range(1, n_open + 1, chunk):
            ids = range(lo, min(lo + chunk, n_open + 1))
            item_rows, step_rows, assign_rows = [], [], []
            for i in ids:
                due = due_past if (i in due_ids or i in late_ids) else later
                item_rows.append({"id": i, "template_version_id": tv, "template_key": "special_supervision", "title": f"专项监督{i}",
                                  "state": "topic_selection", "owner_role": "office", "version": 1, "fields": {}, "counters": {"unsatisfied_rounds": 0},
                                  "current_step_id": i, "due_at": due, "yellow_at": due - timedelta(days=3), "created_at": entered,
                                  "created_by": "wang.fang"})
                step_rows.append({"id": i, "item_id": i, "seq": 1, "state": "topic_selection", "entered_at": entered,
                                  "entered_by": "wang.fang", "due_at": due, "due_rule": "进入后15个工作日", "provisional": False,
                                  "yellow_at": due - timedelta(days=3), "next_escalation_at": due_past if i in due_ids else later + timedelta(days=1),
                                  "next_rung": 1 if i in due_ids else 2 if i in late_ids else 0, "status": "open", "extra_units": 0})
                if i in due_ids:
                    assign_rows += [{"item_id": i, "role": "office", "person_id": pid["wang.fang"], "assigned_at": entered},
                                    {"item_id": i, "role": "group_lead", "person_id": pid["zhao.hua"], "assigned_at": entered}]
            conn.execute(Item.__table__.insert(), item_rows)
            conn.execute(Step.__table__.insert(), step_rows)
            if assign_rows:
                conn.execute(Assignment.__table__.insert(), assign_rows)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval('items_id_seq', (SELECT max(id) FROM items))")
            conn.exec_driver_sql("SELECT setval('steps_id_seq', (SELECT max(id) FROM steps))")
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")


def fresh_store(url: str) -> Store:
    from bench.chain import prepare, reset

    reset(url)
    return prepare(url)


def sweep_child(url: str) -> None:
    """Run in a fresh process: one sweep at NOW; print seconds, counts and peak RSS as JSON."""
    from dataclasses import asdict

    from workflow.service import sweep

    store = Store(url)
    t = time.perf_counter()
    counts = asdict(sweep(store, NOW))
    seconds = time.perf_counter() - t
    store.dispose()
    print(json.dumps({"seconds": seconds, "counts": counts, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def timed_sweep(url: str) -> dict:
    """The sweep in a fresh process: its seconds and counts, its peak RSS and its own (anonymous) memory's peak."""
    out, own = run_measured([sys.executable, __file__, "sweep-child", url], cwd=ROOT)
    return json.loads(out.strip().splitlines()[-1]) | {"own_mb": own}


def red_list(store: Store, n_red: int) -> dict:
    from workflow.service import OPERATOR, list_items

    list_items(store, OPERATOR, NOW, light_is="red", limit=10)  # warm the caches
    t = time.perf_counter()
    rows = list_items(store, OPERATOR, NOW, light_is="red", limit=n_red + 10)
    return {"seconds": time.perf_counter() - t, "rows": len(rows)}


def due_computations(n: int = 50_000) -> float:
    from workflow.calendar import build_calendar, compute_due
    from workflow.definition import Deadline

    cal = build_calendar()
    rng = random.Random(2)
    cases = [(datetime(2024, 1, 1, 2, tzinfo=UTC) + timedelta(days=rng.randrange(1000), hours=rng.randrange(24)),
              Deadline(rng.choice([3, 5, 15, 20]), rng.choice(["workdays", "days", "months"]))) for _ in range(n)]
    t = time.perf_counter()
    for entered, dl in cases:
        compute_due(cal, entered, dl, {})
    return n / (time.perf_counter() - t)


def notices_rendered(n: int = 3000) -> float:
    from notifier.render import render, sample_context

    ctx = sample_context()
    render("duban_red", ctx)
    t = time.perf_counter()
    for i in range(n):
        render(("reminder", "duban_blue", "duban_yellow", "duban_red", "handover")[i % 5], ctx)
    return n / (time.perf_counter() - t)


def cli_start(url: str, runs: int = 7) -> dict:
    exe = Path(sys.executable).parent / "wuzhuan"

    def best(cmd: list[str]) -> float:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, cwd=ROOT)
            times.append(time.perf_counter() - t)
        return sorted(times)[len(times) // 2]

    return {"click": best([sys.executable, "-c", "import click"]), "help": best([str(exe), "--help"]),
            "list": best([str(exe), "--db", url, "items", "list", "--json"])}


def sqlite_size(path: Path) -> int:
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("VACUUM")
    size = con.execute("PRAGMA page_count").fetchone()[0] * con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    return size


def pg_size(store: Store) -> int:
    with store.engine.connect() as c:
        return c.exec_driver_sql(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'").scalar()


if __name__ == "__main__" and sys.argv[1:2] == ["sweep-child"]:
    sweep_child(sys.argv[2])
