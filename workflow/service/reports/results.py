"""The year's results report (成果报告): each item's outcome, with the board beside it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ...calendar import TZ, overdue_workdays
from ...errors import InvalidInput
from ...present import fmt
from ...store import Store, directory
from ...store import items as item_store
from ...store import reports as report_store
from .. import common
from .basis import card_of, midnight
from .board import Board, board_in
from .documents import listed


@dataclass(eq=False)
class ItemResult:
    id: int
    title: str
    group: str
    state: str
    finished: bool
    timeline: list[dict[str, Any]]
    rounds: list[dict[str, Any]]
    activities: list[dict[str, Any]]


@dataclass(eq=False)
class Results:
    year: int
    title: str
    board: Board
    items: list[ItemResult]
    by_kind: dict[str, int]
    by_unit: list[tuple[str, int]]
    by_district: list[tuple[str, int]]
    by_deputy: list[tuple[str, str, str, int]]  # (code, name, district, attendances)
    campaign: dict[str, int]
    generated: str


def results(store: Store, year: int, now: datetime, card_path: str | Path | None = None) -> Results:
    """The year's results report: each item's timeline and rounds, the board at the year's end (or today), participation."""
    card = card_of(card_path)
    common.check_now(now)
    if not 1970 <= year <= 2199:
        raise InvalidInput(f"年份 {year} 超出了 1970–2199 年", parameter="year")
    today = now.astimezone(TZ).date()
    as_of = min(date(year, 12, 31), today) if today.year >= year else date(year, 12, 31)
    with store.read() as tx:
        b = board_in(tx, card, as_of, None)
        cal = common.calendar(tx)
        start, end = midnight(date(year, 1, 1)), midnight(date(year + 1, 1, 1))
        out = []
        for key in card.templates:
            items, steps, groups, _owners = item_store.ledger_rows(tx, key, start, end)
            acts = report_store.activities(tx, [i.id for i in items], year)
            versions = {i.id: i.template_version_id for i in items}
            docs = listed(tx, list(versions), store.settings.base_url,
                          lambda item_id, v=versions: common.definition(tx, v[item_id]))
            by_item: dict[int, list] = {}
            for a in acts:
                by_item.setdefault(a.item_id, []).append(a)
            for it in items:
                defn = common.definition(tx, it.template_version_id)
                rounds = [{"label": common.state_label(tx, defn, it.template_version_id, st.state),
                           "result": (st.fields or {}).get(card.vote_field), "at": fmt(st.left_at)}
                          for st in steps.get(it.id, []) if st.left_via in card.unsatisfied_triggers]
                out.append(ItemResult(
                    it.id, it.title, groups.get(it.group_unit_id, ""),
                    common.state_label(tx, defn, it.template_version_id, it.state), it.finished_at is not None,
                    [{"label": common.state_label(tx, defn, it.template_version_id, st.state), "entered": fmt(st.entered_at),
                      "left": fmt(st.left_at) if st.left_at else "", "due": fmt(st.due_at) if st.due_at else "",
                      "late": overdue_workdays(cal, st.due_at, st.left_at or now) if st.due_at else 0,
                      "documents": [d for d in docs.get(it.id, ()) if d.step_id == st.id]}
                     for st in steps.get(it.id, [])],
                    rounds,
                    [{"kind": a.kind, "day": a.day.isoformat(), "deputies": [n for _c, n in a.deputies], "note": a.note or ""}
                     for a in by_item.get(it.id, [])]))
        acts = report_store.activities(tx, None, year)
        item_units = {i.id: i.group for i in out}
        kinds = Counter(a.kind for a in acts)
        per_unit: Counter = Counter()
        per_deputy: Counter = Counter()
        for a in acts:
            per_unit[item_units.get(a.item_id, "")] += len(a.deputies)
            for code, _n in a.deputies:
                per_deputy[code] += 1
        people = directory.people_by_codes(tx, list(per_deputy))
        districts = directory.district_of(tx, [p.id for p in people.values()])
        by_deputy = sorted(((c, people[c].name, districts.get(people[c].id, ("", "—"))[1], n) for c, n in per_deputy.items()),
                           key=lambda r: (-r[3], r[0]))
        per_district: Counter = Counter()
        for _c, _n, d, n in by_deputy:
            per_district[d] += n
    return Results(year, card.title, b, out, dict(kinds), sorted(((u or "—", n) for u, n in per_unit.items()), key=lambda r: -r[1]),
                   sorted(per_district.items(), key=lambda r: -r[1]), by_deputy, dict(card.campaign), fmt(now))
