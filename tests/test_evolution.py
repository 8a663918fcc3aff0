"""Live migration of items to another template version (issue 14, part 1), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import ADMIN, T0, at, chain_files
from workflow import service, templates
from workflow.errors import Conflict, InvalidInput, NotFound, NotPermitted
from workflow.store.models import AuditEvent, Escalation, Item

SOURCE = templates.builtin("special_supervision").read_text("utf-8")
RESEARCH = "  research:\n    label: 调研检查（视察、专题调研、执法检查）"


def publish(store, tmp_path, text: str, name: str = "v2.yaml") -> int:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return service.publish(store, ADMIN, p, T0 + timedelta(minutes=1)).version


def renamed(text: str = SOURCE) -> str:
    """research renamed to inspection (its rule unchanged)."""
    return (text.replace(RESEARCH, "  inspection:\n    label: 视察调研和执法检查")
            .replace("source: research,", "source: inspection,").replace("dest: research,", "dest: inspection,"))


def to_research(store, title="迁移") -> int:
    item = service.create_item(store, ADMIN, template="special_supervision", title=title, now=T0, group="g-env").id
    service.advance(store, ADMIN, item, "propose", at("2026-01-06 09:00"), fields={"topic": "t", "source": "社会关注"})
    service.advance(store, "li.ming", item, "adopt_plan", at("2026-01-07 09:00"), fields={"meeting_date": "2026-09-24"})
    service.advance(store, "chen.jing", item, "approve_work_plan", at("2026-01-08 09:00"), fields={"plan_doc": "1号"})
    return item  # at research, entered 2026-01-08 09:00, due two months later


def test_dry_run_then_apply_moves_a_renamed_state_keeping_its_due(ready, tmp_path):
    s = ready
    item = to_research(s)
    before = service.show_item(s, service.OPERATOR, item, at("2026-01-09 09:00"))
    v2 = publish(s, tmp_path, renamed())
    with pytest.raises(InvalidInput, match=r"事项 \d+ 处于环节.*（research），目标版本没有环节“research”") as e:
        service.migrate(s, ADMIN, "special_supervision", str(v2), at("2026-01-09 09:00"))
    assert e.value.details["unmapped"] == ["research"] and e.value.details["parameter"] == "map"
    plan = service.migrate(s, ADMIN, "special_supervision", str(v2), at("2026-01-09 09:00"), mapping={"research": "inspection"})
    assert not plan.applied and [(p.item, p.from_state, p.to_state, p.due_kept) for p in plan.items] == [
        (item, "research", "inspection", "same rule")]
    assert service.show_item(s, service.OPERATOR, item, at("2026-01-09 09:00")).version == before.version  # the dry run changed nothing
    done = service.migrate(s, ADMIN, "special_supervision", str(v2), at("2026-01-09 10:00"), mapping={"research": "inspection"},
                           apply=True)
    assert done.applied and done.items[0].applied
    after = service.show_item(s, service.OPERATOR, item, at("2026-01-09 10:01"))
    assert after.state == "inspection" and after.template_version == v2 and after.version == before.version + 1
    assert after.step.entered == before.step.entered and after.step.due == before.step.due == done.items[0].new_due
    ev = service.history(s, service.OPERATOR, item)[-1]
    assert ev.kind == "migrated" and ev.from_state == "research" and ev.to_state == "inspection"
    assert ev.data["from_version"] != v2 and ev.data["to_version"] == v2 and ev.data["map"] == {"research": "inspection"}
    # the migrated item moves on under the new version
    r = service.advance(s, "zhao.hua", item, "finish_research", at("2026-01-10 09:00"), fields={"research_report": "报告"})
    assert r.to_state == "opinions_handover"
    assert service.verify_audit(s).ok


def test_a_changed_rule_is_recomputed_from_the_original_entry_a_paused_or_extended_due_is_kept(ready, tmp_path):
    s = ready
    plain, paused, extended = (to_research(s, t) for t in ("重算", "挂起", "延期"))
    service.pause(s, "li.ming", paused, "暂缓", at("2026-01-09 09:00"))
    req = service.request_extension(s, "zhao.hua", extended, "需要时间", "2026-03-31", at("2026-01-09 09:00"))
    service.decide_extension(s, "li.ming", req.id, True, at("2026-01-09 10:00"))
    v2 = publish(s, tmp_path, SOURCE.replace("    deadline: {amount: 2, unit: months}      # LOCAL\n",
                                             "    deadline: {amount: 3, unit: months}      # LOCAL\n", 1))
    dues = {i: service.show_item(s, service.OPERATOR, i, at("2026-01-10 09:00")).step.due for i in (plain, paused, extended)}
    plan = service.migrate(s, ADMIN, "special_supervision", str(v2), at("2026-01-10 09:00"), apply=True)
    got = {p.item: p for p in plan.items}
    assert got[plain].due_kept is None and got[plain].new_due == "2026-04-08 24:00"  # 3 months after 1/8, as entered
    assert got[paused].due_kept == "paused" and got[paused].new_due == dues[paused]
    assert got[extended].due_kept == "extended" and got[extended].new_due == dues[extended] == "2026-03-31 24:00"
    assert service.show_item(s, service.OPERATOR, plain, at("2026-01-10 09:01")).step.due == "2026-04-08 24:00"


def test_rungs_already_fired_never_fire_again_after_a_migration(ready, tmp_path):
    s = ready
    item = to_research(s)  # due 2026-03-08 24:00 → rolled to the next working day
    service.sweep(s, at("2026-03-10 09:00"))  # blue fires (reminder skipped)
    with s.read() as tx:
        before = sorted(tx.execute(select(Escalation.rung, Escalation.status).where(Escalation.item_id == item)).all())
    v2 = publish(s, tmp_path, renamed())
    plan = service.migrate(s, ADMIN, "special_supervision", str(v2), at("2026-03-10 10:00"), mapping={"research": "inspection"},
                           apply=True)
    assert plan.items[0].rungs_claimed == ["reminder", "blue"] and plan.items[0].next_rung == "yellow"
    assert service.sweep(s, at("2026-03-10 10:00")).fired == 0  # right after: nothing fires twice
    service.sweep(s, at("2026-03-20 09:00"))  # later: the next rung of the new ladder, once
    with s.read() as tx:
        rows = sorted(tx.execute(select(Escalation.rung, Escalation.status).where(Escalation.item_id == item)).all())
    assert before == [("blue", "fired"), ("reminder", "skipped")]
    # blue stayed fired once; of the new ladder's later rungs red is due by 3/20 (yellow passed over): each once
    assert rows == [("blue", "fired"), ("red", "fired"), ("reminder", "skipped"), ("yellow", "skipped")]


def test_a_stale_form_still_conflicts_after_a_migration(ready, tmp_path):
    s = ready
    item = to_research(s)
    seen = service.current_version(s, item)
    v2 = publish(s, tmp_path, renamed())
    service.migrate(s, ADMIN, "special_supervision", str(v2), at("2026-01-09 09:00"), mapping={"research": "inspection"},
                    apply=True)
    with pytest.raises(Conflict, match="已被他人更新"):
        service.advance(s, "zhao.hua", item, "finish_research", at("2026-01-09 10:00"), fields={"research_report": "r"},
                        expected_version=seen)


def test_refusals_name_the_item_and_change_nothing(ready, tmp_path):
    s = ready
    item = to_research(s)
    v2 = publish(s, tmp_path, renamed())
    with pytest.raises(NotPermitted, match="需要管理员"):
        service.migrate(s, "li.ming", "special_supervision", str(v2), at("2026-01-09 09:00"), mapping={"research": "inspection"})
    with s.read() as tx:  # the refusal is in the trail
        assert tx.execute(select(AuditEvent.data).where(AuditEvent.kind == "refused", AuditEvent.actor == "li.ming")).scalars().all()
    with pytest.raises(NotFound, match="没有版本“ffff”"):
        service.migrate(s, ADMIN, "special_supervision", "ffff", at("2026-01-09 09:00"))
    with pytest.raises(NotFound, match="没有已发布的流程模板“nope”"):
        service.migrate(s, ADMIN, "nope", "1", at("2026-01-09 09:00"))
    with pytest.raises(InvalidInput, match="环节对应中的 nowhere 不是"):
        service.migrate(s, ADMIN, "special_supervision", str(v2), at("2026-01-09 09:00"), mapping={"research": "nowhere"})
    with pytest.raises(InvalidInput, match="应写作 原环节=新环节"):
        service.parse_map(["research"])
    v3 = publish(s, tmp_path, renamed().replace("  plan_doc: {type: text, label: 工作方案文号}\n", "")
                 .replace(", requires: [plan_doc]", ""), "v3.yaml")
    with pytest.raises(InvalidInput, match=rf"没有迁移任何事项：事项 {item}：目标版本没有字段 plan_doc"):
        service.migrate(s, ADMIN, "special_supervision", str(v3), at("2026-01-09 09:00"), mapping={"research": "inspection"},
                        apply=True)
    with s.read() as tx:
        assert tx.execute(select(Item.state).where(Item.id == item)).scalar_one() == "research"


def test_a_migration_under_concurrent_advances_keeps_compare_and_set(ready, tmp_path):
    """One thread migrates every item while another advances them, each advance with the version it read: every
    item ends moved once and migrated once, in either order, and the trail accounts for every version."""
    import threading

    s = ready
    items = [to_research(s, f"并发{i}") for i in range(12)]
    v2 = publish(s, tmp_path, renamed())
    start = threading.Barrier(2)
    outcome: dict[str, list] = {"advanced": [], "conflicts": [], "errors": []}

    def advancer():
        start.wait()
        for i in items:
            seen = service.current_version(s, i)
            try:
                service.advance(s, "zhao.hua", i, "finish_research", at("2026-01-09 10:00"), fields={"research_report": "r"},
                                expected_version=seen)
                outcome["advanced"].append(i)
            except Conflict:
                outcome["conflicts"].append(i)
            except Exception as e:  # anything else is a breach
                outcome["errors"].append(repr(e))

    def migrator():
        start.wait()
        try:
            service.migrate(s, ADMIN, "special_supervision", str(v2), at("2026-01-09 10:00"),
                            mapping={"research": "inspection"}, apply=True)
        except Exception as e:
            outcome["errors"].append(repr(e))

    threads = [threading.Thread(target=advancer), threading.Thread(target=migrator)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert outcome["errors"] == []
    for i in outcome["conflicts"]:  # a stale form: the person looks again and moves it, once
        service.advance(s, "zhao.hua", i, "finish_research", at("2026-01-09 11:00"), fields={"research_report": "r"})
    for i in items:
        d = service.show_item(s, service.OPERATOR, i, at("2026-01-09 12:00"))
        kinds = [e.kind for e in service.history(s, service.OPERATOR, i)]
        assert d.state == "opinions_handover" and kinds.count("migrated") == 1, (i, kinds)
        assert [e.data.get("trigger") for e in service.history(s, service.OPERATOR, i)].count("finish_research") == 1
    assert service.verify_audit(s).ok


def test_steps_and_notices_from_before_a_migration_keep_their_words(ready, tmp_path):
    """A state the new version renamed: the earlier step keeps its id and label, and a notice queued for it renders."""
    from notifier.transports import MemoryTransport

    s = ready
    item = to_research(s)  # the handover to the research step is queued
    service.advance(s, "zhao.hua", item, "finish_research", at("2026-01-09 09:00"), fields={"research_report": "r"})
    v2 = publish(s, tmp_path, renamed())
    service.migrate(s, ADMIN, "special_supervision", str(v2), at("2026-01-09 10:00"), apply=True)  # opinions_handover: same name
    d = service.show_item(s, service.OPERATOR, item, at("2026-01-09 10:01"))
    assert d.template_version == v2
    assert [(x.state, x.label) for x in d.steps if x.state == "research"] == [("research", "调研检查（视察、专题调研、执法检查）")]
    assert any(e.from_label == "调研检查（视察、专题调研、执法检查）" for e in service.history(s, service.OPERATOR, item))
    mail = MemoryTransport()
    r = service.deliver(s, mail, at("2026-01-09 10:02"))
    assert r.dead == 0 and r.failed == 0 and r.sent >= 4
    assert any("「调研检查（视察、专题调研、执法检查）」" in m["Subject"] for m in mail.sent)


# --- deadlines from decisions and fixed dates (issue 14, part 4) -------------------------------------------

def test_a_fixed_day_and_a_decided_period_in_templates():
    from datetime import UTC, datetime

    from test_loader import MINIMAL, load, problems

    from workflow.calendar import build_calendar, compute_due

    fixed = load(MINIMAL.replace("deadline: {amount: 3, unit: workdays}", "deadline: {fixed: '01-20'}"))
    cal = build_calendar()
    due = compute_due(cal, datetime(2026, 1, 5, 1, tzinfo=UTC), fixed.states["start"].deadline, {})
    assert due.rule == "2026年1月20日，当日24时" and due.at == at("2026-01-21 00:00")
    # 2024-01-20 is a Saturday (not a 调休 workday): rolled to Monday the 22nd, per 民法典 Art.203
    due = compute_due(cal, datetime(2024, 1, 5, 1, tzinfo=UTC), fixed.states["start"].deadline, {})
    assert "顺延至下一工作日 2024-01-22" in due.rule and due.at == at("2024-01-23 00:00")
    assert fixed.deadline_text(fixed.states["start"]) == "当年1月20日（遇休息日顺延）"
    decided = load(MINIMAL.replace("roles: {office: 办公室}", "roles: {office: 办公室}\nfields: {term: {type: duration, label: 决定的期限}}")
                   .replace("deadline: {amount: 3, unit: workdays}", "deadline: {amount: 3, unit: workdays, amount_from: term}"))
    dl = decided.states["start"].deadline
    assert compute_due(cal, at("2026-03-02 09:00"), dl, {}).at == at("2026-03-06 00:00")  # 3 working days: the default
    d = compute_due(cal, at("2026-03-02 09:00"), dl, {"term": "1个月"})
    assert d.at == at("2026-04-03 00:00") and d.rule.startswith("按决定限期1个月：")
    for bad, msg in [("deadline: {fixed: '02-30'}", "'02-30' is not a day of the year"),
                     ("deadline: {fixed: '01-20', amount: 3, unit: days}", "needs `amount` and `unit`, or a `fixed` day"),
                     ("deadline: {amount: 3, unit: workdays, amount_from: nope}", "deadline amount from unknown field 'nope'")]:
        assert any(msg in p for p in problems(MINIMAL.replace("deadline: {amount: 3, unit: workdays}", bad))), bad


def test_the_council_sets_the_rectification_period_by_decision(ready):
    from test_authority import NO, at_the_vote

    s = ready
    item, move, clock = at_the_vote(s, "限期整改")
    move("chen.jing", "record_vote", NO, "不满意")
    move("huang.bo", "finish_rectification")
    move("huang.bo", "submit_rectification_report", {"rectification_report": "第二次"}, files=chain_files("submit_rectification_report"))
    move("li.ming", "refer_to_committee")
    move("chen.jing", "record_vote", NO, "仍不满意")
    with pytest.raises(InvalidInput, match="不是期限，应写如 1个月"):
        move("li.ming", "order_measures", {"measures": "限期整改", "measures_deadline": "一年"}, "主任会议决定")
    with pytest.raises(InvalidInput, match="最多 120个月"):
        move("li.ming", "order_measures", {"measures": "限期整改", "measures_deadline": "121个月"}, "主任会议决定")
    r = move("li.ming", "order_measures", {"measures": "限期整改", "measures_deadline": "1个月"}, "主任会议决定")
    d = service.show_item(s, service.OPERATOR, item, clock[0])
    assert r.to_state == "rectification" and d.step.due_rule.startswith("按决定限期1个月：")


# --- meetings (issue 14, part 3) ----------------------------------------------------------------------

def test_items_refer_to_a_meeting_and_moving_it_moves_their_deadlines(ready):
    from notifier.transports import MemoryTransport

    s = ready
    m = service.add_meeting(s, ADMIN, "常委会会议", "2026-06-25", "市人大常委会第二十次会议", at("2026-01-05 09:30"))
    other = service.add_meeting(s, ADMIN, "主任会议", "2026-06-20", "第五十次主任会议", at("2026-01-05 09:31"))
    with pytest.raises(NotPermitted, match="会议由常委会办公室和主任会议登记"):
        service.add_meeting(s, "huang.bo", "常委会会议", "2026-06-25", "x", at("2026-01-05 09:32"))
    a, b, c = (service.create_item(s, ADMIN, template="special_supervision", title=t, now=T0, group="g-env").id
               for t in ("按会议计算", "另一会议", "自填日期"))
    for i in (a, b, c):
        service.advance(s, ADMIN, i, "propose", at("2026-01-06 09:00"), fields={"topic": "t", "source": "社会关注"})
    with pytest.raises(InvalidInput, match=f"会议 {other.id} 是主任会议，这里应选常委会会议"):
        service.advance(s, "li.ming", b, "adopt_plan", at("2026-01-07 09:00"), fields={"meeting": str(other.id)})
    service.advance(s, "li.ming", a, "adopt_plan", at("2026-01-07 09:00"), fields={"meeting": str(m.id)})  # meeting_date follows
    service.advance(s, "li.ming", c, "adopt_plan", at("2026-01-07 09:00"), fields={"meeting_date": "2026-06-25"})
    assert service.show_item(s, service.OPERATOR, a, at("2026-01-07 10:00")).fields["meeting_date"] == "2026-06-25"
    # bring a to 报告送审 (20 days before the meeting) and c to the same step with its own date
    for i in (a, c):
        service.advance(s, "chen.jing", i, "approve_work_plan", at("2026-01-08 09:00"), fields={"plan_doc": "1号"})
        service.advance(s, "zhao.hua", i, "finish_research", at("2026-01-09 09:00"), fields={"research_report": "r"})
        service.advance(s, ADMIN, i, "hand_over_views", at("2026-01-10 09:00"))
    assert service.show_item(s, service.OPERATOR, a, at("2026-01-10 10:00")).step.due == "2026-06-05 24:00"
    plan = service.move_meeting(s, ADMIN, m.id, "2026-07-02", at("2026-01-11 09:00"))
    assert not plan.applied and [(x.item, x.old_due, x.new_due) for x in plan.items] == [(a, "2026-06-05 24:00", "2026-06-12 24:00")]
    assert service.show_item(s, service.OPERATOR, a, at("2026-01-11 09:01")).step.due == "2026-06-05 24:00"  # the dry run changed nothing
    with pytest.raises(NotPermitted):
        service.move_meeting(s, "huang.bo", m.id, "2026-07-02", at("2026-01-11 09:02"), apply=True)
    done = service.move_meeting(s, ADMIN, m.id, "2026-07-02", at("2026-01-11 09:05"), apply=True)
    assert done.applied and done.items[0].notified == ["黄波"]
    da = service.show_item(s, service.OPERATOR, a, at("2026-01-11 09:06"))
    assert da.step.due == "2026-06-12 24:00" and da.fields["meeting_date"] == "2026-07-02"
    assert service.show_item(s, service.OPERATOR, c, at("2026-01-11 09:06")).step.due == "2026-06-05 24:00"  # its own date: untouched
    ev = service.history(s, service.OPERATOR, a)[-1]
    assert ev.kind == "deadline_moved" and ev.data["fields_changed"] == {"meeting_date": ["2026-06-25", "2026-07-02"]}
    mail = MemoryTransport()
    service.deliver(s, mail, at("2026-01-11 09:10"))
    moved = [x for x in mail.sent if x["Subject"].startswith("【时限调整】")]
    assert len(moved) == 1 and "由 2026-06-25 改期至 2026-07-02" in moved[0].get_body(("plain",)).get_content()
    assert [x.day for x in service.list_meetings(s)] == ["2026-06-20", "2026-07-02"]
    assert service.verify_audit(s).ok
    with pytest.raises(NotFound, match="会议 999 不存在"):
        service.move_meeting(s, ADMIN, 999, "2026-07-02", at("2026-01-11 09:20"))


def test_on_the_demo_database_item_3_follows_a_renamed_state(tmp_path):
    """Issue 14's scenario: on the demo's database, a new version renames item 3's state; a dry run first, then
    the item moves with its (extended) due time kept, audited and shown in its history."""
    from conftest import SIM
    from workflow.demo import run_demo
    from workflow.store import Store

    run_demo(tmp_path / "demo", lambda _line: None)
    s = Store(f"sqlite:///{tmp_path / 'demo' / 'wuzhuan.db'}", settings=SIM)
    try:
        before = service.show_item(s, service.OPERATOR, 3, at("2026-04-20 10:00"))
        assert before.state == "research" and before.step.due == "2026-05-15 24:00"  # extended in the demo
        v = publish(s, tmp_path, renamed())
        service.migrate(s, ADMIN, "special_supervision", str(v), at("2026-04-20 10:00"), mapping={"research": "inspection"},
                        items=[3])
        assert service.show_item(s, service.OPERATOR, 3, at("2026-04-20 10:00")).version == before.version
        prefix = next(x.hash for x in service.template_versions(s) if x.id == v)[:8]  # a version by its hash, as listed
        r = service.migrate(s, ADMIN, "special_supervision", prefix, at("2026-04-20 10:05"),
                            mapping={"research": "inspection"}, items=[3], apply=True)
        assert [(p.item, p.due_kept, p.new_due) for p in r.items] == [(3, "extended", "2026-05-15 24:00")]
        after = service.show_item(s, service.OPERATOR, 3, at("2026-04-20 10:06"))
        assert after.state == "inspection" and after.step.due == "2026-05-15 24:00" and after.template_version == v
        assert service.history(s, service.OPERATOR, 3)[-1].kind == "migrated" and service.verify_audit(s).ok
        assert service.show_item(s, service.OPERATOR, 1, at("2026-04-20 10:06")).template_version != v  # only the item named moved
    finally:
        s.dispose()
