"""Working days, holidays and deadline arithmetic in Asia/Shanghai; pure functions of dates.

One semantics, documented in docs/deadlines.md:
- `workdays: N` — due at the end (24:00) of the N-th working day after the day the step was entered.
- `days: N`, `months: N` — 民法典 Art.201-203: the start day is not counted; a month period ends on
  the same-numbered day of the final month, or that month's last day when it has none; a period
  ending on a statutory holiday or rest day ends on the next working day; due at 24:00.
- `hours: N` — exact.
- relative to a date field: counted from the field's date (after), or back from it (before); a
  period counted back that ends on a rest day moves to the working day before it.
Days in a year without official data use weekends plus rule-based statutory holidays; every due
time that looked at such a day is *provisional*.
"""

from __future__ import annotations

import calendar as _cal
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .definition import Deadline, Duration, parse_duration
from .errors import CalendarError

TZ = ZoneInfo("Asia/Shanghai")

HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class WorkCalendar:
    """Which days are working days. Exact for years with official data, provisional otherwise."""

    def __init__(self, off: dict[date, str], on: dict[date, str], exact_years: Iterable[int], every_day: bool = False):
        self.off = dict(off)
        self.on = dict(on)
        self.exact_years = set(exact_years)
        self.every_day = every_day
        self._fallback_years: set[int] = set()
        self._sorted: tuple[list[date], list[date]] | None = None  # weekday holidays, weekend make-up days

    def _ensure(self, year: int) -> None:
        if year in self.exact_years or year in self._fallback_years:
            return
        self._fallback_years.add(year)
        for d, name in rule_based_holidays(year).items():
            self.off.setdefault(d, name)
        self._sorted = None

    def is_workday(self, d: date) -> bool:
        if self.every_day:
            return True
        if d.year not in self.exact_years:
            self._ensure(d.year)
        if d in self.on:
            return True
        return d.weekday() < 5 and d not in self.off

    def workdays_in(self, first: date, last: date) -> int:
        """How many working days from `first` to `last`, both included (0 when last < first); counted, not walked."""
        if last < first:
            return 0
        if self.every_day:
            return (last - first).days + 1
        for year in range(first.year, last.year + 1):
            if year not in self.exact_years:
                self._ensure(year)
        weeks, rest = divmod((last - first).days + 1, 7)
        weekdays = weeks * 5 + sum(1 for i in range(rest) if (first.weekday() + i) % 7 < 5)
        if self._sorted is None:
            self._sorted = (sorted(d for d in self.off if d.weekday() < 5 and d not in self.on),
                            sorted(d for d in self.on if d.weekday() >= 5))
        off, on = self._sorted
        return (weekdays - (bisect_right(off, last) - bisect_left(off, first))
                + (bisect_right(on, last) - bisect_left(on, first)))

    def is_exact(self, d: date) -> bool:
        return self.every_day or d.year in self.exact_years

    def name(self, d: date) -> str:
        if self.every_day:
            return ""
        self.is_workday(d)
        if d in self.on:
            return f"{self.on[d]}（调休上班）"
        if d in self.off:
            return self.off[d]
        return "周末" if d.weekday() >= 5 else ""


def rule_based_holidays(year: int) -> dict[date, str]:
    """Statutory holidays by rule (no 调休 make-up days) for a year without official data."""
    try:
        import holidays  # only for years without official data: it takes ~0.2 s to import

        cn = holidays.China(years=year, language="zh_CN", observed=False)  # names in Chinese: 春节, 农历除夕…
        return dict(cn.items())
    except Exception:  # the fallback must never stop a deadline from being computed
        return {date(year, 1, 1): "元旦", date(year, 5, 1): "劳动节", date(year, 10, 1): "国庆节"}


def library_data() -> tuple[dict[date, str], dict[date, str], set[int]]:
    """Official holidays and make-up workdays shipped with `chinese_calendar`, and the years covered."""
    from chinese_calendar import constants

    off = {d: HOLIDAY_NAMES.get(n, n) for d, n in constants.holidays.items()}
    on = {d: HOLIDAY_NAMES.get(n, n) for d, n in constants.workdays.items()}
    years = {d.year for d in off}
    return off, on, set(range(min(years), max(years) + 1))


def build_calendar(imported: Iterable[tuple[date, bool, str]] = (), imported_years: Iterable[int] = ()) -> WorkCalendar:
    """The China calendar: library data, overridden year by year by imported State Council notices."""
    off, on, years = library_data()
    imported_years = set(imported_years)
    off = {d: n for d, n in off.items() if d.year not in imported_years}
    on = {d: n for d, n in on.items() if d.year not in imported_years}
    for d, is_work, name in imported:
        (on if is_work else off)[d] = name
    return WorkCalendar(off, on, years | imported_years)


EVERY_DAY = WorkCalendar({}, {}, (), every_day=True)


def cross_check(years: Iterable[int]) -> list[tuple[date, bool, bool]]:
    """Days where chinese_calendar and `holidays` disagree on working or not."""
    import holidays

    cal = build_calendar()
    out = []
    for y in years:
        cn = holidays.China(years=y)
        d = date(y, 1, 1)
        while d.year == y:
            a, b = cal.is_workday(d), cn.is_working_day(d)
            if a != b:
                out.append((d, a, b))
            d += timedelta(days=1)
    return out


# --- date arithmetic ----------------------------------------------------------------------------

class _Trace:
    """Records whether any day consulted lay outside the official data (→ provisional)."""

    def __init__(self, cal: WorkCalendar):
        self.cal = cal
        self.provisional = False

    def work(self, d: date) -> bool:
        if not self.cal.is_exact(d):
            self.provisional = True
        return self.cal.is_workday(d)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year
    m += 1
    return date(y, m, min(d.day, _cal.monthrange(y, m)[1]))


def _walk_workdays(t: _Trace, d: date, n: int) -> date:
    step = 1 if n >= 0 else -1
    left = abs(n)
    while left:
        d += timedelta(days=step)
        if t.work(d):
            left -= 1
    return d


def _roll(t: _Trace, d: date, step: int) -> date:
    while not t.work(d):
        d += timedelta(days=step)
    return d


def end_of_day(d: date) -> datetime:
    """24:00 of a Shanghai date, as an aware UTC datetime."""
    return datetime.combine(d + timedelta(days=1), time(0), TZ).astimezone(UTC)


EPOCH = date(1970, 1, 1)  # day numbers (as the database computes them for the reports) count from here


class Spans:
    """Working days from day number `first` to `last` (both included), as the difference of two running counts of
    working days kept for a range of days that grows when asked outside it: a span costs two list reads, which
    matters when the 台账 counts a million of them."""

    MARGIN = 366  # days added on either side when the range grows, so that neighbouring spans need no second growth

    def __init__(self, cal: WorkCalendar) -> None:
        self.cal, self.lo, self.counts = cal, 0, []  # counts[i]: working days from day lo to day lo + i

    def __call__(self, first: int, last: int) -> int:
        if last < first:
            return 0
        i, j = first - 1 - self.lo, last - self.lo
        if i < 0 or j >= len(self.counts):
            self._cover(first - 1, last)
            i, j = first - 1 - self.lo, last - self.lo
        return self.counts[j] - self.counts[i]

    def _cover(self, a: int, b: int) -> None:
        if self.counts:
            a, b = min(a, self.lo), max(b, self.lo + len(self.counts) - 1)
        a, b = max(a - self.MARGIN, _FIRST_DAY), min(b + self.MARGIN, _LAST_DAY)
        counts, n, workday = [], 0, self.cal.is_workday
        for d in range(a, b + 1):
            n += workday(EPOCH + timedelta(days=d))
            counts.append(n)
        self.lo, self.counts = a, counts


_FIRST_DAY, _LAST_DAY = (date(1, 1, 2) - EPOCH).days, (date(9999, 12, 31) - EPOCH).days


def local_date(at: datetime) -> date:
    return at.astimezone(TZ).date()


def last_day(due: datetime) -> date:
    """The Shanghai date a due time closes (24:00 belongs to the day before)."""
    return (due.astimezone(TZ) - timedelta(microseconds=1)).date()


@dataclass(frozen=True)
class Due:
    at: datetime  # aware, UTC
    provisional: bool
    rule: str

    @property
    def local(self) -> datetime:
        return self.at.astimezone(TZ)


def period_end(cal: WorkCalendar, start: date, amount: int, unit: str, direction: str = "after") -> tuple[date, bool, str]:
    """Last day of a period of `amount unit` counted from `start` (not counted) forward or back."""
    t = _Trace(cal)
    sign = -1 if direction == "before" else 1
    word = "前" if direction == "before" else "后"
    if unit == "workdays":
        end = _walk_workdays(t, start, sign * amount)
        rule = f"{start} {word}第{amount}个工作日"
    elif unit in ("days", "months"):
        raw = start + timedelta(days=sign * amount) if unit == "days" else add_months(start, sign * amount)
        end = _roll(t, raw, sign)
        rule = f"{start} {word}{amount}{'日' if unit == 'days' else '个月'}为 {raw}"
        if end != raw:
            rule += f"（{cal.name(raw) or '休息日'}，{'提前至前' if sign < 0 else '顺延至下'}一工作日 {end}）"
    else:
        raise CalendarError(f"unit '{unit}' has no whole-day period")
    return end, t.provisional, rule


def compute_due(cal: WorkCalendar, entered_at: datetime, deadline: Deadline, fields: dict) -> Due | None:
    """The due time of a step entered at `entered_at`; None when its date field is not set yet.

    A date in the deadline's `set_by` field (a 决议's 期限) is the due date itself.
    """
    if deadline.set_by and fields.get(deadline.set_by):
        day = parse_date(fields[deadline.set_by], deadline.set_by)
        return Due(end_of_day(day), not cal.is_exact(day), f"决议规定的期限 {day}，当日24时")
    if deadline.fixed:
        month, day_ = (int(x) for x in deadline.fixed.split("-"))
        year = local_date(entered_at).year
        raw = date(year, month, min(day_, _cal.monthrange(year, month)[1]))  # 02-29 in a common year: the month's last day
        t = _Trace(cal)
        end = _roll(t, raw, 1)
        rule = f"{year}年{month}月{day_}日" + (f"（{cal.name(raw) or '休息日'}，顺延至下一工作日 {end}）" if end != raw else "")
        return Due(end_of_day(end), t.provisional, rule + "，当日24时")
    decided = parse_duration(fields.get(deadline.amount_from) or "") if deadline.amount_from else None
    if decided is not None:  # the amount a decision set replaces the template's
        due = _counted(cal, entered_at, replace(deadline, amount=decided.amount, unit=decided.unit, amount_from=None), fields)
        return None if due is None else Due(due.at, due.provisional, f"按决定限期{decided}：{due.rule}")
    return _counted(cal, entered_at, deadline, fields)


def _counted(cal: WorkCalendar, entered_at: datetime, deadline: Deadline, fields: dict) -> Due | None:
    """A deadline counted in its amount and unit, from entering the state or from its date field."""
    if deadline.field is None:
        if deadline.unit == "hours":
            return Due(entered_at + timedelta(hours=deadline.amount), False, f"进入后{deadline.amount}小时")
        end, prov, rule = period_end(cal, local_date(entered_at), deadline.amount, deadline.unit)
        return Due(end_of_day(end), prov, rule + "，当日24时")
    raw = fields.get(deadline.field)
    if not raw:
        return None
    anchor = parse_date(raw, deadline.field)
    if deadline.unit == "hours":
        start = datetime.combine(anchor, time(0), TZ).astimezone(UTC)
        sign = -1 if deadline.direction == "before" else 1
        return Due(start + sign * timedelta(hours=deadline.amount), False, f"{deadline.field_label or deadline.field} {anchor} 起{deadline.amount}小时")
    end, prov, rule = period_end(cal, anchor, deadline.amount, deadline.unit, deadline.direction)
    return Due(end_of_day(end), prov, f"{deadline.field_label or deadline.field} " + rule + "，当日24时")


def shift(cal: WorkCalendar, at: datetime, offset: Duration, direction: str) -> tuple[datetime, bool]:
    """`at` moved by an offset in its own unit (rung times, yellow thresholds, extensions)."""
    sign = -1 if direction == "before" else 1
    if offset.unit == "hours":
        return at + sign * timedelta(hours=offset.amount), False
    if offset.unit == "days":
        return at + sign * timedelta(days=offset.amount), False
    local = at.astimezone(TZ)
    midnight = local.time() == time(0)
    base = local.date() - timedelta(days=1) if midnight else local.date()
    t = _Trace(cal)
    if offset.unit == "workdays":
        new = _walk_workdays(t, base, sign * offset.amount)
    else:
        new = add_months(base, sign * offset.amount)
    if midnight:
        return end_of_day(new), t.provisional
    return datetime.combine(new, local.timetz()).astimezone(UTC), t.provisional


def overdue_workdays(cal: WorkCalendar, due: datetime, now: datetime) -> int:
    """Working days that have begun since a due time passed (0 when not yet due): how late a step is."""
    if now <= due:
        return 0
    return cal.workdays_in(last_day(due) + timedelta(days=1), local_date(now))


def lost_units(cal: WorkCalendar, unit: str, paused_at: datetime, resumed_at: datetime) -> int:
    """Clock time a pause took, in the deadline's unit: working days, days, or seconds for hours."""
    if unit == "hours":
        return int((resumed_at - paused_at).total_seconds())
    p, r = local_date(paused_at), local_date(resumed_at)
    if unit == "workdays":
        return sum(1 for i in range((r - p).days) if cal.is_workday(p + timedelta(days=i)))
    return (r - p).days


def extend(cal: WorkCalendar, due: datetime, unit: str, extra: int) -> tuple[datetime, bool]:
    """A due time moved later by `extra` units lost to pauses (see lost_units)."""
    if extra <= 0:
        return due, False
    if unit == "hours":
        return due + timedelta(seconds=extra), False
    t = _Trace(cal)
    if unit == "workdays":
        end = _walk_workdays(t, last_day(due), extra)
    else:
        end = _roll(t, last_day(due) + timedelta(days=extra), 1)
    return end_of_day(end), t.provisional


def parse_date(value: object, what: str = "date") -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise CalendarError(f"{what}：“{value}”不是日期（应写作 年-月-日，如 2026-03-20）") from None


def explain_due(cal: WorkCalendar, start: date, amount: int, unit: str, direction: str = "after") -> Due:
    """For `wuzhuan calendar due`: the due time of a period from a date, with the rule spelled out."""
    if amount < 1:
        raise CalendarError("期限至少为 1")
    if unit == "hours":
        at = datetime.combine(start, time(0), TZ).astimezone(UTC)
        sign = -1 if direction == "before" else 1
        return Due(at + sign * timedelta(hours=amount), False, f"{start} 0时起{amount}小时")
    end, prov, rule = period_end(cal, start, amount, unit, direction)
    return Due(end_of_day(end), prov, rule + "，当日24时")
