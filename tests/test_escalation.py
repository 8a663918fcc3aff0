"""Escalation: the pure rung planner, and the sweep on SQLite and PostgreSQL (once, downtime, urgency)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from conftest import T0, at
from notifier.transports import MemoryTransport
from workflow import escalation, service
from workflow.calendar import build_calendar
from workflow.definition import Duration, Rung, State
from workflow.store.models import Escalation, Outbox, Person, Step

CAL = build_calendar()
LADDER = (
    Rung("reminder", "到期提醒", Duration(2, "workdays"), "before", ("owner",), "reminder"),
    Rung("blue", "蓝色督办", Duration(0, "hours"), "after", ("owner",), "duban_blue"),
    Rung("yellow", "黄色督办", Duration(3, "workdays"), "after", ("owner",), "duban_yellow"),
    Rung("red", "红色督办", Duration(7, "workdays"), "after", ("owner",), "duban_red"),
)
STATE = State("s", "步骤", "office", ladder=LADDER)
DUE = at("2026-03-13 00:00") + timedelta(days=1)  # Friday 3/13 24:00


def test_plan_places_rungs_in_working_days():
    p = escalation.plan(CAL, STATE, DUE)
    assert [x.rung.name for x in p] == ["reminder", "blue", "yellow", "red"]
    assert p[0].at == at("2026-03-12 00:00")  # end of Wed 3/11: two working days (Thu, Fri) left
    assert p[1].at == DUE
    assert p[2].at == at("2026-03-19 00:00")  # end of Wed 3/18, the 3rd working day after Fri 3/13
    assert p[3].at == at("2026-03-25 00:00")  # end of Tue 3/24


def test_decide_fires_the_due_rung_and_points_at_the_next():
    p = escalation.plan(CAL, STATE, DUE)
    d = escalation.decide(p, 0, at("2026-03-12 08:00"))
    assert d.fire.rung.name == "reminder" and d.skipped == () and d.next_rung == 1 and d.next_at == DUE
    assert escalation.decide(p, 0, at("2026-03-11 08:00")).fire is None


def test_after_downtime_only_the_highest_rung_fires():
    p = escalation.plan(CAL, STATE, DUE)
    d = escalation.decide(p, 0, at("2026-03-24 12:00"))
    assert d.fire.rung.name == "yellow" and [s.rung.name for s in d.skipped] == ["reminder", "blue"]
    assert d.next_rung == 3 and d.next_at == at("2026-03-25 00:00")
    d = escalation.decide(p, 4, at("2026-12-01 00:00"))
    assert d.fire is None and d.next_at is None


def test_urgent_item_starts_at_a_higher_rung():
    p = escalation.plan(CAL, STATE, DUE, start_rung="yellow")
    assert [x.rung.name for x in p] == ["reminder", "yellow", "red"]
    assert p[1].at == DUE  # yellow takes blue's time
    p = escalation.plan(CAL, STATE, DUE, start_rung="red")
    assert [x.rung.name for x in p] == ["reminder", "red"] and p[1].at == DUE


# --- the sweep over a real store --------------------------------------------------------------

def new_item(store, urgency="一般", group="g-env") -> int:
    return service.create_item(store, "wang.fang", template="special_supervision", title="专项监督", now=T0,
                               group=group, fields={"urgency": urgency}).id


def fired(store, item_id: int) -> list[tuple[str, str]]:
    with store.read() as tx:
        return [(r.rung, r.status) for r in tx.execute(select(Escalation.rung, Escalation.status)
                                                       .where(Escalation.item_id == item_id).order_by(Escalation.id))]


def test_each_rung_fires_once_as_time_passes(ready):
    item_id = new_item(ready)  # due 1/26 24:00
    times = ["2026-01-20 09:00", "2026-01-23 09:00", "2026-01-23 09:00", "2026-01-27 09:00", "2026-01-30 09:00",
             "2026-02-01 09:00", "2026-02-06 09:00", "2026-02-10 09:00", "2026-03-01 09:00"]
    for t in times:
        service.sweep(ready, at(t))
    assert fired(ready, item_id) == [("reminder", "fired"), ("blue", "fired"), ("yellow", "fired"), ("red", "fired")]
    with ready.read() as tx:
        mails = tx.execute(select(Outbox.notice, Outbox.recipients).where(Outbox.escalation_id.is_not(None))
                           .order_by(Outbox.id)).all()
        # one message per rung, To the owner (王芳): reminder alone; blue Cc the lead; yellow + committee; red + council (2)
        assert [m.notice for m in mails] == ["reminder", "duban_blue", "duban_yellow", "duban_red"]
        assert [[r[0] for r in m.recipients["to"]] for m in mails] == [["王芳"]] * 4
        assert [len(m.recipients["cc"]) for m in mails] == [0, 1, 2, 4]
        slips = tx.execute(select(Escalation.rung, Escalation.slip_no, Escalation.limit_at).where(Escalation.item_id == item_id)
                           .order_by(Escalation.id)).all()
        # reminders are not 督办单; each slip a number of its year, gapless, and a new 限期
        assert [(x.rung, x.slip_no) for x in slips] == [("reminder", None), ("blue", "〔2026〕人大督字第1号"),
                                                         ("yellow", "〔2026〕人大督字第2号"), ("red", "〔2026〕人大督字第3号")]
        assert slips[0].limit_at is None and all(x.limit_at is not None for x in slips[1:])
        step = tx.execute(select(Step.next_escalation_at, Step.next_rung).where(Step.item_id == item_id)).one()
        assert step.next_escalation_at is None and step.next_rung == 4
    kinds = [e.kind for e in service.history(ready, service.OPERATOR, item_id)]
    assert kinds.count("escalated") == 4


def test_downtime_sends_only_the_highest_rung(ready):
    item_id = new_item(ready)
    r = service.sweep(ready, at("2026-02-04 09:00"))  # past reminder, blue (1/27) and yellow (1/29 24:00)
    assert r.fired == 1 and r.skipped == 2
    assert fired(ready, item_id) == [("reminder", "skipped"), ("blue", "skipped"), ("yellow", "fired")]
    ev = service.history(ready, service.OPERATOR, item_id)[-1]
    assert ev.kind == "escalated" and ev.data["rung"] == "yellow" and ev.data["skipped"] == ["reminder", "blue"]
    with ready.read() as tx:
        outbox = tx.execute(select(Outbox.notice, Outbox.escalation_id, Outbox.context)).all()
    assert {o.notice for o in outbox if o.escalation_id} == {"duban_yellow"}
    assert all(o.context["skipped"] == ["到期提醒", "蓝色督办单"] for o in outbox if o.escalation_id)


def test_finished_and_moved_on_items_do_not_escalate(ready):
    item_id = new_item(ready)
    service.advance(ready, "li.ming", item_id, "drop", at("2026-01-06 09:00"), comment="不立项")
    assert service.sweep(ready, at("2026-12-01 09:00")).fired == 0
    other = new_item(ready)
    service.advance(ready, "wang.fang", other, "propose", at("2026-01-26 09:00"), fields={"topic": "x", "source": "社会关注"})
    service.sweep(ready, at("2026-01-27 09:00"))
    assert all(r != "blue" for r, _ in fired(ready, other))  # the topic step was left before it was due


def test_urgent_item_gets_yellow_first(ready):
    item_id = new_item(ready, urgency="急")
    service.sweep(ready, at("2026-01-23 09:00"))
    service.sweep(ready, at("2026-01-27 09:00"))
    assert fired(ready, item_id) == [("reminder", "fired"), ("yellow", "fired")]
    critical = new_item(ready, urgency="特急")
    service.sweep(ready, at("2026-01-27 09:00"))
    assert fired(ready, critical) == [("reminder", "skipped"), ("red", "fired")]


def test_repeated_and_overlapping_sweeps_never_fire_twice(ready):
    ids = [new_item(ready) for _ in range(5)]
    first = service.sweep(ready, at("2026-01-27 09:00"), batch=2)
    again = service.sweep(ready, at("2026-01-27 09:00"), batch=2)
    assert first.fired == 5 and again.fired == 0
    for i in ids:
        assert fired(ready, i) == [("reminder", "skipped"), ("blue", "fired")]


def test_unique_claim_is_the_last_line_of_defence(ready):
    item_id = new_item(ready)
    service.sweep(ready, at("2026-01-27 09:00"))
    # a stale process that still thinks the step is at rung 0 cannot claim blue again
    with ready.transaction() as tx:
        tx.execute(Step.__table__.update().where(Step.item_id == item_id).values(next_rung=0, next_escalation_at=at("2026-01-22 00:00")))
    r = service.sweep(ready, at("2026-01-27 09:00"))
    assert r.fired == 0 and r.already_claimed == 1
    with ready.read() as tx:
        assert tx.execute(select(func.count()).select_from(Escalation).where(Escalation.rung == "blue")).scalar_one() == 1


def test_people_without_email_are_recorded(ready):
    item_id = service.create_item(ready, "wang.fang", template="special_supervision", title="无邮箱", now=T0,
                                assign={"office": ["wang.fang"]}).id
    with ready.transaction() as tx:
        tx.execute(Person.__table__.update().where(Person.code == "wang.fang").values(email=None))
    service.sweep(ready, at("2026-01-27 09:00"))
    ev = service.history(ready, service.OPERATOR, item_id)[-1]
    assert ev.data["no_email"] == ["王芳"]


def test_sweep_then_deliver_renders_every_notice(ready):
    new_item(ready)
    new_item(ready, urgency="特急", group="g-edu")
    service.sweep(ready, at("2026-03-01 09:00"))
    t = MemoryTransport()
    r = service.deliver(ready, t, at("2026-03-01 09:01"))
    assert r.sent == len(t.sent) > 0 and r.dead == 0
    subjects = {m["Subject"] for m in t.sent}
    assert any(s.startswith("【红色督办单】") for s in subjects)
    assert len({m["Message-ID"] for m in t.sent}) == len(t.sent)


def test_sweep_requires_aware_time(ready):
    from workflow.errors import InvalidInput

    with pytest.raises(InvalidInput):
        service.sweep(ready, datetime(2026, 1, 1))
    assert service.sweep(ready, datetime(2026, 1, 1, tzinfo=UTC)) == service.Swept()


def test_with_a_base_url_notices_link_to_the_item_page(ready):
    item_id = new_item(ready)
    service.sweep(ready, at("2026-01-23 09:00"))  # the reminder
    plain = MemoryTransport()
    service.deliver(ready, plain, at("2026-01-23 09:01"))
    assert plain.sent and not any("/items/" in m.as_string() for m in plain.sent)  # no setting, no link
    ready.settings = dataclasses.replace(ready.settings, base_url="https://duban.rd.example.gov.cn/")
    service.sweep(ready, at("2026-03-01 09:00"))  # the red 督办单
    linked = MemoryTransport()
    service.deliver(ready, linked, at("2026-03-01 09:01"))
    assert linked.sent
    for m in linked.sent:
        text_part = m.get_body(("plain",)).get_content()
        html_part = m.get_body(("html",)).get_content()
        assert f"在线办理：https://duban.rd.example.gov.cn/items/{item_id}" in text_part
        assert f'<a href="https://duban.rd.example.gov.cn/items/{item_id}">' in html_part
