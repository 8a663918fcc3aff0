"""The scorecard (比进度·比创新·比质效): a YAML file of units compared, metrics, weights, plan and thresholds, validated."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .errors import DefinitionError, Problem
from .template_schema import schema_problems
from .textfile import FileProblem, decode, read_bytes
from .yamltext import parse_yaml

METRIC_CN = {"on_time": "按时办结率", "overdue": "平均逾期工作日", "lights": "当前亮灯", "stage": "计划进度",
             "satisfaction": "满意度测评", "rectified": "整改完成", "unsatisfied": "不满意轮次", "returned": "退办",
             "innovation": "创新评分", "participation": "代表参与"}
BUILTIN = "251"
MAX_BYTES = 200_000


@dataclass(frozen=True)
class PlanPoint:
    by: str  # MM-DD
    state: str

    def day(self, year: int) -> date:
        month, day = int(self.by[:2]), int(self.by[3:])
        return date(year, month, 28 if month == 2 and day == 29 and not _leap(year) else day)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@dataclass(frozen=True)
class Scorecard:
    key: str
    title: str
    units: str  # the kind of units compared: group | district, or "organisation" (org_level says which)
    templates: tuple[str, ...]
    weights: dict[str, int]
    overdue_points_per_day: int = 10
    plan: tuple[PlanPoint, ...] = ()
    vote_field: str = "vote"
    vote_points: dict[str, int] = field(default_factory=lambda: {"满意": 100, "基本满意": 70, "不满意": 0})
    rectification_state: str = "rectification"
    returned_triggers: tuple[str, ...] = ()
    unsatisfied_triggers: tuple[str, ...] = ()
    blue: int = 85
    red: int = 60
    evaluators: tuple[str, ...] = ("council",)
    activity_kinds: tuple[str, ...] = ("视察", "调研", "执法检查", "座谈", "专题询问", "列席")
    digest_every: str = "week"
    digest_weekday: int = 1
    digest_to: tuple[str, ...] = ("council", "office")
    campaign: dict[str, int] = field(default_factory=dict)
    source_name: str = ""
    org_level: str | None = None  # `units: {organisations: LEVEL}`: the organisations of that level are compared

    def plan_state(self, as_of: date) -> str | None:
        """The state the plan expects every item to have reached by `as_of` (None before its first day)."""
        due = [p for p in self.plan if p.day(as_of.year) <= as_of]
        return due[-1].state if due else None

    def colour(self, score: float) -> str:
        """双亮牌: blue (ahead), yellow (reminder), red (warning)."""
        return "blue" if score >= self.blue else ("red" if score < self.red else "yellow")


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(resources.files("definitions").joinpath("scorecard.schema.json").read_text("utf-8"))


def builtin_path() -> Path:
    return Path(str(resources.files("definitions").joinpath("scorecards", f"{BUILTIN}.yaml")))


def load(path: str | Path | None = None) -> Scorecard:
    """The scorecard in `path` (the built-in "251" one when None); DefinitionError with located problems."""
    name = str(path or builtin_path())
    try:
        text = decode(read_bytes(name, MAX_BYTES, "scorecard"), name)
    except FileProblem as e:
        raise DefinitionError([Problem(name, e.line or 1, 1, e.reason)]) from None
    return load_text(text, name)


def load_text(text: str, name: str = "<scorecard>") -> Scorecard:
    doc = parse_yaml(text, name, "a scorecard is a mapping with key, title, units, templates, weights")
    if doc.problems or not doc.parsed:
        raise DefinitionError(doc.problems)
    data = doc.data
    if not isinstance(data, dict):
        raise DefinitionError([Problem(name, 1, 1, "a scorecard is a mapping (key: value)")])
    schema_problems(doc, data, schema())
    if not doc.problems:
        if sum(data["weights"].values()) <= 0:
            doc.problem(("weights",), "the weights add up to 0: give at least one metric a weight")
        lights = data.get("lights") or {}
        if lights and lights["red"] > lights["blue"]:
            doc.problem(("lights", "red"), f"red ({lights['red']}) is above blue ({lights['blue']}): a unit below red is warned")
        previous = ""
        for i, p in enumerate(data.get("plan") or []):
            try:
                date(2024, int(p["by"][:2]), int(p["by"][3:]))
            except ValueError:
                doc.problem(("plan", i, "by"), f"'{p['by']}' is not a day of the year (MM-DD)")
            if p["by"] <= previous:
                doc.problem(("plan", i, "by"), f"the plan's days must rise: '{p['by']}' comes after '{previous}'")
            previous = p["by"]
    if doc.problems:
        raise DefinitionError(doc.problems)
    q, lt, dg = data.get("quality") or {}, data.get("lights") or {}, data.get("digest") or {}
    return Scorecard(
        key=str(data["key"]), title=data["title"], templates=tuple(data["templates"]),
        units="organisation" if isinstance(data["units"], dict) else data["units"],
        org_level=data["units"]["organisations"] if isinstance(data["units"], dict) else None,
        weights={m: int(w) for m, w in data["weights"].items()},
        overdue_points_per_day=int(data.get("overdue_points_per_day", 10)),
        plan=tuple(PlanPoint(p["by"], p["state"]) for p in data.get("plan") or []),
        vote_field=q.get("vote_field", "vote"),
        vote_points=dict(q.get("vote_points") or {"满意": 100, "基本满意": 70, "不满意": 0}),
        rectification_state=q.get("rectification_state", "rectification"),
        returned_triggers=tuple(q.get("returned_triggers", ())), unsatisfied_triggers=tuple(q.get("unsatisfied_triggers", ())),
        blue=int(lt.get("blue", 85)), red=int(lt.get("red", 60)), evaluators=tuple(data.get("evaluators", ("council",))),
        activity_kinds=tuple(data.get("activity_kinds", ("视察", "调研", "执法检查", "座谈", "专题询问", "列席"))),
        digest_every=dg.get("every", "week"), digest_weekday=int(dg.get("weekday", 1)),
        digest_to=tuple(dg.get("to", ("council", "office"))), campaign=dict(data.get("campaign") or {}), source_name=name)
