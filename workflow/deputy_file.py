"""A deputy's mandates (人大代表: level, 选举单位, 代表小组, 联络站, 届次, since, until) as a people file gives them, checked.

A person's `deputy:` is one mapping or a list of them (a deputy of several levels); in a CSV file, the columns
`deputy_level`, `deputy_constituency`, `deputy_team`, `deputy_station`, `deputy_term`, `deputy_since` and
`deputy_until`, one level a row. The texts are free (names, not codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

LEVELS = ("national", "provincial", "city", "county", "township")
LEVEL_CN = {"national": "全国", "provincial": "省", "city": "市", "county": "县（区）", "township": "乡镇"}
KEYS = ("level", "constituency", "team", "station", "term", "since", "until")
CSV_COLUMNS = tuple(f"deputy_{k}" for k in KEYS)
TEXTS = {"constituency": "选举单位", "team": "代表小组", "station": "代表联络站"}


@dataclass(frozen=True)
class DeputyEntry:
    level: str
    constituency: str | None = None
    team: str | None = None
    station: str | None = None
    term: int | None = None
    since: date | None = None
    until: date | None = None


def mandates(c, raw: Any, line: int, col: int, who: str) -> tuple[DeputyEntry, ...] | None:
    """The mandates of `deputy:` (a mapping, or a list of them), each problem noted on the checker `c`."""
    items = raw if isinstance(raw, list) else [raw]
    out: list[DeputyEntry] = []
    for i, m in enumerate(items, start=1):
        what = f"{who}: deputy" + (f" {i}" if len(items) > 1 else "")
        if not isinstance(m, dict):
            c.p(line, col, f"{what} must be a mapping with level (and constituency, team, station, term, since, until)")
            continue
        for key in sorted(set(m) - set(KEYS)):
            c.p(line, col, f"{what}: unknown key '{key}' (allowed: {', '.join(KEYS)})")
        entry = mandate(c, m, line, col, what)
        if entry is not None:
            out.append(entry)
    seen = set()
    for e in out:
        if (e.level, e.term) in seen:
            c.p(line, col, f"{who}: deputy level {e.level}" + (f", term {e.term}," if e.term else "") + " is given twice")
        seen.add((e.level, e.term))
    return tuple(out)


def mandate(c, m: dict, line: int, col: int, what: str) -> DeputyEntry | None:
    level = m.get("level")
    if level not in LEVELS:
        c.p(line, col, f"{what}: level {level!r} is not one of {', '.join(LEVELS)}")
    texts = {k: c.text(m.get(k), line, col, f"{what}: {k}", required=False, limit=200) for k in TEXTS}
    term = m.get("term")
    if term is not None and not (isinstance(term, int) and not isinstance(term, bool) and 1 <= term <= 99):
        if isinstance(term, str) and term.strip().isdigit() and 1 <= int(term) <= 99:
            term = int(term)
        else:
            c.p(line, col, f"{what}: term {term!r} is not a number from 1 to 99 (届次)")
            term = None
    days = {}
    for key in ("since", "until"):
        v = m.get(key)
        if v is None or v == "":
            days[key] = None
            continue
        try:
            d = v if isinstance(v, date) else date.fromisoformat(str(v).strip())
        except ValueError:
            c.p(line, col, f"{what}: {key} '{v}' is not a date (YYYY-MM-DD)")
            d = None
        if d is not None and not 1970 <= d.year <= 2199:
            c.p(line, col, f"{what}: {key} {d} is outside the years 1970–2199")
            d = None
        days[key] = d
    if days["since"] and days["until"] and days["until"] < days["since"]:
        c.p(line, col, f"{what}: until {days['until']} is before since {days['since']}")
    if level not in LEVELS:
        return None
    return DeputyEntry(level, texts["constituency"], texts["team"], texts["station"], term, days["since"], days["until"])


def from_row(c, row: dict, n: int, who: str) -> DeputyEntry | None:
    """A CSV row's mandate (None when the row gives no deputy_level)."""
    if not (row.get("deputy_level") or "").strip():
        extra = [k for k in CSV_COLUMNS[1:] if (row.get(k) or "").strip()]
        if extra:
            c.p(n, 1, f"{who}: {', '.join(extra)} given without deputy_level")
        return None
    m = {k: (row.get(f"deputy_{k}") or "").strip() or None for k in KEYS}
    return mandate(c, m, n, 1, f"{who}: deputy")
