"""Use cases of 比进度·比创新·比质效: activities, scores, the board with ranks and 双亮牌, the 台账, the year's results, the digest."""

from __future__ import annotations

import gc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from .. import authority, notice_data, scorecard
from ..calendar import EPOCH, TZ, Spans, overdue_workdays, parse_date
from ..definition import Definition
from ..errors import InvalidInput, NotFound
from ..present import fmt
from ..rows import PersonRow
from ..scorecard import Scorecard
from ..store import Store, Tx, directory
from ..store import audit as audit_store
from ..store import items as item_store
from ..store import outbox as outbox_store
from ..store import progress as progress_store
from ..store import reports as report_store
from ..store import templates as template_store
from . import common

MAX_NOTE = 500
COLOUR_CN = {"blue": "蓝牌", "yellow": "黄牌", "red": "红牌"}


def card_of(path: str | Path | None) -> Scorecard:
    """The scorecard named (the built-in "251" one by default)."""
    return scorecard.load(path)


def _day(text: str | date, what: str) -> date:
    d = text if isinstance(text, date) else parse_date(text, what)
    if not 1970 <= d.year <= 2199:
        raise InvalidInput(f"{what}: {d} is outside the years 1970–2199")
    return d


def _midnight(d: date) -> datetime:
    """The first moment of a Shanghai day, as an aware datetime."""
    return datetime.combine(d, time(0), TZ)


# --- activities --------------------------------------------------------------------------------

@dataclass
class ActivityAdded:
    id: int
    item: int
    kind: str
    day: str
    deputies: list[str]


def add_activity(store: Store, actor: str, item_id: int, *, kind: str, day: str, deputies: list[str], now: datetime,
                 note: str | None = None, card_path: str | Path | None = None) -> ActivityAdded:
    """Record a deputies' activity on an item (视察, 调研, …) with the deputies who attended: the office or the
    item's group lead; each deputy must be a person holding the `deputy` role in the directory."""
    card = card_of(card_path)
    if kind not in card.activity_kinds:
        raise InvalidInput(f"activity kind '{common.shown(kind)}' is not one of {'、'.join(card.activity_kinds)}")
    when = _day(day, "the activity's date")
    if note is not None:
        note = common.text_in(note, "the note")
        if len(note) > MAX_NOTE:
            raise InvalidInput(f"the note is {len(note)} characters long; at most {MAX_NOTE}")
    codes = list(dict.fromkeys(c.strip() for c in deputies if c.strip()))
    if not codes:
        raise InvalidInput("请列出参加活动的代表", field="deputies", parameter="deputies")

    def work(tx: Tx) -> ActivityAdded:
        who = common.acting(tx, actor)
        item = common.item(tx, item_id)
        defn = common.definition(tx, item.template_version_id)
        holders = item_store.holders(tx, item.id)
        authority.record_activity(defn, who, authority.roles_held(holders, who.id), item.id, holders)
        people = []
        for code in codes:
            p = common.person(tx, code) if common.is_code(code) else None
            if p is None or "deputy" not in directory.membership_roles(tx, p.id):
                raise InvalidInput(f"'{common.shown(code)}' is not a deputy (a person holding the role deputy in the people file)")
            people.append(p)
        aid = report_store.add_activity(tx, item_id=item.id, kind=kind, day=when, note=note,
                                        deputy_ids=[p.id for p in people], at=now, by=who.code)
        audit_store.append(tx, at=now, actor=who.code, kind="activity_added", item_id=item.id, from_state=item.state,
                           to_state=item.state, data={"activity": aid, "kind": kind, "day": when.isoformat(),
                                                      "deputies": [p.code for p in people], "note": note})
        return ActivityAdded(aid, item.id, kind, when.isoformat(), [p.name for p in people])
    return common.guarded(store, actor, now, f"activity {kind}", item_id, work)


# --- scores ------------------------------------------------------------------------------------

@dataclass
class ScoreSet:
    unit: str
    unit_name: str
    year: int
    score: int
    evaluator: str


def set_score(store: Store, actor: str, unit: str, score: int, now: datetime, *, comment: str | None = None,
              year: int | None = None, card_path: str | Path | None = None) -> ScoreSet:
    """An evaluator's 比创新 score (0–100) for a unit in a year, once per evaluator, unit and year; audited."""
    card = card_of(card_path)
    if not isinstance(score, int) or not 0 <= score <= 100:
        raise InvalidInput(f"a score is a whole number from 0 to 100, not {common.shown(str(score))}")
    y = year if year is not None else now.astimezone(TZ).year
    if not 1970 <= y <= 2199:
        raise InvalidInput(f"the year {y} is outside 1970–2199")
    if comment is not None:
        comment = common.text_in(comment, "the comment")
        if len(comment) > MAX_NOTE:
            raise InvalidInput(f"the comment is {len(comment)} characters long; at most {MAX_NOTE}")

    def work(tx: Tx) -> ScoreSet:
        who = common.acting(tx, actor)
        authority.score(who, directory.membership_roles(tx, who.id), card.evaluators, card.key)
        u = directory.unit(tx, unit) if common.is_code(unit) else None
        if u is None or u.kind != card.units:
            raise InvalidInput(f"'{common.shown(unit)}' is not a unit compared by scorecard '{card.key}' "
                               f"(units of kind {card.units})", unit=common.shown(unit), kind=card.units, next="list_units")
        if not report_store.add_score(tx, scorecard=card.key, year=y, unit_id=u.id, evaluator_id=who.id, score=score,
                                      comment=comment, at=now):
            raise InvalidInput(f"{who.name} ({who.code}) has scored {u.name} for {y} already: each evaluator scores a "
                               "unit once a year")
        audit_store.append(tx, at=now, actor=who.code, kind="scored", data={
            "scorecard": card.key, "year": y, "unit": u.code, "score": score, "comment": comment})
        return ScoreSet(u.code, u.name, y, score, who.name)
    return common.guarded(store, actor, now, f"score {unit}", None, work)


# --- the board ---------------------------------------------------------------------------------

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
    score: float
    rank: int = 0
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
          card_path: str | Path | None = None) -> Board:
    """One row per unit compared: each metric, the weighted score, rank and previous rank, the 双亮牌 colour."""
    card = card_of(card_path)
    day = _day(as_of, "--as-of")
    before = _day(previous, "--previous") if previous is not None else None
    if before is not None and before >= day:
        raise InvalidInput(f"对比日期（{before}）应早于统计日期（{day}）", field="previous", parameter="previous")
    with store.read() as tx:
        return board_in(tx, card, day, before)


def board_in(tx: Tx, card: Scorecard, day: date, before: date | None) -> Board:
    defs = _definitions(tx, card)
    rows = _rank(card, _rows(tx, card, defs, day))
    if before is not None:
        earlier = {r.unit: r.rank for r in _rank(card, _rows(tx, card, defs, before))}
        for r in rows:
            r.previous_rank = earlier.get(r.unit)
            r.change = None if r.previous_rank is None else r.previous_rank - r.rank
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


def _rows(tx: Tx, card: Scorecard, defs: dict[str, Definition], day: date) -> list[BoardRow]:
    units = report_store.units_of_kind(tx, card.units)
    ids = [u[0] for u in units]
    start, cut = _midnight(date(day.year, 1, 1)), _midnight(day + timedelta(days=1))
    templates = list(card.templates)
    finals = sorted({s.name for d in defs.values() for s in d.states.values() if s.final})
    cal = common.calendar(tx)
    # the steps closed by `day` come counted (progress_counts); those still open at the cut are read one by one
    counts: dict[int, Counter] = {u: Counter() for u in ids}
    late: Counter = Counter()
    for unit_id, c in (progress_store.totals(tx, ids, templates, day.year, day) if ids else {}).items():
        counts[unit_id].update({"judged": c["closed"], "on_time": c["on_time"], "items": c["items"]})
        late[unit_id] += c["late_workdays"]
    span = Spans(cal)
    cut_day = (cut.date() - EPOCH).days  # an open step is late to the day the cut begins, as overdue_workdays counts
    for unit_id, lit, due_day, n in (progress_store.open_at(tx, ids, templates, start, cut, finals) if ids else []):
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
        on_plan.update(report_store.reached(tx, ids, templates, start, cut, order[order.index(expected):]))
    planned = {u: counts[u]["items"] for u in ids} if expected is not None else {}
    votes: dict[int, Counter] = {u: Counter() for u in ids}
    voted_items: dict[int, set[int]] = {u: set() for u in ids}
    returned: Counter = Counter()
    left_by = list(dict.fromkeys(card.unsatisfied_triggers + card.returned_triggers))
    for unit_id, item_id, trigger, values in (report_store.steps_left_by(tx, ids, templates, start, cut, left_by) if ids else []):
        result = values.get(card.vote_field)
        if trigger in card.unsatisfied_triggers and result in card.vote_points:
            votes[unit_id][result] += 1
            voted_items[unit_id].add(item_id)
        if trigger in card.returned_triggers:
            returned[unit_id] += 1
    reached, rectified = Counter(), Counter()
    for unit_id, _item, left in (report_store.state_visits(tx, ids, templates, start, cut, card.rectification_state)
                                 if ids else []):
        reached[unit_id] += 1
        rectified[unit_id] += left is not None
    given: dict[int, list[int]] = {}
    for unit_id, _c, _n, points, _comment, _at in report_store.scores(tx, card.key, day.year, cut):
        given.setdefault(unit_id, []).append(points)
    attended = report_store.attendances(tx, ids, templates, start, cut, date(day.year, 1, 1), day) if ids else {}
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
        score = round(sum(w * x for w, x in weighted) / total, 1) if total else 0.0
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
    """Highest score first; equal scores share a rank (1, 2, 2, 4); the 双亮牌 by the scorecard's thresholds."""
    rows = sorted(rows, key=lambda r: (-r.score, r.unit))
    for i, r in enumerate(rows):
        r.rank = rows[i - 1].rank if i and rows[i - 1].score == r.score else i + 1
        r.colour = card.colour(r.score)
        r.colour_label = COLOUR_CN[r.colour]
    return rows


# --- the 台账 (ledger) -----------------------------------------------------------------------------

STEP_PARTS = ("entered", "due", "finished", "light", "late", "rounds")  # a step's cells in the 台账, in column order
NOT_VISITED = "," * (len(STEP_PARTS) - 1)  # the cells of a state never visited, as a visit's text


@dataclass(eq=False)
class Ledger:
    """The 台账. Each row's `visits` hold, per state of `visited`, the cells (STEP_PARTS) of its latest visit as one
    text, comma-joined — what a CSV line holds as it is; none of the cells holds a comma — or NOT_VISITED. The
    column groups are the first len(states) — the non-final states — and the rest the final states and states of
    older versions that some item visited (kept for the JSON)."""
    template: str
    title: str
    states: list[tuple[str, str]]  # (state, label) of the column groups
    fields: list[tuple[str, str]]  # (field, label)
    rows: list[dict[str, Any]]  # per item: id, title, group, state, light, owners, created, visits, fields (its values)
    visited: list[str]
    parts = STEP_PARTS

    def cells_of(self, row: dict[str, Any]) -> list[Any]:
        """The row's cells of the column groups, one by one: times and lights as text, days late and rounds as
        numbers, '' where a state was never visited."""
        out: list[Any] = []
        for text in row["visits"][:len(self.states)]:
            out += _cells(text)
        return out

    def steps_of(self, row: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The row's latest visit of each state visited, as {state: {rounds, entered, due, finished, light, late}}."""
        out = {}
        for state, text in zip(self.visited, row["visits"], strict=False):
            if text != NOT_VISITED:
                entered, due, finished, light, late, rounds = _cells(text)
                out[state] = {"rounds": rounds, "entered": entered, "due": due, "finished": finished, "light": light,
                              "late": late}
        return out


def _cells(text: str) -> list[Any]:
    entered, due, finished, light, late, rounds = text.split(",")
    return [entered, due, finished, light, int(late) if late else "", int(rounds) if rounds else ""]


@contextmanager
def _no_cycle_collection():
    """Python's cycle collector paused while the 台账 is built: its few hundred thousand lists, dicts and rows hold
    no cycles, and the collector would walk them again and again as they grow (0.4–0.9 s of 4–5 s at 100,000 items,
    measured). Reference counting frees as always; the collector resumes as it was."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def ledger(store: Store, now: datetime, template: str = "special_supervision", year: int | None = None) -> Ledger:
    """One row per item of a template (of a year, by creation): per step entered, due, finished, light, days late.
    Built for 100,000 items and a million steps: the database formats the times and the lights, the rows come from
    the driver's cursor, and each step becomes one text in its item's row."""
    common.check_now(now)
    if year is not None and not 1970 <= year <= 2199:
        raise InvalidInput(f"the year {year} is outside 1970–2199")
    with store.read() as tx, _no_cycle_collection():
        tv, defn = common.latest_version(tx, template)
        start = _midnight(date(year, 1, 1)) if year else None
        end = _midnight(date(year + 1, 1, 1)) if year else None
        ids = item_store.of_template(template, start, end)
        states = [(s.name, s.label) for s in defn.states.values() if not s.final]
        fields = [(n, f.label) for n, f in defn.fields.items()]
        visited = [s for s, _l in states] + [s.name for s in defn.states.values() if s.final]
        pos = {s: i for i, s in enumerate(visited)}
        blank = [NOT_VISITED] * len(visited)
        visits_of: dict[int, list[str]] = {}
        span = Spans(common.calendar(tx))
        current, c = None, blank
        for item_id, state, text, first, last in report_store.ledger_steps(tx, ids, now):
            k = pos.get(state)
            if k is None:  # a state of an older version: a column group of its own, for the JSON
                k = pos[state] = len(visited)
                visited.append(state)
                blank.append(NOT_VISITED)
            if item_id != current:
                current, c = item_id, blank.copy()
                visits_of[item_id] = c
            elif k >= len(c):
                c += [NOT_VISITED] * (k + 1 - len(c))
            before = c[k]
            late = 0 if first is None else span(first, last)
            if before is NOT_VISITED:  # the first visit (the common case): no rounds to read back
                c[k] = f"{text},{late},1"
            else:
                c[k] = f"{text},{late},{int(before[before.rindex(',') + 1:]) + 1}"
        owners = item_store.current_owners(tx, ids)
        labels = {s.name: s.label for s in defn.states.values()}
        rows = [{"id": i, "title": title, "group": group, "state": labels.get(state, state), "light": lit,
                 "owners": "、".join(owners.get(i, ())), "created": created, "visits": visits_of.get(i) or blank.copy(),
                 "fields": values}
                for i, title, group, state, lit, created, values in report_store.ledger_items(tx, ids, now, common.spawning(tx))]
        return Ledger(template, defn.title, states, fields, rows, visited)


# --- the year's results ------------------------------------------------------------------------

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
        raise InvalidInput(f"the year {year} is outside 1970–2199")
    today = now.astimezone(TZ).date()
    as_of = min(date(year, 12, 31), today) if today.year >= year else date(year, 12, 31)
    with store.read() as tx:
        b = board_in(tx, card, as_of, None)
        cal = common.calendar(tx)
        start, end = _midnight(date(year, 1, 1)), _midnight(date(year + 1, 1, 1))
        out = []
        for key in card.templates:
            items, steps, groups, _owners = item_store.ledger_rows(tx, key, start, end)
            acts = report_store.activities(tx, [i.id for i in items], year)
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
                      "late": overdue_workdays(cal, st.due_at, st.left_at or now) if st.due_at else 0}
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


# --- the 通报 digest -------------------------------------------------------------------------------

@dataclass
class DigestSent:
    period: str
    sent: bool
    messages: int
    reason: str = ""


def period_of(card: Scorecard, now: datetime) -> tuple[str, date]:
    """The digest period `now` falls in ("2026-W05" or "2026-03") and the first day it may be sent."""
    d = now.astimezone(TZ).date()
    if card.digest_every == "month":
        first = d.replace(day=1)
        return f"{d.year}-{d.month:02d}", first
    iso = d.isocalendar()
    monday = d - timedelta(days=iso.weekday - 1)
    return f"{iso.year}-W{iso.week:02d}", monday + timedelta(days=card.digest_weekday - 1)


def send_digest(store: Store, now: datetime, card_path: str | Path | None = None) -> DigestSent:
    """Queue this period's 通报 to the council and office, once per period: the `digests` row is the claim (as an
    escalation row is for a rung), and the board, the red items and the rank changes go in the message."""
    card = card_of(card_path)
    common.check_now(now)
    period, first = period_of(card, now)
    if now.astimezone(TZ).date() < first:
        return DigestSent(period, False, 0, f"not before {first}")
    day = now.astimezone(TZ).date()
    back = day - (timedelta(days=7) if card.digest_every == "week" else timedelta(days=30))
    with store.transaction() as tx:
        if period in {p for p, _a, _n in report_store.digests(tx, card.key)}:
            return DigestSent(period, False, 0, "sent already")
        b = board_in(tx, card, day, back if back.year == day.year else None)
        red = _red_items(tx, card, now, store.settings.base_url)
        readers = directory.people_with_roles(tx, list(card.digest_to))
        to = [(label, p) for label, p in readers if p.email]
        ctx = {"digest": {"title": card.title, "period": period, "as_of": b.as_of, "previous": b.previous,
                          "rows": [{"rank": r.rank, "previous_rank": r.previous_rank, "change": r.change, "unit": r.unit_name,
                                    "score": r.score, "colour": r.colour_label} for r in b.rows],
                          "moved": [{"unit": r.unit_name, "change": r.change} for r in b.rows if r.change],
                          "red": red},
               "recipient": {"name": "、".join(p.name for _l, p in to), "email": to[0][1].email if to else ""},
               "org": store.settings.org_name, "base_url": store.settings.base_url or ""}
        rows = []
        if to:
            key = f"digest.{card.key}.{period}"
            rows = [{"escalation_id": None, "item_id": None, "notice": "digest", "context": ctx, "status": "pending",
                     "attempts": 0, "next_attempt_at": now, "created_at": now,
                     "message_id": f"<wuzhuan.{key}@{store.settings.message_domain}>", "person_id": to[0][1].id,
                     "to_addr": to[0][1].email, "to_name": ctx["recipient"]["name"][:100],
                     "recipients": {"to": [[p.name, p.email, label] for label, p in to], "cc": []}, "channel": "email"}]
        if not report_store.claim_digest(tx, card.key, period, now, len(rows)):
            return DigestSent(period, False, 0, "sent already (by another process)")
        outbox_store.queue(tx, rows)
        audit_store.append(tx, at=now, actor=None, kind="digest_queued",
                           data={"scorecard": card.key, "period": period, "messages": len(rows), "red_items": len(red)})
    return DigestSent(period, True, len(rows), "" if rows else "nobody to send it to has an e-mail address")


def _red_items(tx: Tx, card: Scorecard, now: datetime, base_url: str | None) -> list[dict[str, Any]]:
    out = []
    for key in card.templates:
        for brief, group in item_store.search(tx, now, template=key, light="red", limit=200,
                                                 spawning=common.spawning(tx)):
            defn = common.definition(tx, brief.template_version_id)
            out.append({"id": brief.id, "title": brief.title, "group": group or "", "due": fmt(brief.due_at),
                        "state": defn.states[brief.state].label if brief.state in defn.states else brief.state,
                        "link": notice_data.item_link(base_url, brief.id)})
    return out


# --- for the workbench: the same use cases, with the viewer's authority checked --------------------

def board_for(store: Store, person: PersonRow, as_of: str | date, previous: str | date | None = None,
              card_path: str | Path | None = None) -> Board:
    """The board for a person on the workbench: the council, the office and administrators."""
    with store.read() as tx:
        authority.see_reports(person, directory.is_staff(tx, person.id), "the board (比进度·比创新·比质效)")
    return board(store, as_of, previous, card_path)


def ledger_for(store: Store, person: PersonRow, now: datetime, template: str = "special_supervision",
               year: int | None = None) -> Ledger:
    with store.read() as tx:
        authority.see_reports(person, directory.is_staff(tx, person.id), "the 台账 (ledger)")
    return ledger(store, now, template, year)


def is_evaluator(store: Store, person: PersonRow, card_path: str | Path | None = None) -> bool:
    """Whether the person may score (the workbench shows him the form)."""
    card = card_of(card_path)
    with store.read() as tx:
        return bool(directory.membership_roles(tx, person.id) & set(card.evaluators))


def units_compared(store: Store, card_path: str | Path | None = None) -> list[tuple[str, str]]:
    """(code, name) of the units the scorecard compares."""
    card = card_of(card_path)
    with store.read() as tx:
        return [(code, name) for _id, code, name in report_store.units_of_kind(tx, card.units)]
