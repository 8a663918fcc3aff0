"""Read-only use cases about the directory, the published template versions and the calendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from ..calendar import EVERY_DAY, build_calendar, explain_due, parse_date
from ..errors import InvalidInput
from ..people_file import LEVEL_CN
from ..present import fmt, local_iso
from ..store import Store, directory
from ..store import organisations as org_store
from ..store import templates as template_store
from . import common


@dataclass(eq=False)
class UnitRole:
    unit: str
    unit_name: str
    role: str


@dataclass(eq=False)
class PersonInfo:
    code: str
    name: str
    email: str | None
    title: str | None
    admin: bool
    active: bool
    roles: list[UnitRole] = field(default_factory=list)


@dataclass(eq=False)
class VersionInfo:
    id: int
    key: str
    title: str
    hash: str
    file: str
    published_at: str | None
    published_by: str | None


@dataclass(eq=False)
class CalendarDayInfo:
    date: str
    weekday: str
    workday: bool
    name: str


@dataclass(eq=False)
class CalendarYear:
    year: int
    exact: bool
    workdays: int
    days: list[CalendarDayInfo]


@dataclass(eq=False)
class DueInfo:
    due: str
    due_at: str | None
    provisional: bool
    rule: str


def list_people(store: Store) -> list[PersonInfo]:
    with store.read() as tx:
        return [PersonInfo(p.code, p.name, p.email, p.title, p.admin, p.active, [UnitRole(*m) for m in ms])
                for p, ms in directory.list_people(tx)]


@dataclass(eq=False)
class OrgInfo:
    """An organisation (人大常委会) of the deployment with those one level below it."""

    code: str
    name: str
    level: str
    level_label: str
    slip_code: str | None
    children: list[OrgInfo] = field(default_factory=list)


def list_orgs(store: Store) -> list[OrgInfo]:
    """The organisations as a tree: the root, each organisation's children under it (by code); [] when the people
    file never named one (everything then belongs to one organisation)."""
    with store.read() as tx:
        rows = org_store.all_orgs(tx)
    infos = {r.id: OrgInfo(r.code, r.name, r.level, LEVEL_CN.get(r.level, r.level), r.slip_code) for r in rows}
    roots = []
    for r in sorted(rows, key=lambda r: r.code):
        (infos[r.parent_id].children if r.parent_id in infos else roots).append(infos[r.id])
    return roots


def template_versions(store: Store) -> list[VersionInfo]:
    with store.read() as tx:
        return [VersionInfo(v.id, v.key, v.title, v.content_hash, v.source_name, local_iso(v.published_at), v.published_by)
                for v in template_store.all_versions(tx)]


def _calendar(store: Store | None):
    """The stored calendar, or the built-in data alone when there is no database yet."""
    if store is None:
        return build_calendar()
    with store.read() as tx:
        return common.calendar(tx)


def calendar_year(store: Store | None, year: int) -> CalendarYear:
    """Every holiday and make-up workday of a year, and whether the data is official (store None: built-in data)."""
    if not 1970 <= year <= 2199:
        raise InvalidInput(f"year {year} is outside 1970–2199")
    cal = _calendar(store)
    d, rows, workdays = date(year, 1, 1), [], 0
    while d.year == year:
        work, weekend = cal.is_workday(d), d.weekday() >= 5
        workdays += work
        if work == weekend:
            rows.append(CalendarDayInfo(d.isoformat(), "一二三四五六日"[d.weekday()], work, cal.name(d)))
        d += timedelta(days=1)
    return CalendarYear(year, cal.is_exact(date(year, 1, 1)), workdays, rows)


def calendar_due(store: Store | None, start: str, amount: int, unit: str, before: bool = False,
                 every_day: bool = False) -> DueInfo:
    """The due time of a period from a date, with the rule spelled out (store None: the built-in holiday data)."""
    begin = parse_date(start, "--from")
    limits = {"workdays": 2000, "days": 3650, "months": 120, "hours": 8760}
    if unit not in limits:
        raise InvalidInput(f"期限单位“{common.shown(unit)}”应是 {'、'.join(limits)} 之一", parameter="unit")
    if not 1 <= amount <= limits[unit]:
        raise InvalidInput(f"期限应在 1 到 {limits[unit]} {unit} 之间", field="amount", parameter="amount")
    if not 1970 <= begin.year <= 2199:
        raise InvalidInput(f"起算日 {begin} 不在 1970–2199 年之间", field="from", parameter="from")
    cal = EVERY_DAY if every_day else _calendar(store)
    d = explain_due(cal, begin, amount, unit, "before" if before else "after")
    if not 1970 <= d.local.year <= 2199:
        raise InvalidInput(f"算出的时限 {d.local.date()} 超出了 1970–2199 年")
    return DueInfo(fmt(d.at), local_iso(d.at), d.provisional, d.rule)
