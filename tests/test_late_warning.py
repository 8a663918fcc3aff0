"""Issue 28 §5: a move into a step whose deadline has already passed says so, and why, before it is made, and
asks for a confirmation; without it the workbench holds the move back (409) with what was typed."""

from __future__ import annotations

import re

from test_web import field, signed_in, web  # noqa: F401  (the fixture)

from workflow import service
from workflow.service import reads


def _to_research(store, clock, a, meeting: str):
    service.advance(store, "li.ming", a, "adopt_plan", clock.t, fields={"meeting_date": meeting})
    service.advance(store, "chen.jing", a, "approve_work_plan", clock.t, fields={"plan_doc": "方案"})


def test_a_move_into_a_step_already_overdue_warns_and_needs_a_confirmation(web):  # noqa: F811  (the fixture)
    store, clock, client, (a, _b) = web
    _to_research(store, clock, a, "2026-01-20")  # 调研意见汇总交办 is due 25 days before the meeting: 2025-12-26
    warning = reads.late_on_move(store, "zhao.hua", a, "finish_research", {}, clock.t)
    assert warning.startswith("进入「调研意见汇总交办」后即已逾期 7 个工作日，因为办理时限 2025-12-26 24:00 已过")  # 29–31 Dec, 4 Jan (调休), 5–7 Jan
    assert "常委会会议日期" in warning  # the rule names the field it counts from
    c = signed_in(client, "zhao.hua")
    page = c.get(f"/items/{a}").text
    assert warning in page and 'name="confirm_late" required' in page
    form = {"csrf": field(page, "csrf"), "trigger": "finish_research", "version": field(page, "version"),
            "field:research_report": "调研报告正文"}
    held = c.post(f"/items/{a}/advance", data=form, follow_redirects=False)
    assert held.status_code == 409 and "请勾选“我已知晓”后再次提交" in held.text and "调研报告正文" in held.text
    assert service.show_item(store, service.OPERATOR, a, clock.t).state == "research"  # nothing moved
    done = c.post(f"/items/{a}/advance", data={**form, "confirm_late": "on"}, follow_redirects=False)
    assert done.status_code == 303 and service.show_item(store, service.OPERATOR, a, clock.t).state == "opinions_handover"


def test_no_warning_when_the_next_step_is_not_late(web):  # noqa: F811  (the fixture)
    store, clock, client, (a, _b) = web
    _to_research(store, clock, a, "2026-06-25")
    assert reads.late_on_move(store, "zhao.hua", a, "finish_research", {}, clock.t) == ""
    page = signed_in(client, "zhao.hua").get(f"/items/{a}").text
    assert "confirm_late" not in page and not re.search("后即已逾期", page)
