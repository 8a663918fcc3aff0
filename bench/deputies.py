"""The deputies' registry at full size: `python bench/deputies.py [--deputies 7695] [--runs 3] [--url URL]`.

Writes a CSV people file of --deputies deputies (the city's 7,695 of five levels: each in a 代表小组 unit, one
mandate a row, one in five with a second level), then times `people import` of it into a database that holds the
demo's directory already — first import of the deputies (all new) and again (all updated) — and `deputies list`.
The issue's target: the import in at most 10 s. Prints seconds per run and the median.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chain import reset  # noqa: E402

from workflow import service  # noqa: E402
from workflow.service import deputies  # noqa: E402
from workflow.store import Store  # noqa: E402

LEVELS = ["national", "provincial", "city", "county", "township"]
SHARE = [30, 200, 600, 2200, 4665]  # about the city's mix: many township and county deputies, few national ones


def write_csv(path: Path, n: int) -> int:
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["person", "name", "email", "unit", "unit_name", "unit_kind", "role", "deputy_level",
                    "deputy_constituency", "deputy_team", "deputy_station", "deputy_term"])
        bounds = [sum(SHARE[:i + 1]) * n // sum(SHARE) for i in range(len(SHARE))]
        for k in range(n):
            level = LEVELS[next(i for i, b in enumerate(bounds) if k < b)]
            code, team = f"d{k:05d}", f"dt{k % 400:03d}"
            base = [code, f"代表{k:05d}", f"{code}@rd.example.gov.cn", team, f"第{k % 400 + 1}代表小组", "deputy", "deputy"]
            w.writerow([*base, level, f"第{k % 60 + 1}选区", f"第{k % 400 + 1}代表小组", f"第{k % 120 + 1}联络站", 17])
            rows += 1
            if k % 5 == 0 and level != "national":
                w.writerow([*base, LEVELS[LEVELS.index(level) - 1], f"第{k % 30 + 1}选区", "", "", 14])
                rows += 1
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deputies", type=int, default=7695)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--url", help="a PostgreSQL URL to use (emptied first); default: a SQLite file")
    args = ap.parse_args()
    firsts, agains, lists = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deputies.csv"
        rows = write_csv(path, args.deputies)
        print(f"{args.deputies} deputies, {rows} rows, {path.stat().st_size / 1e6:.1f} MB")
        for run in range(args.runs):
            url = args.url or f"sqlite:///{tmp}/d{run}.db"
            if args.url:
                reset(args.url)
            store = Store(url)
            now = datetime.now(UTC)
            service.import_people(store, None, ROOT / "workflow" / "demo_people.yaml", now)
            for target in (firsts, agains):
                t = time.perf_counter()
                service.import_people(store, "wang.fang", path, now)
                target.append(time.perf_counter() - t)
            t = time.perf_counter()
            listed = deputies.list_deputies(store, service.OPERATOR)
            lists.append(time.perf_counter() - t)
            assert len(listed) == rows, (len(listed), rows)
            store.dispose()
            print(f"run {run + 1}: import {firsts[-1]:.2f} s (new), {agains[-1]:.2f} s (again); list {lists[-1]:.2f} s")
    print(f"median: import {statistics.median(firsts):.2f} s new, {statistics.median(agains):.2f} s again "
          f"(target ≤ 10 s: {'met' if max(statistics.median(firsts), statistics.median(agains)) <= 10 else 'NOT met'}); "
          f"deputies list {statistics.median(lists):.2f} s")


if __name__ == "__main__":
    main()
