"""The board, the 台账 and their targets (issue 13): `python bench/reports.py [--items 100000] [--repeat 3]`.

A database with the demo's directory (five supervision groups) and --items special supervision items with full
histories is made by a bulk loader (the rows the engine would have written, inserted directly — not 1.4 million
moves): each item walks the template's main line from 选题立项 for 1 to 21 steps, each step lasting 2–60 days
against a 20-day deadline, its satisfaction votes 满意 or 不满意, a tenth of the items archived. Then, best of
--repeat:

- the board as of 2026-12-31 (`service.board`), against one hand-written SQL aggregate over the same rows
  (the judged and on-time steps per group: the heart of 比进度);
- the ledger as CSV (`service.ledger` + the CSV writer), and as xlsx (openpyxl's write-only mode) against
  openpyxl writing the same cells alone.

SQLite always; PostgreSQL when WUZHUAN_BENCH_PG_URL (or WUZHUAN_TEST_PG_URL) is set — its public schema is
dropped. Prints the figures and the ratios; --markdown FILE writes them as a table.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workflow import ledger_render, service, templates  # noqa: E402
from workflow.calendar import TZ, build_calendar  # noqa: E402
from workflow.store import Store, progress  # noqa: E402
from workflow.store import calendar as calendar_store  # noqa: E402
from workflow.store.models import Item, Step, TemplateVersion  # noqa: E402

PEOPLE = ROOT / "workflow" / "demo_people.yaml"
AS_OF = "2026-12-31"
HAND_SQL = """
SELECT i.group_unit_id, count(*) AS judged,
       sum(CASE WHEN s.left_at IS NOT NULL AND s.left_at < :cut AND s.left_at <= s.due_at THEN 1 ELSE 0 END) AS on_time
FROM steps s JOIN items i ON i.id = s.item_id
WHERE i.template_key = 'special_supervision' AND i.created_at >= :start AND i.created_at < :cut
  AND s.due_at IS NOT NULL AND s.entered_at < :cut AND (s.left_at < :cut OR s.due_at < :cut)
GROUP BY i.group_unit_id
"""


def load(store: Store, n: int, chunk: int = 5_000) -> int:
    """n items with their steps, inserted as rows; returns the number of steps."""
    with store.read() as tx:
        tv = tx.execute(select(TemplateVersion.id).where(TemplateVersion.key == "special_supervision")
                        .order_by(TemplateVersion.id.desc())).scalars().first()
        groups = [r[0] for r in tx.execute(text("SELECT id FROM org_units WHERE kind = 'group' ORDER BY code"))]
    defn = service.definition_of_version(store, tv)
    line, moves = [defn.initial], []
    while not defn.states[line[-1]].final:  # the main line: the first transition out of each state that goes on
        t = next(t for t in defn.transitions_from(line[-1]) if t.dest not in line and t.dest != "dropped")
        line.append(t.dest)
        moves.append(t.trigger)
    rng = random.Random(13)
    start = datetime(2026, 1, 2, 1, 0, tzinfo=UTC)
    step_id, total = 0, 0
    with store.engine.begin() as conn:
        for lo in range(1, n + 1, chunk):
            items, steps = [], []
            for i in range(lo, min(lo + chunk, n + 1)):
                created = start + timedelta(days=rng.uniform(0, 180))
                k = rng.randint(1, len(line))
                at = created
                item_steps = []
                for j in range(k):
                    step_id += 1
                    state = line[j]
                    final = defn.states[state].final
                    due = None if final else at + timedelta(days=20)
                    left = None if j == k - 1 and not final else at + timedelta(days=rng.uniform(2, 60)) if not final else at
                    fields = {"vote": rng.choice(["满意", "不满意"])} if state == "satisfaction_vote" and left else {}
                    item_steps.append({"id": step_id, "item_id": i, "seq": j + 1, "state": state, "entered_at": at,
                                       "entered_by": "wang.fang", "entered_via": moves[j - 1] if j else None, "due_at": due,
                                       "due_rule": "进入后20日" if due else None, "provisional": False,
                                       "yellow_at": due - timedelta(days=3) if due else None, "next_escalation_at": None,
                                       "next_rung": 0, "status": "closed" if left else "open", "extra_units": 0,
                                       "left_at": left, "left_by": "wang.fang" if left else None,
                                       "left_via": (moves[j] if j < len(moves) else None) if left and not final else None,
                                       "fields": fields})
                    if left and not final:
                        at = left
                last = item_steps[-1]
                finished = defn.states[last["state"]].final
                items.append({"id": i, "template_version_id": tv, "template_key": "special_supervision",
                              "title": f"专项监督事项{i}", "state": last["state"], "owner_role": defn.states[last["state"]].owner,
                              "version": k, "fields": {"topic": f"议题{i}", "source": "社会关注"},
                              "counters": {"unsatisfied_rounds": 0}, "group_unit_id": groups[i % len(groups)],
                              "current_step_id": last["id"], "due_at": last["due_at"], "yellow_at": last["yellow_at"],
                              "created_at": created, "created_by": "wang.fang",
                              "finished_at": last["entered_at"] if finished else None, "updated_at": last["entered_at"]})
                steps += item_steps
            conn.execute(Item.__table__.insert(), items)
            conn.execute(Step.__table__.insert(), steps)
            total += len(steps)
        if conn.dialect.name == "postgresql":
            for table in ("items", "steps"):
                conn.exec_driver_sql(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        conn.exec_driver_sql("ANALYZE")
    t0 = time.perf_counter()
    with store.transaction() as tx:  # rows loaded in bulk: the board's progress counts are counted from them once
        rows = progress.rebuild(tx, build_calendar(calendar_store.days(tx), calendar_store.imported_years(tx)))
    print(f"{store.dialect}: the board's progress counts rebuilt from the steps ({rows:,} rows) in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")
    return total


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def board_parts(store: Store) -> list[tuple[str, float]]:
    """The board's queries one by one (where its time goes), as of AS_OF."""
    from datetime import date

    from workflow import scorecard
    from workflow.service import reports as use
    from workflow.store import reports as q

    card = scorecard.load()
    out = []
    with store.read() as tx:
        defs = use._definitions(tx, card)
        ids = [u[0] for u in q.units_of_kind(tx, card.units)]
        start, cut = use._midnight(date(2026, 1, 1)), use._midnight(date(2027, 1, 1))
        t = list(card.templates)
        order = list(defs[t[0]].states)
        plan = order[order.index(card.plan_state(date(2026, 12, 31))):]
        for what, fn in [
                ("progress counts (steps closed, items)", lambda: progress.totals(tx, ids, t, 2026, date(2026, 12, 31))),
                ("steps open at the cut", lambda: progress.open_at(tx, ids, t, start, cut, ["archived", "dropped"])),
                ("stage reached", lambda: q.reached(tx, ids, t, start, cut, plan)),
                ("votes and 退办", lambda: q.steps_left_by(tx, ids, t, start, cut, list(card.unsatisfied_triggers + card.returned_triggers))),
                ("rectification visits", lambda: q.state_visits(tx, ids, t, start, cut, card.rectification_state)),
                ("attendances", lambda: q.attendances(tx, ids, t, start, cut, date(2026, 1, 1), date(2026, 12, 31)))]:
            t0 = time.perf_counter()
            fn()
            out.append((what, time.perf_counter() - t0))
    return out


def measure(name: str, url: str, n: int, repeat: int, rows: list, parts: bool = False) -> None:
    from bench.chain import reset

    reset(url)
    store = Store(url)
    t0 = time.perf_counter()
    service.import_people(store, None, PEOPLE, datetime(2025, 12, 1, tzinfo=UTC))
    for p in templates.builtin_paths():
        service.publish(store, "wang.fang", p, datetime(2025, 12, 1, tzinfo=UTC))
    steps = load(store, n)
    print(f"{name}: loaded {n:,} items and {steps:,} steps in {time.perf_counter() - t0:.0f} s", flush=True)
    cut = datetime(2027, 1, 1, tzinfo=TZ)
    start = datetime(2026, 1, 1, tzinfo=TZ)
    board_s, board = best(lambda: service.board(store, AS_OF), repeat)

    def hand() -> list:
        with store.engine.connect() as c:
            return c.execute(text(HAND_SQL), {"cut": cut.astimezone(UTC).replace(tzinfo=None),
                                              "start": start.astimezone(UTC).replace(tzinfo=None)}).all()
    sql_s, agg = best(hand, repeat)
    judged = {r.unit: r.judged_steps for r in board.rows}
    assert sum(judged.values()) == sum(r.judged for r in agg), (judged, agg)  # the same rows counted
    if parts:
        for what, seconds in board_parts(store):
            print(f"{name}: {what}: {seconds:.2f} s", flush=True)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    ledger_s, ledger = best(lambda: service.ledger(store, now, "special_supervision"), repeat)

    def as_csv() -> None:
        ledger_render.ledger_csv(service.ledger(store, now, "special_supervision"), io.StringIO())
    csv_s, _ = best(as_csv, repeat)
    cells = [ledger_render.ledger_cells(ledger, r) for r in ledger.rows]
    header = ledger_render.ledger_header(ledger)

    def xlsx() -> None:
        with tempfile.TemporaryDirectory() as d:
            ledger_render.ledger_xlsx(ledger, Path(d) / "l.xlsx")

    def openpyxl_alone() -> None:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("台账")
        ws.append(header)
        for c in cells:
            ws.append(c)
        with tempfile.TemporaryDirectory() as d:
            wb.save(Path(d) / "l.xlsx")
    xlsx_s, _ = best(xlsx, max(1, repeat - 1))
    alone_s, _ = best(openpyxl_alone, max(1, repeat - 1))
    rows += [
        (name, "board over the items (s)", f"{board_s:.2f}", "≤ 2", board_s <= 2),
        (name, "board ÷ one hand-written SQL aggregate", f"{board_s / sql_s:.1f}× ({sql_s:.2f} s)", "≤ 3×", board_s / sql_s <= 3),
        (name, "ledger as CSV (s)", f"{csv_s:.2f} (of which reading {ledger_s:.2f})", "≤ 5", csv_s <= 5),
        (name, "ledger as xlsx ÷ openpyxl alone", f"{xlsx_s / alone_s:.2f}× ({xlsx_s:.1f} s vs {alone_s:.1f} s)", "≤ 1.5×",
         xlsx_s / alone_s <= 1.5),
    ]
    store.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--markdown", metavar="FILE")
    ap.add_argument("--parts", action="store_true", help="also time the board's queries one by one")
    args = ap.parse_args()
    rows: list = []
    with tempfile.TemporaryDirectory() as d:
        measure("SQLite", f"sqlite:///{Path(d) / 'reports.db'}", args.items, args.repeat, rows, args.parts)
    pg = os.environ.get("WUZHUAN_BENCH_PG_URL") or os.environ.get("WUZHUAN_TEST_PG_URL")
    if pg and not args.no_postgres:
        measure("PostgreSQL", pg, args.items, args.repeat, rows, args.parts)
    lines = [f"bench/reports.py --items {args.items} on {platform.node()} ({os.cpu_count()} CPUs), {datetime.now(UTC):%Y-%m-%d}",
             "", "| database | figure | measured | target | |", "|---|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} | {'met' if ok else 'missed'} |" for a, b, c, d, ok in rows]
    print("\n".join(lines))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
