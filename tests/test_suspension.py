"""Pause/resume (挂起/恢复) and extension requests (延期申请): the happy paths and every refusal."""

from __future__ import annotations

import pytest

from conftest import T0, at
from workflow import service
from workflow.errors import InvalidInput, NotFound, NotPermitted


def new_item(store) -> int:
    return service.create_item(store, "wang.fang", template="special_supervision", title="养老服务体系建设专项监督",
                             now=T0, group="g-elderly").id


def test_pause_stops_the_clock_and_resume_adds_working_days(ready):
    item_id = new_item(ready)  # topic_selection due 2026-01-26 24:00 (15 working days)
    r = service.pause(ready, "li.ming", item_id, "等待市委批复", at("2026-01-12 09:00"))
    assert r.due == "2026-01-26 24:00"
    d = service.show_item(ready, service.OPERATOR, item_id, at("2026-03-01 09:00"))
    assert d.paused and d.light == "green"  # the clock stands where it was paused
    # paused Mon 1/12 .. resumed Mon 1/19: five working days lost (1/12-1/16)
    r = service.resume(ready, "li.ming", item_id, at("2026-01-19 09:00"))
    assert r.added == 5 and r.unit == "working days"
    assert r.due == "2026-02-02 24:00"  # 1/26 + 5 working days
    d = service.show_item(ready, service.OPERATOR, item_id, at("2026-01-19 09:00"))
    assert not d.paused and d.step.due == "2026-02-02 24:00"
    kinds = [e.kind for e in service.history(ready, service.OPERATOR, item_id)]
    assert kinds[-2:] == ["paused", "resumed"]


def test_pause_across_spring_festival_adds_only_working_days(ready):
    item_id = new_item(ready)
    service.advance(ready, "wang.fang", item_id, "propose", at("2026-02-10 09:00"), fields={"topic": "x", "source": "社会关注"})
    # annual_plan: 1 month → due 3/10; paused 2/13..2/25 is 12 calendar days, counted in days for a month deadline
    service.pause(ready, "li.ming", item_id, "春节", at("2026-02-13 09:00"))
    r = service.resume(ready, "li.ming", item_id, at("2026-02-25 09:00"))
    assert r.old_due == "2026-03-10 24:00" and r.added == 12 and r.due == "2026-03-23 24:00"  # 3/22 is a Sunday


def test_paused_steps_do_not_escalate(ready):
    item_id = new_item(ready)
    service.pause(ready, "li.ming", item_id, "暂缓", at("2026-01-06 09:00"))
    assert service.sweep(ready, at("2026-06-01 09:00")).fired == 0
    service.resume(ready, "li.ming", item_id, at("2026-06-01 09:00"))
    assert service.sweep(ready, at("2026-06-01 09:01")).fired == 0  # the due time moved with the pause


def test_pause_refusals(ready):
    item_id = new_item(ready)
    with pytest.raises(InvalidInput, match="需要说明理由"):
        service.pause(ready, "li.ming", item_id, " ", T0)
    with pytest.raises(NotPermitted, match=r"不能暂停.*应由主任会议（李明、郑宇）或工作委员会（马兰）办理"):
        service.pause(ready, "song.kai", item_id, "想停一下", T0)
    assert service.history(ready, service.OPERATOR, item_id)[-1].kind == "refused"
    with pytest.raises(InvalidInput, match="环节没有挂起"):
        service.resume(ready, "li.ming", item_id, T0)
    service.pause(ready, "li.ming", item_id, "暂缓", T0)
    with pytest.raises(InvalidInput, match="起已挂起"):
        service.pause(ready, "li.ming", item_id, "再停", T0)
    with pytest.raises(NotPermitted):
        service.resume(ready, "song.kai", item_id, T0)
    with pytest.raises(NotFound):
        service.pause(ready, "li.ming", 4242, "x", T0)


def test_extension_approved_moves_due_and_ladder(ready):
    item_id = new_item(ready)  # owner: office (wang.fang); due 1/26 24:00
    r = service.request_extension(ready, "wang.fang", item_id, "需要补充调研", "2026-02-27", at("2026-01-20 10:00"))
    assert r.approvers == ["leader", "council"] and r.approver_labels == ["分管副主任", "主任会议"]
    d = service.decide_extension(ready, "li.ming", r.id, True, at("2026-01-21 10:00"), "同意")
    assert d.status == "approved" and d.due == "2026-02-27 24:00"
    show = service.show_item(ready, service.OPERATOR, item_id, at("2026-01-21 10:00"))
    assert show.step.due == "2026-02-27 24:00" and show.extensions[0].status == "approved"
    # the reminder (2 working days before) moved too: nothing fires at the old due time
    assert service.sweep(ready, at("2026-01-27 09:00")).fired == 0
    assert service.sweep(ready, at("2026-02-26 09:00")).fired == 1  # reminder: 2/25 24:00 (2/26, 2/27 left)
    kinds = [e.kind for e in service.history(ready, service.OPERATOR, item_id)]
    assert "extension_requested" in kinds and "extension_approved" in kinds


def test_extension_rejected_keeps_due(ready):
    item_id = new_item(ready)
    r = service.request_extension(ready, "wang.fang", item_id, "理由", "2026-02-27", at("2026-01-20 10:00"))
    d = service.decide_extension(ready, "li.ming", r.id, False, at("2026-01-21 10:00"), "不同意")
    assert d.status == "rejected" and d.due == "2026-01-26 24:00"
    with pytest.raises(InvalidInput, match="已由.*不同意"):
        service.decide_extension(ready, "li.ming", r.id, True, at("2026-01-21 11:00"))


def test_extension_refusals(ready):
    item_id = new_item(ready)
    with pytest.raises(NotPermitted, match="延期须在时限届满前申请"):
        service.request_extension(ready, "wang.fang", item_id, "晚了", "2026-03-01", at("2026-01-27 09:00"))
    assert service.history(ready, service.OPERATOR, item_id)[-1].kind == "refused"
    with pytest.raises(NotPermitted, match=r"只有承办方常委会办公室（王芳）可以申请"):
        service.request_extension(ready, "wu.min", item_id, "组长代提", "2026-03-01", at("2026-01-20 09:00"))
    with pytest.raises(InvalidInput, match="必须晚于现在的办理时限"):
        service.request_extension(ready, "wang.fang", item_id, "理由", "2026-01-20", at("2026-01-20 09:00"))
    with pytest.raises(InvalidInput, match="需要说明理由"):
        service.request_extension(ready, "wang.fang", item_id, "", "2026-03-01", at("2026-01-20 09:00"))
    with pytest.raises(InvalidInput, match="延期至：“下个月”不是日期"):
        service.request_extension(ready, "wang.fang", item_id, "理由", "下个月", at("2026-01-20 09:00"))
    r = service.request_extension(ready, "wang.fang", item_id, "理由", "2026-03-01", at("2026-01-20 09:00"))
    with pytest.raises(InvalidInput, match="尚待审批"):
        service.request_extension(ready, "wang.fang", item_id, "再来", "2026-03-02", at("2026-01-20 09:05"))
    with pytest.raises(NotPermitted, match="不能审批"):
        service.decide_extension(ready, "wu.min", r.id, True, at("2026-01-20 10:00"))
    with pytest.raises(NotFound):
        service.decide_extension(ready, "li.ming", 999, True, at("2026-01-20 10:00"))
    service.advance(ready, "wang.fang", item_id, "propose", at("2026-01-21 09:00"), fields={"topic": "x", "source": "社会关注"})
    with pytest.raises(InvalidInput, match="环节已结束"):
        service.decide_extension(ready, "li.ming", r.id, True, at("2026-01-21 10:00"))


def test_pause_then_extension_then_pause_keeps_everything(ready):
    item_id = new_item(ready)
    service.pause(ready, "li.ming", item_id, "一", at("2026-01-12 09:00"))
    service.resume(ready, "li.ming", item_id, at("2026-01-13 09:00"))  # +1 working day → 1/27
    assert service.show_item(ready, service.OPERATOR, item_id, T0).step.due == "2026-01-27 24:00"
    r = service.request_extension(ready, "wang.fang", item_id, "延期", "2026-02-10", at("2026-01-14 09:00"))
    service.decide_extension(ready, "li.ming", r.id, True, at("2026-01-14 10:00"))
    service.pause(ready, "li.ming", item_id, "二", at("2026-01-15 09:00"))
    service.resume(ready, "li.ming", item_id, at("2026-01-16 09:00"))  # +1 working day after the extension
    assert service.show_item(ready, service.OPERATOR, item_id, T0).step.due == "2026-02-11 24:00"
