"""The working-day calendar as stored: imported State Council notices, cached per import revision."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from . import audit, loader
from .calendar import EVERY_DAY, WorkCalendar, build_calendar, parse_date
from .db import connection_of
from .definition import Definition
from .errors import CalendarError
from .models import CalendarDay, CalendarImport

_cache: dict[str, WorkCalendar] = {}
_LATEST = select(CalendarImport.digest).order_by(CalendarImport.id.desc()).limit(1)
LATEST_DIGEST = select(func.coalesce(_LATEST.scalar_subquery(), "")).scalar_subquery()  # for a column of another query


def calendar_for(session: Session, defn: Definition | None = None, digest: str | None = None) -> WorkCalendar:
    """The calendar a template counts with: China's working days (with imports) or every day.

    `digest` is the latest import's digest when the caller has read it already (see LATEST_DIGEST).
    """
    if defn is not None and defn.calendar == "none":
        return EVERY_DAY
    key = digest if digest is not None else (connection_of(session).execute(_LATEST).scalar_one_or_none() or "")
    cal = _cache.get(key)
    if cal is None:
        rows = session.execute(select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.name)).all()
        years = session.execute(select(CalendarImport.year).distinct()).scalars().all()
        cal = _cache[key] = build_calendar([(d, w, n) for d, w, n in rows], years)
    return cal


def parse_notice(path: Path) -> tuple[int, str, list[tuple[date, bool, str]]]:
    """Read a year's notice: our YAML (holidays as ranges, make-up workdays) or holiday-cn JSON."""
    text = loader.read_text(path, CalendarError)
    try:
        data: Any = json.loads(text) if path.suffix.lower() == ".json" else loader.safe_load(text)
    except (ValueError, yaml.YAMLError):
        raise CalendarError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}") from None
    if not isinstance(data, dict) or not isinstance(data.get("year"), int):
        raise CalendarError(f"{path}: expected a mapping with `year` (e.g. year: 2027)")
    year = data["year"]
    days: dict[date, tuple[bool, str]] = {}
    if "days" in data:  # holiday-cn format: {year, days: [{name, date, isOffDay}]}
        for i, d in enumerate(data["days"] or [], start=1):
            if not isinstance(d, dict) or "date" not in d or "isOffDay" not in d:
                raise CalendarError(f"{path}: day {i} needs `date` and `isOffDay`")
            days[parse_date(d["date"], f"{path}: day {i}")] = (not d["isOffDay"], str(d.get("name", "")))
    for i, h in enumerate(data.get("holidays") or [], start=1):
        if not isinstance(h, dict) or "from" not in h:
            raise CalendarError(f"{path}: holiday {i} needs `name`, `from` and `to`")
        start = parse_date(h["from"], f"{path}: holiday {i} from")
        end = parse_date(h.get("to", h["from"]), f"{path}: holiday {i} to")
        if end < start or (end - start).days > 40:
            raise CalendarError(f"{path}: holiday {i} ({h.get('name', '')}): `to` must be on or after `from`, within 40 days")
        for n in range((end - start).days + 1):
            days[start + timedelta(days=n)] = (False, str(h.get("name", "节假日")))
    for i, w in enumerate(data.get("workdays") or [], start=1):
        if not isinstance(w, dict) or "date" not in w:
            raise CalendarError(f"{path}: workday {i} needs `date`")
        days[parse_date(w["date"], f"{path}: workday {i}")] = (True, str(w.get("name", "调休上班")))
    for d, (is_work, _name) in days.items():
        if d.year != year:
            raise CalendarError(f"{path}: {d} is not in {year}")
        if is_work and d.weekday() < 5:
            raise CalendarError(f"{path}: {d} is a weekday; only Saturdays and Sundays can be make-up workdays")
    if not any(not w for w, _ in days.values()):
        raise CalendarError(f"{path}: no holidays listed for {year}")
    return year, str(data.get("source", path.name)), [(d, w, n) for d, (w, n) in sorted(days.items())]


def import_notice(session: Session, path: str | Path, actor: str | None, now: datetime) -> dict[str, Any]:
    """Replace a year's calendar with the notice's days, then recompute provisional open steps."""
    from .deadlines import recompute_provisional

    year, source, days = parse_notice(Path(path))
    previous = session.execute(select(CalendarImport.digest).order_by(CalendarImport.id.desc()).limit(1)).scalar_one_or_none() or ""
    digest = hashlib.sha256(json.dumps([previous, year, [(d.isoformat(), w, n) for d, w, n in days]], ensure_ascii=False).encode()).hexdigest()
    session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    session.add_all(CalendarDay(day=d, year=year, is_workday=w, name=n) for d, w, n in days)
    session.add(CalendarImport(year=year, source=source, digest=digest, imported_at=now, imported_by=actor))
    session.flush()
    recomputed = recompute_provisional(session, now)
    audit.append(session, at=now, actor=actor, kind="calendar_imported",
                 data={"year": year, "source": source, "days": len(days), "recomputed_steps": recomputed})
    return {"year": year, "source": source, "holidays": sum(1 for _, w, _ in days if not w),
            "workdays": sum(1 for _, w, _ in days if w), "recomputed_steps": recomputed}


def show_year(session: Session, year: int) -> dict[str, Any]:
    """Every holiday and make-up workday of a year, and whether the data is official."""
    cal = calendar_for(session)
    d = date(year, 1, 1)
    rows = []
    while d.year == year:
        name = cal.name(d)
        weekend = d.weekday() >= 5
        work = cal.is_workday(d)
        if (work and weekend) or (not work and not weekend):
            rows.append({"date": d.isoformat(), "weekday": "一二三四五六日"[d.weekday()], "workday": work, "name": name})
        d += timedelta(days=1)
    workdays = sum(1 for i in range(366) if (date(year, 1, 1) + timedelta(days=i)).year == year
                   and cal.is_workday(date(year, 1, 1) + timedelta(days=i)))
    return {"year": year, "exact": cal.is_exact(date(year, 1, 1)), "workdays": workdays, "days": rows}
