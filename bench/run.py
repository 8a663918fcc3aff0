"""Benchmarks, side by side in one run: `python bench/run.py [--items N] [--sweep-sizes 100000,1000000] ...`.

Prints a table of figures, ratios and targets for SQLite and, when WUZHUAN_BENCH_PG_URL (or
WUZHUAN_TEST_PG_URL) is set, PostgreSQL. The PostgreSQL database's public schema is dropped and
recreated. See docs/performance.md for the last run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import chain, compare, lateness, scale  # noqa: E402


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, what: str, value: str, target: str = "", verdict: str = "") -> None:
        self.rows.append((what, value, target, verdict))
        print(f"  {what:<58} {value:>26}  {target:<22} {verdict}", flush=True)

    def markdown(self) -> str:
        out = ["| measure | value | target | |", "|---|---:|---|---|"]
        out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self.rows]
        return "\n".join(out)


def ok(cond: bool) -> str:
    return "met" if cond else "MISSED"


def backend_section(t: Table, name: str, url: str, args, work: Path) -> dict:
    res: dict = {}
    print(f"\n[{name}] full chain, {args.items} items × {len(chain.CHAIN)} steps, best of {args.repeat} (interleaved)", flush=True)
    runs: dict[str, list[dict]] = {"engine": [], "floor": [], "spiff": []}
    for _ in range(args.repeat):  # engine, floor and SpiffWorkflow take turns, so a slow spell hits all three
        store = scale.fresh_store(url)
        base = scale.sqlite_size(Path(url.removeprefix("sqlite:///"))) if name == "sqlite" else scale.pg_size(store)
        runs["engine"].append(chain.engine_chain(store, args.items))
        store.dispose()
        if name == "sqlite":
            runs["floor"].append(chain.floor_chain(work / "floor.db", args.items))
            spiff = chain.spiff_chain(work / "spiff.db", args.items)
            if spiff:
                runs["spiff"].append(spiff)

    def best(kind: str) -> dict:
        return max(runs[kind], key=lambda r: r["steps"] / r["seconds"])

    eng = best("engine")
    eng_rate = eng["steps"] / eng["seconds"]
    t.add(f"{name}: engine steps/s (reload + advance, 1 tx/step)", f"{eng_rate:,.0f}")
    if name == "sqlite":
        size = scale.sqlite_size(Path(url.removeprefix("sqlite:///")))
    else:
        store = scale.Store(url)
        size = scale.pg_size(store)
        store.dispose()
    per_item = (size - base) / args.items
    t.add(f"{name}: bytes per finished item (rows + indexes + audit)", f"{per_item:,.0f}")  # reported; its old target retired
    res.update(engine_steps_per_s=eng_rate, bytes_per_item=per_item,
               engine_runs=[r["steps"] / r["seconds"] for r in runs["engine"]])
    if name == "sqlite":
        floor = best("floor")
        cost = chain.statement_cost(work / "stmt.db")
        t.add("sqlite: one prepared SELECT, sqlite3 / SQLAlchemy Core", f"{cost['raw_us']:.1f} µs / {cost['core_us']:.1f} µs")
        floor_rate = floor["steps"] / floor["seconds"]
        t.add("sqlite: plain sqlite3 floor steps/s (same rows)", f"{floor_rate:,.0f}")
        t.add("sqlite: plain sqlite3 floor bytes per finished item (same rows)", f"{floor['bytes'] / args.items:,.0f}")
        t.add("sqlite: engine / floor time per step", f"{floor_rate / eng_rate:.1f}×", "≤ 4×", ok(floor_rate / eng_rate <= 4))
        commit_us = floor["commit_seconds"] / floor["steps"] * 1e6
        t.add("sqlite: floor's COMMIT alone, per step", f"{commit_us:.0f} µs ({commit_us * floor_rate / 1e4:.0f}% of its step)")
        eng_tables = chain.bytes_by_table(Path(url.removeprefix("sqlite:///")), args.items)
        for label, tables in (("engine", eng_tables), ("floor", floor["bytes_by_table"])):
            top = ", ".join(f"{k} {v / 1024:.1f}" for k, v in list(tables.items())[:4])
            t.add(f"sqlite: {label} KB per item by table (with its indexes)", top or "(no dbstat)")
        res.update(floor_runs=[r["steps"] / r["seconds"] for r in runs["floor"]])
        if runs["spiff"]:
            spiff = best("spiff")
            spiff_rate = spiff["steps"] / spiff["seconds"]
            t.add("sqlite: SpiffWorkflow steps/s (BPMN, serializer)", f"{spiff_rate:,.0f}")
            t.add("sqlite: engine speed / SpiffWorkflow speed", f"{eng_rate / spiff_rate:.1f}×")  # reported; old target retired
            t.add("sqlite: SpiffWorkflow bytes per item (state only)", f"{spiff['bytes'] / args.items:,.0f}")
            res.update(spiff_steps_per_s=spiff_rate, spiff_runs=[r["steps"] / r["seconds"] for r in runs["spiff"]])
        else:
            t.add("sqlite: SpiffWorkflow", "not installed: pip install -e '.[bench]'")
        res.update(floor_steps_per_s=floor_rate)

    print(f"\n[{name}] sweep over open items, {args.due:,} rungs due", flush=True)
    sweeps = {}
    for n in args.sweep_sizes:
        store = scale.fresh_store(url)
        t0 = time.perf_counter()
        scale.bulk_load(store, n, args.due)
        store.dispose()
        print(f"  (loaded {n:,} open items in {time.perf_counter() - t0:.0f} s)", flush=True)
        r = scale.timed_sweep(url)
        assert r["counts"].get("fired") == args.due, r
        sweeps[n] = r
        t.add(f"{name}: sweep, {n:,} open / {args.due:,} due", f"{r['seconds']:.2f} s, {args.due / r['seconds']:,.0f} rungs/s",
              "≥ 5,000 rungs/s", ok(args.due / r["seconds"] >= 5000))
        t.add(f"{name}: sweep peak own memory (anonymous), {n:,} open", f"{r['own_mb']:.0f} MB (RSS {r['maxrss_mb']:.0f} MB, "
              "with the database file's memory map)", "< 200 MB", ok(r["own_mb"] < 200))
    if len(sweeps) == 2:
        small, big = sorted(sweeps)
        ratio = sweeps[big]["seconds"] / sweeps[small]["seconds"]
        t.add(f"{name}: sweep time {big:,} / {small:,}", f"{ratio:.2f}", "≤ 1.3", ok(ratio <= 1.3))
        res.update(sweep_ratio=ratio)
    res["sweeps"] = {str(k): v for k, v in sweeps.items()}

    print(f"\n[{name}] red list, {args.red_open:,} open items, {args.red_late:,} late", flush=True)
    store = scale.fresh_store(url)
    scale.bulk_load(store, args.red_open, 0, late_lights=args.red_late)
    r = scale.red_list(store, args.red_late)
    store.dispose()
    assert r["rows"] == args.red_late, r
    t.add(f"{name}: items list --light red ({args.red_late:,} of {args.red_open:,})", f"{r['seconds'] * 1000:.0f} ms")
    res["red_list_s"] = r["seconds"]

    print(f"\n[{name}] lateness, {args.lateness_rungs:,} rungs falling due over {args.window:.0f} s, tick {args.tick:.0f} s", flush=True)
    lat = lateness.measure(url, args.lateness_rungs, args.window, args.tick)
    t.add(f"{name}: lateness p50 / p99 (recorded − due)", f"{lat['p50']:.2f} s / {lat['p99']:.2f} s",
          f"p99 ≤ {args.tick + 1:.0f} s", ok(lat["p99"] <= args.tick + 1 and lat["rungs"] == lat["expected"]))
    res["lateness"] = lat
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=200, help="items through the full chain (default 200)")
    ap.add_argument("--repeat", type=int, default=3, help="full-chain runs of each kind; the best counts (default 3)")
    ap.add_argument("--sweep-sizes", default="100000,1000000", help="open items for the sweep (default 100000,1000000)")
    ap.add_argument("--due", type=int, default=10_000, help="rungs due in the sweep (default 10000)")
    ap.add_argument("--red-open", type=int, default=100_000)
    ap.add_argument("--red-late", type=int, default=1_000)
    ap.add_argument("--lateness-rungs", type=int, default=10_000)
    ap.add_argument("--window", type=float, default=20.0, help="seconds over which the lateness rungs fall due")
    ap.add_argument("--tick", type=float, default=1.0, help="scheduler sweep interval for the lateness run")
    ap.add_argument("--cli-items", type=int, default=10_000)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--baseline", metavar="REV", nargs="?", const=compare.BASELINE,
                    help=f"also run this commit and REV interleaved, best of --baseline-repeat (default REV {compare.BASELINE})")
    ap.add_argument("--baseline-repeat", type=int, default=5)
    ap.add_argument("--json", metavar="FILE", help="also write all figures as JSON")
    ap.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    args = ap.parse_args()
    args.sweep_sizes = [int(x) for x in args.sweep_sizes.split(",") if x]
    started = time.perf_counter()
    t = Table()
    results: dict = {"machine": f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs"}
    print(f"wuzhuan benchmarks — {results['machine']}")
    with tempfile.TemporaryDirectory(prefix="wuzhuan-bench-") as tmp:
        work = Path(tmp)
        print("\n[engine-independent]", flush=True)
        rate = scale.due_computations()
        t.add("due-time computations/s (workdays, days, months)", f"{rate:,.0f}")
        rate = scale.notices_rendered()
        t.add("notices rendered/s (subject + text + HTML)", f"{rate:,.0f}")
        results.update(due_per_s=rate)
        url = f"sqlite:///{work / 'cli.db'}"
        store = scale.fresh_store(url)
        scale.bulk_load(store, args.cli_items, 0)
        store.dispose()
        c = scale.cli_start(url)
        t.add("CLI: python -c 'import click'", f"{c['click'] * 1000:.0f} ms")
        t.add("CLI: wuzhuan --help", f"{c['help'] * 1000:.0f} ms ({c['help'] / c['click']:.1f}×)", "≤ 2× import click",
              ok(c["help"] <= 2 * c["click"]))
        t.add(f"CLI: wuzhuan items list --json ({args.cli_items:,} items)", f"{c['list'] * 1000:.0f} ms")
        results["cli"] = c
        if args.baseline:
            print(f"\n[against {args.baseline}] full chain interleaved, best of {args.baseline_repeat}", flush=True)
            b = compare.compare(args.baseline, args.baseline_repeat, args.items, instructions=True)
            m = b["ms_per_move"]
            t.add(f"sqlite: engine per move, baseline {args.baseline}", f"{m['baseline']:.3f} ms")
            t.add("sqlite: engine per move, this checkout", f"{m['current']:.3f} ms ({b['current_over_baseline']:.2f}×)",
                  "≤ 1.15× baseline", ok(b["current_over_baseline"] <= 1.15))
            t.add("sqlite: this checkout / plain sqlite3 floor (same run)", f"{b['current_over_floor']:.2f}×", "≤ 4×",
                  ok(b["current_over_floor"] <= 4))
            cs = b["cli_show_s"]
            t.add("CLI: cold `items show 1 --json`, baseline / this checkout", f"{cs['baseline'] * 1000:.0f} / {cs['current'] * 1000:.0f} ms")
            ins = b["cli_show_instructions"]
            if ins.get("baseline") and ins.get("current"):
                t.add("CLI: the same, instructions (valgrind), baseline / this checkout",
                      f"{ins['baseline'] / 1e9:.3f} / {ins['current'] / 1e9:.3f} G", "no more", ok(ins["current"] <= ins["baseline"]))
            results["baseline"] = b
        results["sqlite"] = backend_section(t, "sqlite", f"sqlite:///{work / 'bench.db'}", args, work)
        pg = os.environ.get("WUZHUAN_BENCH_PG_URL") or os.environ.get("WUZHUAN_TEST_PG_URL")
        if pg and not args.no_postgres:
            results["postgres"] = backend_section(t, "postgres", pg, args, work)
        else:
            print("\n(PostgreSQL skipped: set WUZHUAN_BENCH_PG_URL to include it)")
    total = time.perf_counter() - started
    print(f"\ntotal {total:.0f} s")
    results["total_seconds"] = total
    results["table"] = t.rows
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    if args.markdown:
        Path(args.markdown).write_text(t.markdown() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
