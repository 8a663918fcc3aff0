"""比进度·比创新·比质效: the board of the compared units, their ranks and the 双亮牌; who may read it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ...calendar import EPOCH, Spans
from ...definition import Definition
from ...errors import InvalidInput, NotFound
from ...rows import PersonRow
from ...scorecard import Scorecard
from ...store import Store, Tx, directory
from ...store import progress as progress_store
from ...store import reports as report_store
from ...store import templates as template_store
from .. import common
from ..reads.viewer import Viewer, looked_over
from .basis import COLOUR_CN, NO_DATA, card_of, day_of, midnight


@dataclass(eq=False)
class BoardRow:
    unit: str
    unit_name: str
    items: int
    judged_steps: int
    on_time_steps: int
    on_time_share: float | None
    avg_overdue_workdays: float | None
    lights: dict[str, int]
    on_plan: int
    stage_share: float | None
    vote_rounds: int
    satisfaction: float | None
    votes: dict[str, int]
    rectification_reached: int
    rectified: int
    unsatisfied_rounds: int
    returned: int
    innovation: float | None
    scores: int
    attendances: int
    metrics: dict[str, float | None]  # each metric as points 0–100 (None: no data yet)
    score: float | None  # None: no weighted metric has data (无数据) — neither 0 nor a 红牌, and no rank
    rank: int | None = 0
    previous_rank: int | None = None
    change: int | None = None  # places gained since the previous board (negative: lost)
    colour: str = "yellow"
    colour_label: str = ""


@dataclass(eq=False)
class Board:
    scorecard: str
    title: str
    as_of: str
    previous: str | None
    expected_state: str | None
    expected_label: str | None
    weights: dict[str, int]
    rows: list[BoardRow]
    blue: int
    red: int


def board(store: Store, as_of: str | date, previous: str | date | None = None,
          card_path: str | Path | None = None, orgs: list[int | None] | None = None) -> Board:
    """One row per unit compared (of the organisations `orgs` when given): each metric, the weighted score, rank
    and previous rank, the 双亮牌 colour."""
    card = card_of(card_path)
    day = day_of(as_of, "统计日期（as_of）")
    before = day_of(previous, "对比日期（previous）") if previous is not None else None
    if before is not None and before >= day:
        raise InvalidInput(f"对比日期（{before}）应早于统计日期（{day}）", field="previous", parameter="previous")
    with store.read() as tx:
        return board_in(tx, card, day, before, orgs)


def board_in(tx: Tx, card: Scorecard, day: date, before: date | None, orgs: list[int | None] | None = None) -> Board:
    defs = _definitions(tx, card)
    rows = _rank(card, _rows(tx, card, defs, day, orgs))
    if before is not None:
        earlier = {r.unit: r.rank for r in _rank(card, _rows(tx, card, defs, before, orgs))}
        for r in rows:
            r.previous_rank = earlier.get(r.unit)
            r.change = None if r.previous_rank is None or r.rank is None else r.previous_rank - r.rank
    expected = card.plan_state(day)
    first = defs[card.templates[0]]
    return Board(card.key, card.title, day.isoformat(), before.isoformat() if before else None, expected,
                 first.states[expected].label if expected else None, dict(card.weights), rows, card.blue, card.red)


def _definitions(tx: Tx, card: Scorecard) -> dict[str, Definition]:
    out = {}
    for key in card.templates:
        tv = template_store.latest(tx, key)
        if tv is None:
            raise NotFound(f"scorecard '{card.key}' ({card.source_name}) counts items of template '{key}', which is not published")
        out[key] = common.definition_of(tv)
    for p in card.plan:
        for key, d in out.items():
            if p.state not in d.states:
                raise InvalidInput(f"scorecard '{card.key}' ({card.source_name}): the plan's state '{p.state}' (by {p.by}) "
                                   f"is not a state of template '{key}'")
    return out


def _rows(tx: Tx, card: Scorecard, defs: dict[str, Definition], day: date,
          orgs: list[int | None] | None = None) -> list[BoardRow]:
    by_org = card.org_level is not None  # organisations compared: each item counts for its own 人大
    units = compared(tx, card, orgs)
    ids = [u[0] for u in units]
    start, cut = midnight(date(day.year, 1, 1)), midnight(day + timedelta(days=1))
    templates = list(card.templates)
    finals = sorted({s.name for d in defs.values() for s in d.states.values() if s.final})
    cal = common.calendar(tx)
    # the steps closed by `day` come counted (progress_counts, per unit; per organisation counted from the steps);
    # those still open at the cut are read one by one
    counts: dict[int, Counter] = {u: Counter() for u in ids}
    late: Counter = Counter()
    closed = (progress_store.totals_of_orgs(tx, ids, templates, day.year, day, cal) if by_org
              else progress_store.totals(tx, ids, templates, day.year, day)) if ids else {}
    for unit_id, c in closed.items():
        counts[unit_id].update({"judged": c["closed"], "on_time": c["on_time"], "items": c["items"]})
        late[unit_id] += c["late_workdays"]
    span = Spans(cal)
    cut_day = (cut.date() - EPOCH).days  # an open step is late to the day the cut begins, as overdue_workdays counts
    for unit_id, lit, due_day, n in (progress_store.open_at(tx, ids, templates, start, cut, finals, by_org) if ids else []):
        c = counts[unit_id]
        c[lit] += n
        c["open"] += n
        if due_day is not None:  # judged: due by the cut; working days begun since the due time, to the cut
            c["judged"] += n
            late[unit_id] += n * span(due_day + 1, cut_day)
    first = defs[templates[0]]
    order = list(first.states)
    expected = card.plan_state(day)
    on_plan: Counter = Counter()
    if expected is not None and ids:
        on_plan.update(report_store.reached(tx, ids, templates, start, cut, order[order.index(expected):], by_org))
    planned = {u: counts[u]["items"] for u in ids} if expected is not None else {}
    votes: dict[int, Counter] = {u: Counter() for u in ids}
    voted_items: dict[int, set[int]] = {u: set() for u in ids}
    returned: Counter = Counter()
    left_by = list(dict.fromkeys(card.unsatisfied_triggers + card.returned_triggers))
    for unit_id, item_id, trigger, values in (report_store.steps_left_by(tx, ids, templates, start, cut, left_by, by_org) if ids else []):
        result = values.get(card.vote_field)
        if trigger in card.unsatisfied_triggers and result in card.vote_points:
            votes[unit_id][result] += 1
            voted_items[unit_id].add(item_id)
        if trigger in card.returned_triggers:
            returned[unit_id] += 1
    reached, rectified = Counter(), Counter()
    for unit_id, _item, left in (report_store.state_visits(tx, ids, templates, start, cut, card.rectification_state, by_org)
                                 if ids else []):
        reached[unit_id] += 1
        rectified[unit_id] += left is not None
    given: dict[int, list[int]] = {}
    for unit_id, _c, _n, points, _comment, _at in (() if by_org else report_store.scores(tx, card.key, day.year, cut)):
        given.setdefault(unit_id, []).append(points)  # 比创新 is scored per unit: an organisations' board has none
    attended = report_store.attendances(tx, ids, templates, start, cut, date(day.year, 1, 1), day, by_org) if ids else {}
    most = max(attended.values(), default=0)
    out = []
    for unit_id, code, name in units:
        c = counts[unit_id]
        judged = c["judged"]
        v = votes[unit_id]
        rounds = sum(v.values())
        items = c["items"]
        lights = {"green": c["open"] - c["red"] - c["yellow"], "yellow": c["yellow"], "red": c["red"]}
        avg_late = late[unit_id] / judged if judged else None
        sat = sum(card.vote_points[k] * n for k, n in v.items()) / rounds if rounds else None
        unsatisfied = v.get("不满意", 0)
        metrics: dict[str, float | None] = {
            "on_time": 100 * c["on_time"] / judged if judged else None,
            "overdue": max(0.0, 100 - card.overdue_points_per_day * avg_late) if avg_late is not None else None,
            "lights": 100 * (lights["green"] + 0.5 * lights["yellow"]) / c["open"] if c["open"] else None,
            "stage": 100 * on_plan[unit_id] / planned[unit_id] if planned.get(unit_id) else None,
            "satisfaction": sat,
            "rectified": 100 * rectified[unit_id] / reached[unit_id] if reached[unit_id] else None,
            "unsatisfied": max(0.0, 100 - 100 / 3 * unsatisfied / len(voted_items[unit_id])) if voted_items[unit_id] else None,
            "returned": max(0.0, 100 - 25 * returned[unit_id] / items) if items else None,
            "innovation": sum(given[unit_id]) / len(given[unit_id]) if given.get(unit_id) else None,
            "participation": 100 * attended.get(unit_id, 0) / most if most else None,
        }
        weighted = [(card.weights.get(m, 0), x) for m, x in metrics.items() if x is not None and card.weights.get(m, 0)]
        total = sum(w for w, _x in weighted)
        score = round(sum(w * x for w, x in weighted) / total, 1) if total else None
        out.append(BoardRow(
            unit=code, unit_name=name, items=items, judged_steps=judged, on_time_steps=c["on_time"],
            on_time_share=round(c["on_time"] / judged, 4) if judged else None,
            avg_overdue_workdays=round(avg_late, 2) if avg_late is not None else None, lights=lights,
            on_plan=on_plan[unit_id], stage_share=round(on_plan[unit_id] / planned[unit_id], 4) if planned.get(unit_id) else None,
            vote_rounds=rounds, satisfaction=round(sat, 1) if sat is not None else None, votes=dict(v),
            rectification_reached=reached[unit_id], rectified=rectified[unit_id], unsatisfied_rounds=unsatisfied,
            returned=returned[unit_id], innovation=round(metrics["innovation"], 1) if metrics["innovation"] is not None else None,
            scores=len(given.get(unit_id, [])), attendances=attended.get(unit_id, 0),
            metrics={m: (round(x, 1) if x is not None else None) for m, x in metrics.items()}, score=score))
    return out


def _rank(card: Scorecard, rows: list[BoardRow]) -> list[BoardRow]:
    """Highest score first; equal scores share a rank (1, 2, 2, 4); the 双亮牌 by the scorecard's thresholds. A unit
    with nothing to count yet comes last, unranked, as 无数据."""
    ranked = sorted((r for r in rows if r.score is not None), key=lambda r: (-r.score, r.unit))
    for i, r in enumerate(ranked):
        r.rank = ranked[i - 1].rank if i and ranked[i - 1].score == r.score else i + 1
        r.colour = card.colour(r.score)
        r.colour_label = COLOUR_CN[r.colour]
    empty = sorted((r for r in rows if r.score is None), key=lambda r: r.unit)
    for r in empty:
        r.rank, r.colour, r.colour_label = None, "none", NO_DATA
    return ranked + empty




def board_for(store: Store, viewer: Viewer, as_of: str | date, previous: str | date | None = None,
              card_path: str | Path | None = None) -> Board:
    """The board as the viewer may read it: an office or council member, over the units of his 人大 and of those
    below it (counts only, as the roll-up); the operator, over every unit."""
    with store.read() as tx:
        orgs = looked_over(tx, viewer, "比进度·比创新·比质效")
    return board(store, as_of, previous, card_path, orgs)



def is_evaluator(store: Store, person: PersonRow, card_path: str | Path | None = None) -> bool:
    """Whether the person may score (the workbench shows him the form)."""
    card = card_of(card_path)
    with store.read() as tx:
        return bool(directory.membership_roles(tx, person.id) & set(card.evaluators))


def units_compared(store: Store, card_path: str | Path | None = None) -> list[tuple[str, str]]:
    """(code, name) of the units the scorecard compares."""
    card = card_of(card_path)
    if card.org_level is not None:
        return []  # organisations are compared: nobody scores them (比创新 is per unit)
    with store.read() as tx:
        return [(code, name) for _id, code, name in report_store.units_of_kind(tx, card.units)]


def compared(tx: Tx, card: Scorecard, orgs: list[int | None] | None = None) -> list[tuple[int, str, str]]:
    """(id, code, name) of what the scorecard compares: units of its kind, or organisations of its level (of the
    organisations `orgs` when given)."""
    if card.org_level is not None:
        return report_store.orgs_of_level(tx, card.org_level, orgs)
    return report_store.units_of_kind(tx, card.units, orgs)
