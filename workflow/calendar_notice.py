"""A year's State Council holiday notice as a file (our YAML, or holiday-cn JSON) → checked days."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from .calendar import parse_date
from .errors import CalendarError
from .textfile import FileProblem, read_text
from .yamltext import safe_load

MAX_BYTES = 1_000_000


def parse(path: str | Path) -> tuple[int, str, list[tuple[date, bool, str]]]:
    """(year, source, [(day, is_workday, name)]) of a notice file; raises CalendarError naming the problem."""
    path = Path(path)
    try:
        text = read_text(path, MAX_BYTES, "calendar file")
    except FileProblem as e:
        raise CalendarError(str(e)) from None
    is_json = path.suffix.lower() == ".json"
    try:
        data: Any = json.loads(text) if is_json else safe_load(text)
    except (ValueError, RecursionError, yaml.YAMLError):
        raise CalendarError(f"{path}: not valid {'JSON' if is_json else 'YAML'}") from None
    if not isinstance(data, dict) or not isinstance(data.get("year"), int) or isinstance(data.get("year"), bool):
        raise CalendarError(f"{path}: expected a mapping with `year` (e.g. year: 2027)")
    year = data["year"]
    if not 1970 <= year <= 2199:
        raise CalendarError(f"{path}: year {year} is outside 1970–2199")
    days: dict[date, tuple[bool, str]] = {}
    if "days" in data:  # holiday-cn format: {year, days: [{name, date, isOffDay}]}
        if not isinstance(data["days"], list | type(None)):
            raise CalendarError(f"{path}: `days` must be a list")
        for i, d in enumerate(data["days"] or [], start=1):
            if not isinstance(d, dict) or "date" not in d or not isinstance(d.get("isOffDay"), bool):
                raise CalendarError(f"{path}: day {i} needs `date` and `isOffDay` (true or false)")
            days[parse_date(d["date"], f"{path}：第 {i} 天")] = (not d["isOffDay"], _name(d.get("name", "")))
    for key in ("holidays", "workdays"):
        if not isinstance(data.get(key) or [], list):
            raise CalendarError(f"{path}: `{key}` must be a list")
    for i, h in enumerate(data.get("holidays") or [], start=1):
        if not isinstance(h, dict) or "from" not in h:
            raise CalendarError(f"{path}: holiday {i} needs `name`, `from` and `to`")
        start = parse_date(h["from"], f"{path}：第 {i} 个假期的起始日（from）")
        end = parse_date(h.get("to", h["from"]), f"{path}：第 {i} 个假期的结束日（to）")
        if end < start or (end - start).days > 40:
            raise CalendarError(f"{path}: holiday {i} ({h.get('name', '')}): `to` must be on or after `from`, within 40 days")
        for n in range((end - start).days + 1):
            days[start + timedelta(days=n)] = (False, _name(h.get("name", "节假日")))
    for i, w in enumerate(data.get("workdays") or [], start=1):
        if not isinstance(w, dict) or "date" not in w:
            raise CalendarError(f"{path}: workday {i} needs `date`")
        days[parse_date(w["date"], f"{path}：第 {i} 个调休上班日")] = (True, _name(w.get("name", "调休上班")))
    for d, (is_work, _) in days.items():
        if d.year != year:
            raise CalendarError(f"{path}: {d} is not in {year}")
        if is_work and d.weekday() < 5:
            raise CalendarError(f"{path}: {d} is a weekday; only Saturdays and Sundays can be make-up workdays")
    if not any(not w for w, _ in days.values()):
        raise CalendarError(f"{path}: no holidays listed for {year}")
    source = _name(data.get("source", path.name))
    return year, source, [(d, w, n) for d, (w, n) in sorted(days.items())]


def _name(value: Any) -> str:
    text = " ".join(str(value).split())
    return text[:100]
