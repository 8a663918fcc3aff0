"""The engine through the service layer, on SQLite files and on PostgreSQL: items, roles, fields, versions, audit."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert, select, text, update

from conftest import ADMIN, T0, at, chain_files
from workflow import service, templates
from workflow.errors import (
    Conflict,
    GuardFailed,
    InvalidInput,
    NotFound,
    NotPermitted,
    TriggerNotAllowed,
)
from workflow.store.models import AuditEvent, Item, Step, TemplateVersion

PROPOSE = {"topic": "大气", "source": "社会关注"}


def new_item(store, group="g-env", **kw) -> int:
    return service.create_item(store, "wang.fang", template="special_supervision", title="大气污染防治专项监督", now=T0,
                               group=group, **kw).id


CHAIN = [("propose", "wang.fang", PROPOSE), ("adopt_plan", "li.ming", {"meeting_date": "2026-06-25"}),
         ("approve_work_plan", "chen.jing", {"plan_doc": "1号"}), ("finish_research", "zhao.hua", {"research_report": "报告"}),
         ("hand_over_views", "wang.fang", {}), ("submit_report", "huang.bo", {}),
         ("submit_revised_report", "huang.bo", {"report_doc": "修改稿"}), ("circulate_report", "wang.fang", {}),
         ("deliberate", "chen.jing", {}), ("draft_opinions", "chen.jing", {"opinions": "审议意见"}), ("pass_opinions", "li.ming", {}),
         ("hand_over_opinions", "wang.fang", {"departments": "市生态环境局"}),
         ("finish_rectification", "huang.bo", {}), ("submit_rectification_report", "huang.bo", {"rectification_report": "整改报告"}),
         ("refer_to_committee", "li.ming", {})]
SATISFIED = {"members_total": 50, "votes_for": 40, "votes_against": 5, "votes_abstain": 5}
UNSATISFIED = {"members_total": 50, "votes_for": 20, "votes_against": 25, "votes_abstain": 5}


def to_vote(store, item_id: int) -> None:
    """Drive an item from selection to the satisfaction vote as the right people."""
    for n, (trigger, actor, fields) in enumerate(CHAIN):
        service.advance(store, actor, item_id, trigger, at(f"2026-02-{n + 2:02d} 10:00"), fields=fields,
                        files=chain_files(trigger))


def test_create_assigns_default_roles_and_opens_the_first_step(ready):
    item_id = new_item(ready)
    d = service.show_item(ready, "wang.fang", item_id, T0)
    assert d.state == "topic_selection" and d.version == 1
    roles = {r.role: r.people for r in d.roles}
    assert roles["group_lead"] == ["赵华 (zhao.hua)"] and roles["council"] == ["李明 (li.ming)", "郑宇 (zheng.yu)"]
    assert d.owners == ["王芳 (wang.fang)"] and d.owner_role == "office" and d.owner_role_label == "常委会办公室"
    assert d.step.due == "2026-01-26 24:00"  # 15 working days after 1/5
    assert [m.trigger for m in d.next if m.allowed_for_actor] == ["propose"]


def test_full_chain_to_archive_with_every_step_recorded(ready):
    item_id = new_item(ready)
    to_vote(ready, item_id)
    service.advance(ready, "chen.jing", item_id, "record_vote", at("2026-03-01 10:00"), fields=SATISFIED)
    service.advance(ready, "zhao.hua", item_id, "close_follow_up", at("2026-03-02 10:00"))
    service.advance(ready, "wang.fang", item_id, "notify_deputies", at("2026-03-02 11:00"), fields={"published_docs": "审议意见、整改报告"})
    r = service.advance(ready, "wang.fang", item_id, "publish", at("2026-03-03 10:00"), fields={"publication_url": "http://rd.example/1"})
    assert r.to_state == "archived" and r.finished
    d = service.show_item(ready, service.OPERATOR, item_id, at("2026-03-04 10:00"))
    assert d.finished and d.light is None and d.light_label == "办结"
    assert [s.state for s in d.steps][-1] == "archived" and len(d.steps) == len(CHAIN) + 5
    assert all(s.left for s in d.steps)
    kinds = [e.kind for e in service.history(ready, service.OPERATOR, item_id)]
    assert kinds[0] == "created" and kinds.count("advanced") == len(CHAIN) + 4


def test_unsatisfied_vote_loops_once_then_goes_to_council(ready):
    item_id = new_item(ready)
    to_vote(ready, item_id)
    r = service.advance(ready, "chen.jing", item_id, "record_vote", at("2026-03-01 10:00"), fields=UNSATISFIED, comment="整改不到位")
    assert r.to_state == "rectification"
    service.advance(ready, "huang.bo", item_id, "finish_rectification", at("2026-03-02 10:00"))
    service.advance(ready, "huang.bo", item_id, "submit_rectification_report", at("2026-03-03 10:00"),
                    fields={"rectification_report": "第二次整改报告"}, files=chain_files("submit_rectification_report"))
    service.advance(ready, "li.ming", item_id, "refer_to_committee", at("2026-03-03 11:00"))
    r = service.advance(ready, "chen.jing", item_id, "record_vote", at("2026-03-04 10:00"), fields=UNSATISFIED, comment="仍不满意")
    assert r.to_state == "council_measures"
    assert service.show_item(ready, service.OPERATOR, item_id, at("2026-03-04 10:00")).counters["unsatisfied_rounds"] == 2


def test_wrong_trigger_lists_the_allowed_ones_and_is_audited(ready):
    item_id = new_item(ready)
    with pytest.raises(TriggerNotAllowed) as e:
        service.advance(ready, "wang.fang", item_id, "publish", T0)
    assert "possible: propose, drop" in str(e.value) and e.value.exit_code == 3
    assert service.history(ready, service.OPERATOR, item_id)[-1].kind == "refused"


def test_actor_without_the_role_is_refused_naming_who_may(ready):
    item_id = new_item(ready)
    with pytest.raises(NotPermitted, match=r"黄波（huang.bo）不能在事项 \d+ 的「选题立项」环节“提出选题”：应由常委会办公室（王芳）或"
                                           r"工作委员会（陈静）"):
        service.advance(ready, "huang.bo", item_id, "propose", T0, fields=PROPOSE)
    last = service.history(ready, service.OPERATOR, item_id)[-1]
    assert last.kind == "refused" and last.actor == "huang.bo"
    assert service.show_item(ready, service.OPERATOR, item_id, T0).version == 1  # nothing changed


def test_someone_from_another_group_holds_no_role_and_learns_nothing(ready):
    item_id = new_item(ready)
    service.advance(ready, "wang.fang", item_id, "propose", T0, fields=PROPOSE)
    service.advance(ready, "li.ming", item_id, "adopt_plan", T0, fields={"meeting_date": "2026-06-25"})
    with pytest.raises(NotFound, match=f"事项 {item_id} 不存在"):  # 教科文卫, not this group: not even that it exists
        service.advance(ready, "he.yan", item_id, "approve_work_plan", T0)


def test_required_fields_comment_and_types(ready):
    item_id = new_item(ready)
    with pytest.raises(InvalidInput, match=r"需要填报“监督议题”、“议题来源”"):
        service.advance(ready, "wang.fang", item_id, "propose", T0)
    with pytest.raises(InvalidInput, match="不是可选项"):
        service.advance(ready, "wang.fang", item_id, "propose", T0, fields={"topic": "x", "source": "随便"})
    with pytest.raises(InvalidInput, match="没有字段“colour”"):
        service.advance(ready, "wang.fang", item_id, "propose", T0, fields={"colour": "red"})
    with pytest.raises(InvalidInput, match="需要填写意见"):
        service.advance(ready, "li.ming", item_id, "drop", T0)
    service.advance(ready, "wang.fang", item_id, "propose", T0, fields=PROPOSE)
    with pytest.raises(InvalidInput, match="不是日期"):
        service.advance(ready, "li.ming", item_id, "adopt_plan", T0, fields={"meeting_date": "六月"})


def test_guard_failure_says_what_was_needed(ready):
    item_id = new_item(ready)
    to_vote(ready, item_id)
    t = at("2026-03-01 10:00")
    with pytest.raises(InvalidInput, match="需要填报“满意度测评结果”"):
        service.advance(ready, "chen.jing", item_id, "record_vote", t)
    with pytest.raises(InvalidInput, match="不是整数"):
        service.advance(ready, "chen.jing", item_id, "record_vote", t, fields={"votes_for": "多数"})


GUARDED = """\
key: guarded
title: 带条件的模板
roles: {office: 办公室}
fields: {score: {type: integer, label: 得分}}
initial: start
states:
  start: {label: 开始, owner: office}
  done: {label: 完成, final: true}
transitions:
  - {trigger: finish, source: start, dest: done, roles: [office], requires: [score], guards: [{field: score, op: ge, value: 60}]}
"""


def test_guard_failed_is_reported(ready, tmp_path):
    p = tmp_path / "guarded.yaml"
    p.write_text(GUARDED, encoding="utf-8")
    service.publish(ready, ADMIN, p, T0)
    item_id = service.create_item(ready, "wang.fang", template="guarded", title="t", now=T0).id
    with pytest.raises(GuardFailed, match=r"'finish' needs field score ge 60; now score=59") as e:
        service.advance(ready, "wang.fang", item_id, "finish", T0, fields={"score": "59"})
    assert e.value.exit_code == 3
    assert service.history(ready, service.OPERATOR, item_id)[-1].kind == "refused"
    assert service.advance(ready, "wang.fang", item_id, "finish", T0, fields={"score": "60"}).finished


def test_stale_version_is_a_conflict(ready):
    item_id = new_item(ready)
    seen = service.current_version(ready, item_id)
    service.advance(ready, "wang.fang", item_id, "propose", T0, fields=PROPOSE, expected_version=seen)
    with pytest.raises(Conflict, match="已被他人更新") as e:
        service.advance(ready, "li.ming", item_id, "drop", T0, comment="不立项", expected_version=seen)
    assert e.value.exit_code == 4
    assert service.show_item(ready, service.OPERATOR, item_id, T0).state == "annual_plan"
    with pytest.raises(Conflict):  # the move the stale page offered is gone: still "changed meanwhile"
        service.advance(ready, "wang.fang", item_id, "propose", T0, fields=PROPOSE, expected_version=seen)


def test_items_stay_on_their_template_version(ready, tmp_path):
    old = new_item(ready)
    src = (templates.BUILTIN_DIR / "special_supervision.yaml").read_text()
    changed = tmp_path / "special_supervision.yaml"
    changed.write_text(src.replace("label: 选题立项", "label: 选题立项（新版）"))
    p = service.publish(ready, ADMIN, changed, T0)
    assert p.created
    again = service.publish(ready, ADMIN, changed, T0)
    assert not again.created and again.version == p.version and again.hash == p.hash
    new = new_item(ready)
    assert service.show_item(ready, service.OPERATOR, old, T0).state_label == "选题立项"
    assert service.show_item(ready, service.OPERATOR, new, T0).state_label == "选题立项（新版）"
    service.advance(ready, "wang.fang", old, "propose", T0, fields=PROPOSE)
    assert service.show_item(ready, service.OPERATOR, old, T0).template_version != service.show_item(ready, service.OPERATOR, new, T0).template_version


def test_assign_adds_replaces_and_unassigns(ready):
    item_id = new_item(ready)
    r = service.assign(ready, "wang.fang", item_id, "department", ["song.kai"], T0)
    assert r.holders == ["huang.bo", "song.kai"] and r.added == ["song.kai"]
    r = service.assign(ready, "wang.fang", item_id, "department", ["xu.na"], T0, replace=True)
    assert r.holders == ["xu.na"] and sorted(r.removed) == ["huang.bo", "song.kai"]
    r = service.unassign(ready, "li.ming", item_id, "department", ["xu.na"], T0)
    assert r.holders == []
    with pytest.raises(InvalidInput, match="没有角色“boss”"):
        service.assign(ready, "wang.fang", item_id, "boss", ["xu.na"], T0)
    with pytest.raises(NotFound, match="没有代码为“nobody”的人员"):
        service.assign(ready, "wang.fang", item_id, "department", ["nobody"], T0)
    with pytest.raises(InvalidInput, match="请先把该角色交给其他人员"):  # 王芳 is the only office holder: step 1's owner
        service.unassign(ready, "li.ming", item_id, "office", ["wang.fang"], T0)


def test_list_filters_and_pagination(ready):
    a = new_item(ready, group="g-env")
    b = new_item(ready, group="g-edu")
    service.advance(ready, "wang.fang", b, "propose", T0, fields=PROPOSE)
    assert [r.id for r in service.list_items(ready, service.OPERATOR, T0)] == [b, a]  # newest first
    assert [r.id for r in service.list_items(ready, service.OPERATOR, T0, group="g-edu")] == [b]
    assert [r.id for r in service.list_items(ready, service.OPERATOR, T0, state="topic_selection")] == [a]
    assert [r.id for r in service.list_items(ready, service.OPERATOR, T0, owner="li.ming")] == [b]  # council owns annual_plan
    assert [r.id for r in service.list_items(ready, service.OPERATOR, T0, limit=1, offset=1)] == [a]
    # a is due 1/26 (15 working days), b's plan step 2/5 (1 month after 1/5): both red on 2/20, only a on 2/3
    assert [r.id for r in service.list_items(ready, service.OPERATOR, at("2026-02-20 09:00"), light_is="red")] == [b, a]
    assert [r.id for r in service.list_items(ready, service.OPERATOR, at("2026-02-03 09:00"), light_is="red")] == [a]


def test_lights(ready):
    a = new_item(ready)  # due 2026-01-26 24:00; yellow 3 working days before: from 1/22 24:00
    assert service.show_item(ready, service.OPERATOR, a, at("2026-01-10 09:00")).light == "green"
    assert service.show_item(ready, service.OPERATOR, a, at("2026-01-23 09:00")).light == "yellow"
    assert service.show_item(ready, service.OPERATOR, a, at("2026-01-27 00:01")).light == "red"
    assert [r.id for r in service.list_items(ready, service.OPERATOR, at("2026-01-27 00:01"), light_is="red")] == [a]
    assert service.list_items(ready, service.OPERATOR, at("2026-01-23 09:00"), light_is="red") == []
    assert [r.id for r in service.list_items(ready, service.OPERATOR, at("2026-01-23 09:00"), light_is="yellow")] == [a]
    assert [r.id for r in service.list_items(ready, service.OPERATOR, at("2026-01-10 09:00"), light_is="green")] == [a]


def test_relative_deadline_is_recomputed_when_its_date_changes(ready):
    b = new_item(ready)
    for trigger, actor, fields in CHAIN[:5]:
        service.advance(ready, actor, b, trigger, T0, fields=fields, files=chain_files(trigger))
    d = service.show_item(ready, service.OPERATOR, b, T0)
    assert d.state == "report_review" and d.step.due == "2026-06-05 24:00"  # 6/25 − 20 days
    r = service.set_fields(ready, "wang.fang", b, {"meeting_date": "2026-08-27"}, T0)  # office: meeting_date is `keep`
    assert r.recomputed and r.due == "2026-08-07 24:00" and r.fields_changed == {"meeting_date": ["2026-06-25", "2026-08-27"]}
    ev = service.history(ready, service.OPERATOR, b)[-1]
    assert ev.kind == "fields_set" and ev.data["old_due"] == "2026-06-05 24:00" and ev.data["due_recomputed"] == "2026-08-07 24:00"
    with pytest.raises(NotPermitted, match="修改“常委会会议日期”：可由常委会办公室（王芳）或主任会议"):
        service.set_fields(ready, "huang.bo", b, {"meeting_date": "2027-12-31"}, T0)  # the supervised department
    with pytest.raises(NotFound, match=f"事项 {b} 不存在"):  # he may not see it
        service.set_fields(ready, "he.yan", b, {"meeting_date": "2026-08-27"}, T0)


def test_naive_and_out_of_range_times_are_refused(ready):
    with pytest.raises(InvalidInput, match="时间须带时区"):
        service.create_item(ready, "wang.fang", template="special_supervision", title="x", now=datetime(2026, 1, 5))
    with pytest.raises(InvalidInput, match="1970–2199"):
        service.create_item(ready, "wang.fang", template="special_supervision", title="x", now=at("1900-01-01 00:00"))


def test_unknown_things(ready):
    with pytest.raises(NotFound, match="事项 999 不存在"):
        service.advance(ready, "wang.fang", 999, "propose", T0)
    with pytest.raises(NotFound, match="没有已发布的流程模板“nope”"):
        service.create_item(ready, "wang.fang", template="nope", title="x", now=T0)
    with pytest.raises(NotPermitted, match="“ghost”不是本系统登记的人员"):
        service.create_item(ready, "ghost", template="special_supervision", title="x", now=T0)


def test_time_only_moves_forward_on_an_item(ready):
    item_id = new_item(ready)
    service.advance(ready, "wang.fang", item_id, "propose", at("2026-01-08 10:00"), fields=PROPOSE)
    with pytest.raises(InvalidInput, match="早于该事项最近一次记录的时间 2026-01-08 10:00"):
        service.advance(ready, "li.ming", item_id, "adopt_plan", at("2026-01-07 10:00"), fields={"meeting_date": "2026-06-25"})
    # a refusal is not an event of the item: it does not move the clock
    with pytest.raises(NotPermitted):
        service.advance(ready, "huang.bo", item_id, "adopt_plan", at("2026-03-01 10:00"), fields={"meeting_date": "2026-06-25"})
    r = service.advance(ready, "li.ming", item_id, "adopt_plan", at("2026-01-09 10:00"), fields={"meeting_date": "2026-06-25"})
    assert r.to_state == "work_plan"
    assert [e.kind for e in service.history(ready, service.OPERATOR, item_id)][-3:] == ["refused", "refused", "advanced"]


# --- the audit chain ----------------------------------------------------------------------------

def _events(store):
    item_id = new_item(store)
    service.advance(store, "wang.fang", item_id, "propose", T0, fields=PROPOSE)
    service.advance(store, "li.ming", item_id, "adopt_plan", T0, fields={"meeting_date": "2026-06-25"})
    assert service.verify_audit(store).ok


def _sql(store, *statements):
    with store.transaction() as tx:
        for st in statements:
            tx.execute(text(st) if isinstance(st, str) else st)


def test_audit_detects_a_modified_event(ready):
    _events(ready)
    _sql(ready, update(AuditEvent).where(AuditEvent.seq == 5).values(actor="someone.else"))
    r = service.verify_audit(ready)
    assert not r.ok and r.first_bad_seq == 5 and "modified" in r.problem


def test_audit_detects_a_deleted_event(ready):
    _events(ready)
    _sql(ready, "DELETE FROM audit_events WHERE seq = 4")
    r = service.verify_audit(ready)
    assert not r.ok and r.first_bad_seq == 4 and "deleted" in r.problem


def test_audit_detects_deleted_last_events(ready):
    _events(ready)
    _sql(ready, "DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)")
    r = service.verify_audit(ready)
    assert not r.ok and "deleted" in r.problem


def test_audit_detects_reordered_events(ready):
    _events(ready)
    _sql(ready, "UPDATE audit_events SET seq = -1 WHERE seq = 4", "UPDATE audit_events SET seq = 4 WHERE seq = 5",
         "UPDATE audit_events SET seq = 5 WHERE seq = -1")
    r = service.verify_audit(ready)
    assert not r.ok and r.first_bad_seq in (4, 5)


def test_audit_detects_an_inserted_event(ready):
    _events(ready)
    with ready.transaction() as tx:
        ev = tx.execute(select(AuditEvent.at, AuditEvent.item_id, AuditEvent.hash).where(AuditEvent.seq == 3)).one()
        tx.execute(text("UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 4"))
        tx.execute(insert(AuditEvent).values(seq=4, at=ev.at, actor="forger", kind="advanced", item_id=ev.item_id, data={},
                                             prev_hash=ev.hash, hash="f" * 64))
    r = service.verify_audit(ready)
    assert not r.ok and r.first_bad_seq == 4


def test_steps_rows_per_visit(ready):
    item_id = new_item(ready)
    to_vote(ready, item_id)
    with ready.read() as tx:
        steps = tx.execute(select(Step.seq, Step.left_at, Step.left_via, Step.entered_via).where(Step.item_id == item_id)
                           .order_by(Step.seq)).all()
        assert tx.execute(select(Item.version).where(Item.id == item_id)).scalar_one() == len(CHAIN) + 1
    assert [st.seq for st in steps] == list(range(1, len(CHAIN) + 2))
    assert all(st.left_at is not None for st in steps[:-1]) and steps[-1].left_at is None
    assert steps[0].left_via == "propose" and steps[1].entered_via == "propose"


def test_published_versions_are_immutable_rows(ready):
    with ready.read() as tx:
        hashes = tx.execute(select(TemplateVersion.content_hash)).scalars().all()
    assert len(set(hashes)) == len(hashes) == 7


def test_builtin_dir_exists():
    assert (templates.BUILTIN_DIR / "schema.json").exists()
