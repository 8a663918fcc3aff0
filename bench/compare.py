"""This checkout against an earlier commit, interleaved in one run: engine time per move, the floor, CLI start.

    python bench/compare.py [--baseline REV] [--repeat 5] [--items 200]

The baseline is checked out into a temporary git worktree and each run happens in a child process
whose `sys.path` starts with that checkout (or this one), so both import their own `workflow`. The
runs alternate baseline, current, floor, so a slow spell of the machine hits all three; the best
run of each counts. `bench/run.py --baseline REV` includes the same rows in its table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "b2f8137"  # the last commit before the service layer (the authority issue)

# Runs inside the child, from the checkout under test: the full chain, as bench/chain.py does, on
# whichever API that checkout has (the service layer, or the modules before it).
CHILD = r'''
import json, sys, tempfile, time
from datetime import UTC, datetime, timedelta
from pathlib import Path
root = Path(sys.argv[1]); n = int(sys.argv[2])
sys.path.insert(0, str(root))
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
PEOPLE = root / "workflow" / "demo_people.yaml"
CHAIN = [("propose", "wang.fang", {"topic": "大气污染防治法实施情况", "source": "社会关注"}),
         ("adopt_plan", "li.ming", {"meeting_date": "2026-06-25"}), ("approve_work_plan", "chen.jing", {"plan_doc": "3号"}),
         ("finish_research", "zhao.hua", {"research_report": "调研报告"}), ("hand_over_views", "wang.fang", {}),
         ("submit_report", "huang.bo", {}), ("deliberate", "chen.jing", {}), ("draft_opinions", "chen.jing", {"opinions": "审议意见"}),
         ("hand_over_opinions", "wang.fang", {"departments": "市生态环境局"}), ("finish_rectification", "huang.bo", {}),
         ("submit_rectification_report", "huang.bo", {"rectification_report": "整改报告"}), ("record_vote", "chen.jing", {"vote": "满意"}),
         ("close_follow_up", "zhao.hua", {}), ("publish", "wang.fang", {"publication_url": "http://rd.example/1"})]
if "report_revision" in (root / "definitions" / "special_supervision.yaml").read_text("utf-8"):
    # the chain revised by issue 15 (Art.15's three deadlines, the 主任会议's steps, a counted vote): more moves, compared per move
    CHAIN = (CHAIN[:6] + [("submit_revised_report", "huang.bo", {"report_doc": "修改稿"}), ("circulate_report", "wang.fang", {}),
                          ("deliberate", "chen.jing", {}), ("draft_opinions", "chen.jing", {"opinions": "审议意见"}),
                          ("pass_opinions", "li.ming", {}), CHAIN[8], CHAIN[9], CHAIN[10], ("refer_to_committee", "li.ming", {}),
                          ("record_vote", "chen.jing", {"members_total": 50, "votes_for": 40, "votes_against": 10}),
                          ("close_follow_up", "zhao.hua", {}), ("notify_deputies", "wang.fang", {"published_docs": "审议意见"}),
                          CHAIN[13]])
FILES = {}
if "report_file" in (root / "definitions" / "special_supervision.yaml").read_text("utf-8"):
    # issue 27: the report, the opinions and the rectification report are documents the moves require
    import io
    PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    FILES = {"submit_report": ("report_file",), "hand_over_opinions": ("opinions_file",),
             "submit_rectification_report": ("rectification_file", "evidence")}
def files_for(trigger):
    names = FILES.get(trigger)
    return {f: [(f + ".pdf", io.BytesIO(PDF))] for f in names} if names else None
with tempfile.TemporaryDirectory() as d:
    url = f"sqlite:///{d}/chain.db"
    try:
        from workflow import service, templates
        from workflow.service.items import create_in
        from workflow.store import Store
        store = Store(url)
        service.import_people(store, None, PEOPLE, T0)
        for p in templates.builtin_paths():
            service.publish(store, "wang.fang", p, T0)
        with store.transaction() as tx:
            ids = [create_in(tx, store, "wang.fang", template="special_supervision", title=f"专项{i}", now=T0, group="g-env").id
                   for i in range(n)]
        version = service.current_version
        advance = lambda item, trigger, actor, now, fields, v: service.advance(store, actor, item, trigger, now, fields=fields, expected_version=v,
                                                                               **({'files': files_for(trigger)} if FILES else {}))
    except ImportError:
        from workflow import items, people, registry
        from workflow.db import Store
        store = Store(url)
        with store.transaction() as s:
            for p in registry.builtin_paths():
                registry.publish(s, p, "admin", T0)
            people.import_people(s, PEOPLE, "admin", T0)
        with store.transaction() as s:
            ids = [items.create_in(s, template="special_supervision", title=f"专项{i}", actor="wang.fang", now=T0, group="g-env")
                   for i in range(n)]
        version = items.current_version
        advance = lambda item, trigger, actor, now, fields, v: items.advance(store, item, trigger, actor, now, fields=fields, expected_version=v)
    steps, start = 0, time.perf_counter()
    for k, (trigger, actor, fields) in enumerate(CHAIN):
        now = T0 + timedelta(hours=k + 1)
        for item in ids:
            advance(item, trigger, actor, now, fields, version(store, item))
            steps += 1
    seconds = time.perf_counter() - start
    store.dispose()
print(json.dumps({"steps": steps, "seconds": seconds}))
'''


def worktree(rev: str, into: Path) -> Path:
    """A checkout of `rev` in a folder of its own (a detached git worktree, removed afterwards by the caller)."""
    subprocess.run(["git", "worktree", "add", "--detach", "--force", str(into), rev], cwd=ROOT, check=True,
                   capture_output=True)
    return into


def chain_run(checkout: Path, items: int) -> float:
    """Seconds per move of the full chain, measured in a child process importing `checkout`'s workflow."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(checkout), str(items)], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return r["seconds"] / r["steps"]


def floor_run(items: int) -> float:
    sys.path.insert(0, str(ROOT))
    from bench import chain

    with tempfile.TemporaryDirectory() as d:
        r = chain.floor_chain(Path(d) / "floor.db", items)
    return r["seconds"] / r["steps"]


def _show_command(checkout: Path, db_url: str) -> list[str]:
    """A cold `wuzhuan items show 1 --json` as the installed entry point runs it (cli imported, from its .pyc)."""
    argv = ["wuzhuan", "--db", db_url, "items", "show", "1", "--json", "--now", "2026-05-01T09:00"]
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(checkout)!r}); sys.argv = {argv!r}; "
                                  "import cli; cli.main()"]


def cli_start(checkout: Path, db_url: str, runs: int) -> float:
    """Median seconds of a cold `items show 1 --json` (a read command) from `checkout`."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(_show_command(checkout, db_url), capture_output=True, check=True, cwd=checkout)
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def cli_instructions(checkout: Path, db_url: str) -> int | None:
    """Instructions of the same cold command, counted by valgrind (repeatable where wall time is not); None without it."""
    import shutil

    if shutil.which("valgrind") is None:
        return None
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + _show_command(checkout, db_url),
                         capture_output=True, text=True, cwd=checkout, env={**__import__("os").environ, "PYTHONHASHSEED": "0"})
    for line in out.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1])
    return None


def _demo_db(checkout: Path, where: Path) -> str:
    subprocess.run([sys.executable, str(checkout / "cli.py"), "demo", "--dir", str(where)], capture_output=True, check=True,
                   cwd=checkout)
    return f"sqlite:///{where / 'wuzhuan.db'}"


def compare(baseline: str = BASELINE, repeat: int = 5, items: int = 200, cli_runs: int = 9,
            instructions: bool = False) -> dict:
    """Interleaved runs; the best of each. Returns ms per move for baseline, current and floor, and CLI starts."""
    runs: dict[str, list[float]] = {"baseline": [], "current": [], "floor": []}
    with tempfile.TemporaryDirectory(prefix="wuzhuan-baseline-") as tmp:
        base = worktree(baseline, Path(tmp) / "baseline")
        try:
            for i in range(repeat):
                runs["baseline"].append(chain_run(base, items))
                runs["current"].append(chain_run(ROOT, items))
                runs["floor"].append(floor_run(items))
                print(f"  run {i + 1}/{repeat}: baseline {runs['baseline'][-1] * 1e3:.3f} ms, current "
                      f"{runs['current'][-1] * 1e3:.3f} ms, floor {runs['floor'][-1] * 1e3:.3f} ms a move", flush=True)
            base_db, cur_db = _demo_db(base, Path(tmp) / "demo-base"), _demo_db(ROOT, Path(tmp) / "demo-cur")
            starts = {"baseline": [], "current": []}
            for checkout, db in ((base, base_db), (ROOT, cur_db)):  # compile the .pyc files first, as an installed copy has
                subprocess.run(_show_command(checkout, db), capture_output=True, cwd=checkout)
            for _ in range(3):  # interleaved too
                starts["baseline"].append(cli_start(base, base_db, cli_runs))
                starts["current"].append(cli_start(ROOT, cur_db, cli_runs))
            counted = {"baseline": cli_instructions(base, base_db), "current": cli_instructions(ROOT, cur_db)} if instructions else {}
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, capture_output=True)
    best = {k: min(v) for k, v in runs.items()}
    return {"baseline_rev": baseline, "repeat": repeat, "items": items,
            "ms_per_move": {k: v * 1e3 for k, v in best.items()},
            "runs_ms": {k: [x * 1e3 for x in v] for k, v in runs.items()},
            "current_over_baseline": best["current"] / best["baseline"],
            "current_over_floor": best["current"] / best["floor"],
            "cli_show_s": {k: min(v) for k, v in starts.items()}, "cli_show_instructions": counted}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default=BASELINE, help=f"the commit to compare with (default {BASELINE})")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--instructions", action="store_true", help="also count the cold read command's instructions (valgrind)")
    args = ap.parse_args()
    r = compare(args.baseline, args.repeat, args.items, instructions=args.instructions)
    m = r["ms_per_move"]
    print(f"\nbest of {args.repeat}, {args.items} items × 14 moves, interleaved:")
    print(f"  baseline {args.baseline}: {m['baseline']:.3f} ms a move")
    print(f"  current:            {m['current']:.3f} ms a move  ({r['current_over_baseline']:.2f}× the baseline; target ≤ 1.15×)")
    print(f"  floor (sqlite3):    {m['floor']:.3f} ms a move  (current {r['current_over_floor']:.2f}× the floor; target ≤ 3×)")
    c = r["cli_show_s"]
    print(f"  cold `items show 1 --json`: baseline {c['baseline'] * 1e3:.0f} ms, current {c['current'] * 1e3:.0f} ms")
    n = r["cli_show_instructions"]
    if n.get("baseline") and n.get("current"):
        print(f"  the same, instructions (valgrind): baseline {n['baseline'] / 1e9:.3f} G, current {n['current'] / 1e9:.3f} G "
              f"({n['current'] / n['baseline']:.2f}×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
