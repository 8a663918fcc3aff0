"""Working days and deadline arithmetic, checked by hand against the State Council notices.

Holiday arrangements used for the hand checks (国务院办公厅关于部分节假日安排的通知):
2024 春节 2/10-2/17 (2/4 Sun, 2/18 Sun work; 2/9 除夕 is a working day); 清明 4/4-4/6 (4/7 Sun work);
     劳动节 5/1-5/5 (4/28 Sun, 5/11 Sat work); 中秋 9/15-9/17 (9/14 Sat work);
     国庆 10/1-10/7 (9/29 Sun, 10/12 Sat work).
2025 元旦 1/1; 春节 1/28-2/4 (1/26 Sun, 2/8 Sat work); 劳动节 5/1-5/5 (4/27 Sun work);
     国庆中秋 10/1-10/8 (9/28 Sun, 10/11 Sat work).
2026 元旦 1/1-1/3 (1/4 Sun work); 春节 2/15-2/23 (2/14 Sat, 2/28 Sat work); 劳动节 5/1-5/5 (5/9 Sat work);
     中秋 9/25-9/27; 国庆 10/1-10/7 (9/20 Sun, 10/10 Sat work).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from workflow.calendar import (
    EPOCH,
    EVERY_DAY,
    TZ,
    Spans,
    build_calendar,
    compute_due,
    cross_check,
    explain_due,
    last_day,
)
from workflow.definition import Deadline

CAL = build_calendar()

CASES = [
    # (start, amount, unit, direction, expected last day, why)
    ("2024-02-08", 1, "workdays", "after", "2024-02-09", "除夕 2/9 was a working day in 2024"),
    ("2024-02-08", 2, "workdays", "after", "2024-02-18", "2/10-17 春节, 2/18 Sunday make-up day"),
    ("2024-02-02", 1, "workdays", "after", "2024-02-04", "2/4 Sunday make-up day"),
    ("2024-09-27", 1, "workdays", "after", "2024-09-29", "9/29 Sunday make-up day"),
    ("2024-09-29", 1, "workdays", "after", "2024-09-30", "Monday after a make-up Sunday"),
    ("2024-09-30", 1, "workdays", "after", "2024-10-08", "国庆 10/1-7"),
    ("2024-10-11", 1, "workdays", "after", "2024-10-12", "10/12 Saturday make-up day"),
    ("2024-04-26", 1, "workdays", "after", "2024-04-28", "4/28 Sunday make-up day"),
    ("2024-04-30", 1, "workdays", "after", "2024-05-06", "劳动节 5/1-5"),
    ("2024-05-10", 1, "workdays", "after", "2024-05-11", "5/11 Saturday make-up day"),
    ("2025-01-24", 1, "workdays", "after", "2025-01-26", "1/26 Sunday make-up day"),
    ("2025-01-26", 1, "workdays", "after", "2025-01-27", "Monday"),
    ("2025-01-27", 1, "workdays", "after", "2025-02-05", "春节 1/28-2/4"),
    ("2025-02-05", 3, "workdays", "after", "2025-02-08", "2/6, 2/7, then 2/8 Saturday make-up day"),
    ("2025-09-26", 1, "workdays", "after", "2025-09-28", "9/28 Sunday make-up day"),
    ("2025-09-30", 1, "workdays", "after", "2025-10-09", "国庆中秋 10/1-8"),
    ("2025-10-09", 2, "workdays", "after", "2025-10-11", "10/10, then 10/11 Saturday make-up day"),
    ("2026-02-12", 5, "workdays", "after", "2026-02-26", "2/13, 2/14 make-up, 春节 2/15-23, 2/24, 2/25, 2/26"),
    ("2026-02-26", 2, "workdays", "after", "2026-02-28", "2/27, then 2/28 Saturday make-up day"),
    ("2026-09-18", 1, "workdays", "after", "2026-09-20", "9/20 Sunday make-up day"),
    ("2026-09-30", 1, "workdays", "after", "2026-10-08", "国庆 10/1-7"),
    ("2026-10-09", 1, "workdays", "after", "2026-10-10", "10/10 Saturday make-up day"),
    ("2026-04-30", 1, "workdays", "after", "2026-05-06", "劳动节 5/1-5"),
    ("2026-05-08", 1, "workdays", "after", "2026-05-09", "5/9 Saturday make-up day"),
    ("2025-12-31", 1, "workdays", "after", "2026-01-04", "元旦 1/1-3, 1/4 Sunday make-up day"),
    ("2026-01-07", 15, "workdays", "after", "2026-01-28", "three plain weeks"),
    # days: the start day is not counted; a period ending on a rest day ends on the next working day
    ("2024-09-30", 1, "days", "after", "2024-10-08", "10/1 is 国庆: next working day"),
    ("2024-09-28", 1, "days", "after", "2024-09-29", "9/29 is a Sunday but a working day"),
    ("2024-02-01", 10, "days", "after", "2024-02-18", "2/11 in 春节, first working day 2/18 (Sunday make-up)"),
    ("2025-01-20", 7, "days", "after", "2025-01-27", "plain Monday"),
    ("2025-01-20", 8, "days", "after", "2025-02-05", "1/28 in 春节 until 2/4"),
    ("2026-01-31", 15, "days", "after", "2026-02-24", "2/15 in 春节 until 2/23"),
    ("2026-09-10", 10, "days", "after", "2026-09-20", "9/20 Sunday make-up day"),
    ("2026-03-01", 20, "days", "after", "2026-03-23", "3/21 Saturday → Monday"),
    ("2026-05-01", 3, "days", "after", "2026-05-06", "5/4 in 劳动节"),
    # months: same-numbered day, or the month's last day
    ("2026-01-31", 1, "months", "after", "2026-02-28", "no 2/31; 2/28 is a Saturday make-up day"),
    ("2025-01-31", 1, "months", "after", "2025-02-28", "no 2/31; a Friday"),
    ("2024-01-31", 1, "months", "after", "2024-02-29", "leap year"),
    ("2024-01-30", 1, "months", "after", "2024-02-29", "leap year, no 2/30"),
    ("2023-11-30", 3, "months", "after", "2024-02-29", "across a year into a leap February"),
    ("2023-12-31", 2, "months", "after", "2024-02-29", "no 2/31 → last day"),
    ("2024-03-31", 1, "months", "after", "2024-04-30", "no 4/31; a Tuesday before 劳动节"),
    ("2025-08-31", 1, "months", "after", "2025-09-30", "no 9/31"),
    ("2025-09-01", 1, "months", "after", "2025-10-09", "10/1 in 国庆中秋 until 10/8"),
    ("2024-12-10", 2, "months", "after", "2025-02-10", "plain Monday"),
    ("2025-11-15", 3, "months", "after", "2026-02-24", "2/15 in 春节 until 2/23"),
    ("2026-03-04", 6, "months", "after", "2026-09-04", "plain Friday"),
    ("2025-07-05", 3, "months", "after", "2025-10-09", "10/5 in 国庆中秋"),
    # counted back from a meeting date (监督法 Art.15: 20 days before); a rest day moves earlier
    ("2026-03-25", 20, "days", "before", "2026-03-05", "plain Thursday"),
    ("2026-10-15", 20, "days", "before", "2026-09-24", "9/25 is 中秋 → the Thursday before"),
    ("2026-10-28", 25, "days", "before", "2026-09-30", "10/3 in 国庆 → 9/30"),
    ("2026-03-09", 7, "days", "before", "2026-03-02", "plain Monday"),
    ("2026-03-02", 10, "days", "before", "2026-02-14", "2/20 in 春节 → 2/14 Saturday make-up day"),
    ("2026-02-26", 3, "workdays", "before", "2026-02-14", "2/25, 2/24, then back over 春节 to 2/14"),
    ("2026-03-31", 1, "months", "before", "2026-02-28", "no 2/31; 2/28 a make-up Saturday"),
    ("2024-10-20", 20, "days", "before", "2024-09-30", "plain Monday"),
]


@pytest.mark.parametrize("start, amount, unit, direction, expected, why", CASES, ids=[f"{c[0]}{'+' if c[3] == 'after' else '-'}{c[1]}{c[2]}" for c in CASES])
def test_due_dates_checked_by_hand(start, amount, unit, direction, expected, why):
    due = explain_due(CAL, date.fromisoformat(start), amount, unit, direction)
    assert last_day(due.at) == date.fromisoformat(expected), why
    assert not due.provisional


def test_at_least_forty_hand_checked_dates():
    assert len(CASES) >= 40


def test_due_is_24_00_shanghai_stored_in_utc():
    due = explain_due(CAL, date(2026, 2, 12), 5, "workdays")
    assert due.at == datetime(2026, 2, 26, 16, 0, tzinfo=UTC)
    assert due.local == datetime(2026, 2, 27, 0, 0, tzinfo=TZ)


def test_hours_are_exact():
    entered = datetime(2026, 2, 14, 1, 30, tzinfo=UTC)
    assert compute_due(CAL, entered, Deadline(48, "hours"), {}).at == entered + timedelta(hours=48)


def test_calendar_none_counts_every_day():
    assert last_day(explain_due(EVERY_DAY, date(2026, 9, 30), 1, "days").at) == date(2026, 10, 1)
    assert last_day(explain_due(EVERY_DAY, date(2026, 2, 13), 2, "workdays").at) == date(2026, 2, 15)


def test_relative_deadline_waits_for_its_field():
    d = Deadline(20, "days", "meeting_date", "before")
    assert compute_due(CAL, datetime(2026, 1, 5, tzinfo=UTC), d, {}) is None
    assert last_day(compute_due(CAL, datetime(2026, 1, 5, tzinfo=UTC), d, {"meeting_date": "2026-03-25"}).at) == date(2026, 3, 5)


def test_entry_day_is_the_shanghai_day():
    # 2026-02-12 17:00 UTC is already 2/13 01:00 in Shanghai: count from 2/13
    due = compute_due(CAL, datetime(2026, 2, 12, 17, 0, tzinfo=UTC), Deadline(1, "workdays"), {})
    assert last_day(due.at) == date(2026, 2, 14)


def test_library_data_agrees_with_holidays_package():
    assert cross_check(range(2024, 2027)) == []


def test_uncovered_year_is_provisional_and_never_raises():
    due = explain_due(CAL, date(2026, 12, 20), 20, "workdays")
    assert due.provisional
    # weekends and rule-based statutory holidays still count: 2027-01-01 is 元旦
    assert not CAL.is_workday(date(2027, 1, 1))
    assert not CAL.is_workday(date(2027, 1, 2))  # a Saturday
    far = explain_due(CAL, date(2031, 5, 1), 1, "months")
    assert far.provisional


def test_imported_notice_makes_the_year_exact(tmp_path):
    from workflow.calendar_notice import parse as parse_notice

    p = tmp_path / "2027.yaml"
    p.write_text(NOTICE_2027, encoding="utf-8")
    year, source, days = parse_notice(p)
    cal = build_calendar(days, [year])
    assert cal.is_exact(date(2027, 2, 8))
    assert cal.is_workday(date(2027, 2, 20))  # make-up Saturday from the (test) notice
    assert not cal.is_workday(date(2027, 2, 8))


def test_lookup_is_a_dictionary_lookup():
    # the calendar must answer from its own table, not recompute through chinese_calendar (15 µs a call)
    assert date(2026, 2, 16) in CAL.off and date(2026, 2, 14) in CAL.on


# A fictional 2027 notice for tests only (the real one is published by the State Council each autumn).
NOTICE_2027 = """\
year: 2027
source: 测试用假想通知（非真实数据）
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
  - {name: 春节, from: 2027-02-06, to: 2027-02-13}
workdays:
  - {name: 春节调休上班, date: 2027-02-20}
  - {name: 春节调休上班, date: 2027-01-31}
"""


@pytest.mark.parametrize("text, message", [
    ("year: 2027\nholidays: [{name: x, from: 2027-02-10, to: 2027-02-01}]\n", "on or after"),
    ("year: 2027\nholidays: [{name: x, from: 2026-02-10}]\n", "not in 2027"),
    ("year: 2027\nholidays: [{name: x, from: 2027-02-10}]\nworkdays: [{date: 2027-02-17}]\n", "only Saturdays and Sundays"),
    ("year: 2027\n", "no holidays"),
    ("holidays: []\n", "`year`"),
    ("year: 2027\nholidays: [{name: x, from: 2027-13-01}]\n", "第 1 个假期的起始日（from）：“2027-13-01”不是日期"),
])
def test_bad_notices_are_refused(tmp_path, text, message):
    from workflow.calendar_notice import parse as parse_notice
    from workflow.errors import CalendarError

    p = tmp_path / "n.yaml"
    p.write_text(text)
    with pytest.raises(CalendarError, match=message):
        parse_notice(p)


def test_holiday_cn_json_format(tmp_path):
    from workflow.calendar_notice import parse as parse_notice

    p = tmp_path / "2027.json"
    p.write_text('{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true},'
                 ' {"name": "春节", "date": "2027-01-31", "isOffDay": false}]}')
    year, _, days = parse_notice(p)
    assert year == 2027 and (date(2027, 1, 31), True, "春节") in days


EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "calendar-example.yaml"


def test_documented_example_notice_parses():
    from workflow.calendar_notice import parse as parse_notice

    year, _, days = parse_notice(EXAMPLE)
    assert year == 2026 and any(not w for _, w, _ in days)


def test_step_crossing_into_an_uncovered_year_is_provisional_until_import(ready, tmp_path):
    """A step due in 2027 (no official data yet) is provisional; importing the notice recomputes it exactly."""
    from conftest import at
    from workflow import service

    # topic_selection: 15 working days from 2026-12-21 runs into January 2027
    item_id = service.create_item(ready, "wang.fang", template="special_supervision", title="跨年事项",
                                  now=at("2026-12-21 09:00"), group="g-env").id
    before = service.show_item(ready, service.OPERATOR, item_id, at("2026-12-21 09:00"))
    assert before.step.provisional
    # by rule: 12/22..12/31 is 8 working days, 1/1 元旦 and the weekend are off, then 1/4..1/8 and 1/11, 1/12
    assert before.step.due == "2027-01-12 24:00"
    p = tmp_path / "2027.yaml"
    p.write_text(NOTICE_2027, encoding="utf-8")  # fictional: 元旦 1/1-1/3 and no make-up day before 1/31
    r = service.import_calendar(ready, "wang.fang", p, at("2026-12-22 09:00"))
    assert r.recomputed_steps == 1
    after = service.show_item(ready, service.OPERATOR, item_id, at("2026-12-22 09:00"))
    assert not after.step.provisional
    assert after.step.due == "2027-01-12 24:00"  # the same days are off in this notice
    # a notice that adds a make-up Sunday inside the period moves the due date one working day earlier
    p2 = tmp_path / "2027b.yaml"
    p2.write_text(NOTICE_2027.replace("date: 2027-01-31", "date: 2027-01-10"), encoding="utf-8")
    service.import_calendar(ready, "wang.fang", p2, at("2026-12-22 10:00"))
    # the year is exact now, so nothing is provisional to recompute: re-importing changes only new steps
    assert service.show_item(ready, service.OPERATOR, item_id, at("2026-12-22 10:00")).step.due == "2027-01-12 24:00"
    later = service.create_item(ready, "wang.fang", template="special_supervision", title="跨年事项二",
                                now=at("2026-12-21 09:00"), group="g-env").id
    assert service.show_item(ready, service.OPERATOR, later, at("2026-12-22 10:00")).step.due == "2027-01-11 24:00"


def test_workdays_counted_equal_workdays_walked():
    """overdue_workdays counts working days by arithmetic: the same as walking the days one by one."""
    import random

    cal = build_calendar()
    rng = random.Random(1)
    for _ in range(400):
        first = date(2019, 1, 1) + timedelta(days=rng.randint(0, 3600))
        last = first + timedelta(days=rng.randint(-3, 900))
        walked = sum(1 for i in range((last - first).days + 1) if cal.is_workday(first + timedelta(days=i)))
        assert cal.workdays_in(first, last) == walked, (first, last)


def test_spans_of_day_numbers_equal_workdays_counted():
    """Spans (the reports' working days between day numbers) answers as workdays_in does, including when asked far
    before and after the range it has counted so far, and for an empty span."""
    import random

    cal = build_calendar()
    span = Spans(cal)
    rng = random.Random(2)
    days = [rng.randint(15_000, 25_000) for _ in range(300)] + [20_000, 3_000, 60_000, 20_001]
    for first in days:
        last = first + rng.randint(-3, 900)
        expected = cal.workdays_in(EPOCH + timedelta(days=first), EPOCH + timedelta(days=last))
        assert span(first, last) == expected, (first, last)
    assert span(20_000, 19_999) == 0 and span(20_000, 20_000) == cal.is_workday(EPOCH + timedelta(days=20_000))
