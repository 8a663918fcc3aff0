"""`audit verify` at scale (issue 24): `python bench/audit.py [--items 100000] [--db sqlite:///PATH]`.

The database is made by the engine itself — the demo's directory, then --items special supervision items
created and moved 0 to 4 steps along the chain by the use cases (`service.create_item`, `service.advance`),
so that the trail accounts for every row, exactly as a real one would. Building 100,000 items takes about
ten minutes; an existing database given with --db and --reuse is verified as it is.

Then `audit verify` runs in a process of its own, three times: its wall time, the events and items per
second, and the process's own memory at its peak (unique set size, from /proc; RSS beside it counts the
pages of the database file the memory map shares). Target: ≤ 60 s and < 300 MB on SQLite at 100,000 items.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.memory import run_measured  # noqa: E402
from workflow import service, templates  # noqa: E402
from workflow.config import Settings  # noqa: E402
from workflow.store import Store  # noqa: E402

GROUPS = ["g-env", "g-budget", "g-edu", "g-rural", "g-elderly"]
LEADS = {"g-env": "zhao.hua", "g-budget": "qian.jun", "g-edu": "sun.li", "g-rural": "zhou.qiang", "g-elderly": "wu.min"}
COMMITTEES = {"g-env": "chen.jing", "g-budget": "lin.tao", "g-edu": "he.yan", "g-rural": "guo.peng", "g-elderly": "ma.lan"}


def build(url: str, n: int) -> float:
    t0 = time.perf_counter()
    store = Store(url, settings=Settings(clock_simulation=True))
    start = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    service.import_people(store, None, ROOT / "workflow" / "demo_people.yaml", start)
    for p in templates.builtin_paths():
        service.publish(store, "wang.fang", p, start)
    rnd = random.Random(24)
    for i in range(n):
        g = GROUPS[i % 5]
        t = start + timedelta(minutes=i)
        item = service.create_item(store, "wang.fang", template="special_supervision", title=f"专项监督事项 {i}", now=t,
                                   group=g, fields={"urgency": "一般"}).id
        moves = [("propose", "wang.fang", {"topic": f"议题 {i}", "source": "社会关注"}),
                 ("adopt_plan", "li.ming", {"meeting_date": "2026-06-25"}),
                 ("approve_work_plan", COMMITTEES[g], {"plan_doc": f"常办发〔2026〕{i}号"}),
                 ("finish_research", LEADS[g], {"research_report": f"调研报告 {i}"})]
        for k, (trigger, actor, fields) in enumerate(moves[: rnd.randint(0, 4)]):
            service.advance(store, actor, item, trigger, t + timedelta(seconds=k + 1), fields=fields)
        if i % 10_000 == 9_999:
            print(f"  {i + 1:,} items, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    store.dispose()
    return time.perf_counter() - t0


CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from workflow import service
from workflow.store import Store
store = Store(sys.argv[1], readonly=True)
t = time.perf_counter()
r = service.verify_audit(store)
took = time.perf_counter() - t
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({"seconds": took, "ok": r.ok, "events": r.events, "items": r.items, "problem": r.problem,
                  "peak_rss_mb": int(status["VmHWM"].split()[0]) / 1024}))
"""


def verify_once(url: str) -> dict:
    """verify_audit in a fresh process; its own (anonymous) memory's peak read while it runs (bench/memory.py)."""
    out, own = run_measured([sys.executable, "-c", CHILD, url, str(ROOT)])
    return json.loads(out.strip().splitlines()[-1]) | {"peak_own_mb": own}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--db", help="the database (default: a new SQLite file in a temporary folder)")
    ap.add_argument("--reuse", action="store_true", help="verify --db as it is, without building")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp()) / 'audit-bench.db'}"
    if not args.reuse:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        print(f"building {args.items:,} items by the engine in {url} …", file=sys.stderr)
        print(f"built in {build(url, args.items):.0f} s", file=sys.stderr)
    runs = [verify_once(url) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    print(f"audit verify, {os.uname().nodename}, {url}")
    for r in runs:
        print(f"  {r['seconds']:.1f} s  ok={r['ok']}  {r['events']:,} events ({r['events'] / r['seconds']:,.0f}/s)  "
              f"{r['items']:,} items  own memory {r['peak_own_mb']:.0f} MB (RSS {r['peak_rss_mb']:.0f} MB)")
    print(f"best: {best['seconds']:.1f} s (target ≤ 60 s), own memory {max(r['peak_own_mb'] for r in runs):.0f} MB "
          f"(target < 300 MB)")
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
