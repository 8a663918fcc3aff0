"""The engine through the library, on SQLite files and on PostgreSQL: items, roles, fields, versions, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from conftest import T0, at
from workflow import audit, items, registry, views
from workflow.errors import (
    Conflict,
    GuardFailed,
    InvalidInput,
    NotFound,
    NotPermitted,
    TriggerNotAllowed,
)
from workflow.models import AuditEvent, Item, Step, TemplateVersion


def new_item(store, group="g-env", **kw) -> int:
    return items.create_item(store, template="special_supervision", title="大气污染防治专项监督", actor="wang.fang",
                             now=T0, group=group, **kw)


def to_rectification(store, item_id: int) -> None:
    """Drive an item from selection to the satisfaction vote as the right people."""
    moves = [("propose", "wang.fang", {"topic": "大气", "source": "社会关注"}), ("adopt_plan", "li.ming", {"meeting_date": "2026-06-25"}),
             ("approve_work_plan", "chen.jing", {"plan_doc": "1号"}), ("finish_research", "zhao.hua", {"research_report": "报告"}),
             ("hand_over_views", "wang.fang", {}), ("submit_report", "huang.bo", {}), ("deliberate", "chen.jing", {}),
             ("draft_opinions", "chen.jing", {"opinions": "审议意见"}), ("hand_over_opinions", "wang.fang", {"departments": "市生态环境局"}),
             ("finish_rectification", "huang.bo", {}), ("submit_rectification_report", "huang.bo", {"rectification_report": "整改报告"})]
    for n, (trigger, actor, fields) in enumerate(moves):
        items.advance(store, item_id, trigger, actor, at(f"2026-02-{n + 2:02d} 10:00"), fields=fields)


def test_create_assigns_default_roles_and_opens_the_first_step(ready):
    item_id = new_item(ready)
    d = views.show_item(ready, item_id, T0, "wang.fang")
    assert d["state"] == "topic_selection" and d["version"] == 1
    assert d["roles"]["group_lead"] == ["赵华 (zhao.hua)"] and d["roles"]["council"] == ["李明 (li.ming)", "郑宇 (zheng.yu)"]
    assert d["owners"] == ["王芳 (wang.fang)"]
    assert d["step"]["due"] == "2026-01-26 24:00"  # 15 working days after 1/5
    assert [m["trigger"] for m in d["next"] if m["allowed_for_actor"]] == ["propose"]


def test_full_chain_to_archive_with_every_step_recorded(ready):
    item_id = new_item(ready)
    to_rectification(ready, item_id)
    items.advance(ready, item_id, "record_vote", "chen.jing", at("2026-03-01 10:00"), fields={"vote": "满意"})
    items.advance(ready, item_id, "close_follow_up", "zhao.hua", at("2026-03-02 10:00"))
    r = items.advance(ready, item_id, "publish", "wang.fang", at("2026-03-03 10:00"), fields={"publication_url": "http://rd.example/1"})
    assert r["to"] == "archived" and r["finished"]
    d = views.show_item(ready, item_id, at("2026-03-04 10:00"))
    assert d["finished"] and d["light"] is None
    assert [s["state"] for s in d["steps"]][-1] == "archived" and len(d["steps"]) == 15
    assert all(s["left"] for s in d["steps"])
    kinds = [e["kind"] for e in views.history(ready, item_id)]
    assert kinds[0] == "created" and kinds.count("advanced") == 14


def test_unsatisfied_vote_loops_once_then_goes_to_council(ready):
    item_id = new_item(ready)
    to_rectification(ready, item_id)
    r = items.advance(ready, item_id, "record_vote", "chen.jing", at("2026-03-01 10:00"), fields={"vote": "不满意"}, comment="整改不到位")
    assert r["to"] == "rectification"
    items.advance(ready, item_id, "finish_rectification", "huang.bo", at("2026-03-02 10:00"))
    items.advance(ready, item_id, "submit_rectification_report", "huang.bo", at("2026-03-03 10:00"))
    r = items.advance(ready, item_id, "record_vote", "chen.jing", at("2026-03-04 10:00"), fields={"vote": "不满意"}, comment="仍不满意")
    assert r["to"] == "council_measures"
    assert views.show_item(ready, item_id, T0)["counters"]["unsatisfied_rounds"] == 2


def test_wrong_trigger_lists_the_allowed_ones_and_is_audited(ready):
    item_id = new_item(ready)
    with pytest.raises(TriggerNotAllowed) as e:
        items.advance(ready, item_id, "publish", "wang.fang", T0)
    assert "possible: propose, drop" in str(e.value) and e.value.exit_code == 3
    assert views.history(ready, item_id)[-1]["kind"] == "refused"


def test_actor_without_the_role_is_refused(ready):
    item_id = new_item(ready)
    with pytest.raises(NotPermitted, match=r"黄波 \(huang.bo\) may not 'propose'.*needs one of 常委会办公室 \(office\)"):
        items.advance(ready, item_id, "propose", "huang.bo", T0, fields={"topic": "x", "source": "社会关注"})
    last = views.history(ready, item_id)[-1]
    assert last["kind"] == "refused" and last["actor"] == "huang.bo"
    assert views.show_item(ready, item_id, T0)["version"] == 1  # nothing changed


def test_someone_from_another_group_holds_no_role(ready):
    item_id = new_item(ready)
    items.advance(ready, item_id, "propose", "wang.fang", T0, fields={"topic": "x", "source": "社会关注"})
    items.advance(ready, item_id, "adopt_plan", "li.ming", T0, fields={"meeting_date": "2026-06-25"})
    with pytest.raises(NotPermitted):
        items.advance(ready, item_id, "approve_work_plan", "he.yan", T0, fields={"plan_doc": "x"})  # 教科文卫, not this group


def test_required_fields_comment_and_types(ready):
    item_id = new_item(ready)
    with pytest.raises(InvalidInput, match=r"needs topic \(监督议题\), source \(议题来源\)"):
        items.advance(ready, item_id, "propose", "wang.fang", T0)
    with pytest.raises(InvalidInput, match="is not one of"):
        items.advance(ready, item_id, "propose", "wang.fang", T0, fields={"topic": "x", "source": "随便"})
    with pytest.raises(InvalidInput, match="has no field 'colour'"):
        items.advance(ready, item_id, "propose", "wang.fang", T0, fields={"colour": "red"})
    with pytest.raises(InvalidInput, match="needs a comment"):
        items.advance(ready, item_id, "drop", "li.ming", T0)
    items.advance(ready, item_id, "propose", "wang.fang", T0, fields={"topic": "x", "source": "社会关注"})
    with pytest.raises(InvalidInput, match="is not a date"):
        items.advance(ready, item_id, "adopt_plan", "li.ming", T0, fields={"meeting_date": "六月"})


def test_guard_failure_says_what_was_needed(ready):
    item_id = new_item(ready)
    to_rectification(ready, item_id)
    with pytest.raises(InvalidInput, match="needs vote"):
        items.advance(ready, item_id, "record_vote", "chen.jing", T0)
    with pytest.raises(InvalidInput, match="is not one of"):
        items.advance(ready, item_id, "record_vote", "chen.jing", T0, fields={"vote": "一般"})


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
    with ready.transaction() as s:
        registry.publish(s, p, "admin", T0)
    item_id = items.create_item(ready, template="guarded", title="t", actor="wang.fang", now=T0, assign={"office": ["wang.fang"]})
    with pytest.raises(GuardFailed, match=r"'finish' needs field score ge 60; now score=59") as e:
        items.advance(ready, item_id, "finish", "wang.fang", T0, fields={"score": "59"})
    assert e.value.exit_code == 3
    assert views.history(ready, item_id)[-1]["kind"] == "refused"
    assert items.advance(ready, item_id, "finish", "wang.fang", T0, fields={"score": "60"})["finished"]


def test_stale_version_is_a_conflict(ready):
    item_id = new_item(ready)
    seen = items.current_version(ready, item_id)
    items.advance(ready, item_id, "propose", "wang.fang", T0, fields={"topic": "x", "source": "社会关注"}, expected_version=seen)
    with pytest.raises(Conflict, match="changed meanwhile") as e:
        items.advance(ready, item_id, "drop", "li.ming", T0, comment="不立项", expected_version=seen)
    assert e.value.exit_code == 4
    assert views.show_item(ready, item_id, T0)["state"] == "annual_plan"


def test_items_stay_on_their_template_version(ready, tmp_path):
    old = new_item(ready)
    src = (registry.BUILTIN_DIR / "special_supervision.yaml").read_text()
    changed = tmp_path / "special_supervision.yaml"
    changed.write_text(src.replace("label: 选题立项", "label: 选题立项（新版）"))
    with ready.transaction() as s:
        tv, created = registry.publish(s, changed, "admin", T0)
    assert created
    with ready.transaction() as s:
        again, created_again = registry.publish(s, changed, "admin", T0)
    assert not created_again and again.id == tv.id
    new = new_item(ready)
    assert views.show_item(ready, old, T0)["state_label"] == "选题立项"
    assert views.show_item(ready, new, T0)["state_label"] == "选题立项（新版）"
    items.advance(ready, old, "propose", "wang.fang", T0, fields={"topic": "x", "source": "社会关注"})
    with ready.read() as s:
        assert s.get(Item, old).template_version_id != s.get(Item, new).template_version_id


def test_assign_adds_and_replaces(ready):
    item_id = new_item(ready)
    r = items.assign(ready, item_id, "department", ["song.kai"], "wang.fang", T0)
    assert r["department"] == ["huang.bo", "song.kai"]
    r = items.assign(ready, item_id, "department", ["xu.na"], "wang.fang", T0, replace=True)
    assert r["department"] == ["xu.na"]
    with pytest.raises(InvalidInput, match="has no role 'boss'"):
        items.assign(ready, item_id, "boss", ["xu.na"], "wang.fang", T0)
    with pytest.raises(NotFound, match="no person with code 'nobody'"):
        items.assign(ready, item_id, "department", ["nobody"], "wang.fang", T0)


def test_list_filters_and_pagination(ready):
    a = new_item(ready, group="g-env")
    b = new_item(ready, group="g-edu")
    items.advance(ready, b, "propose", "wang.fang", T0, fields={"topic": "x", "source": "社会关注"})
    assert [r["id"] for r in views.list_items(ready, T0)] == [b, a]  # newest first
    assert [r["id"] for r in views.list_items(ready, T0, group="g-edu")] == [b]
    assert [r["id"] for r in views.list_items(ready, T0, state="topic_selection")] == [a]
    assert [r["id"] for r in views.list_items(ready, T0, owner="li.ming")] == [b]  # council owns annual_plan
    assert [r["id"] for r in views.list_items(ready, T0, limit=1, offset=1)] == [a]
    # a is due 1/26 (15 working days), b's plan step 2/5 (1 month after 1/5): both red on 2/20, only a on 2/3
    assert [r["id"] for r in views.list_items(ready, at("2026-02-20 09:00"), light_is="red")] == [b, a]
    assert [r["id"] for r in views.list_items(ready, at("2026-02-03 09:00"), light_is="red")] == [a]


def test_lights(ready):
    a = new_item(ready)  # due 2026-01-26 24:00; yellow 3 working days before: from 1/22 24:00
    assert views.show_item(ready, a, at("2026-01-10 09:00"))["light"] == "green"
    assert views.show_item(ready, a, at("2026-01-23 09:00"))["light"] == "yellow"
    assert views.show_item(ready, a, at("2026-01-27 00:01"))["light"] == "red"
    assert [r["id"] for r in views.list_items(ready, at("2026-01-27 00:01"), light_is="red")] == [a]
    assert views.list_items(ready, at("2026-01-23 09:00"), light_is="red") == []
    assert [r["id"] for r in views.list_items(ready, at("2026-01-23 09:00"), light_is="yellow")] == [a]
    assert [r["id"] for r in views.list_items(ready, at("2026-01-10 09:00"), light_is="green")] == [a]


def test_relative_deadline_is_recomputed_when_its_date_changes(ready):
    item_id = new_item(ready)
    to_rectification(ready, item_id)  # passes through opinions_handover etc. quickly
    b = new_item(ready)
    for trigger, actor, fields in [("propose", "wang.fang", {"topic": "x", "source": "社会关注"}),
                                   ("adopt_plan", "li.ming", {"meeting_date": "2026-06-25"}),
                                   ("approve_work_plan", "chen.jing", {"plan_doc": "1"}),
                                   ("finish_research", "zhao.hua", {"research_report": "r"}),
                                   ("hand_over_views", "wang.fang", {})]:
        items.advance(ready, b, trigger, actor, T0, fields=fields)
    d = views.show_item(ready, b, T0)
    assert d["state"] == "report_review" and d["step"]["due"] == "2026-06-05 24:00"  # 6/25 − 20 days
    r = items.set_fields(ready, b, {"meeting_date": "2026-08-27"}, "chen.jing", T0)
    assert r["recomputed"] and r["due"] == "2026-08-07 24:00"
    with pytest.raises(NotPermitted):
        items.set_fields(ready, b, {"meeting_date": "2026-08-27"}, "he.yan", T0)


def test_naive_time_is_refused(ready):
    from datetime import datetime

    with pytest.raises(InvalidInput, match="time zone"):
        items.create_item(ready, template="special_supervision", title="x", actor="wang.fang", now=datetime(2026, 1, 5))


def test_unknown_things_are_not_found(ready):
    with pytest.raises(NotFound, match="item 999 does not exist"):
        items.advance(ready, 999, "propose", "wang.fang", T0)
    with pytest.raises(NotFound, match="no published template 'nope'"):
        items.create_item(ready, template="nope", title="x", actor="wang.fang", now=T0)
    with pytest.raises(NotFound, match="no person"):
        items.create_item(ready, template="special_supervision", title="x", actor="ghost", now=T0)


# --- the audit chain ----------------------------------------------------------------------------

def _events(store, n=3):
    item_id = new_item(store)
    items.advance(store, item_id, "propose", "wang.fang", T0, fields={"topic": "x", "source": "社会关注"})
    items.advance(store, item_id, "adopt_plan", "li.ming", T0, fields={"meeting_date": "2026-06-25"})
    with store.read() as s:
        assert audit.verify(s).ok


def test_audit_detects_a_modified_event(ready):
    _events(ready)
    with ready.transaction() as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == 5).values(actor="someone.else"))
    with ready.read() as s:
        r = audit.verify(s)
    assert not r.ok and r.first_bad_seq == 5 and "modified" in r.problem


def test_audit_detects_a_deleted_event(ready):
    _events(ready)
    with ready.transaction() as s:
        s.execute(text("DELETE FROM audit_events WHERE seq = 4"))
    with ready.read() as s:
        r = audit.verify(s)
    assert not r.ok and r.first_bad_seq == 4 and "deleted" in r.problem


def test_audit_detects_deleted_last_events(ready):
    _events(ready)
    with ready.transaction() as s:
        last = s.execute(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        s.execute(text(f"DELETE FROM audit_events WHERE seq = {last}"))
    with ready.read() as s:
        r = audit.verify(s)
    assert not r.ok and "deleted" in r.problem


def test_audit_detects_reordered_events(ready):
    _events(ready)
    with ready.transaction() as s:
        s.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = 4"))
        s.execute(text("UPDATE audit_events SET seq = 4 WHERE seq = 5"))
        s.execute(text("UPDATE audit_events SET seq = 5 WHERE seq = -1"))
    with ready.read() as s:
        r = audit.verify(s)
    assert not r.ok and r.first_bad_seq in (4, 5)


def test_audit_detects_an_inserted_event(ready):
    _events(ready)
    with ready.transaction() as s:
        ev = s.execute(select(AuditEvent).where(AuditEvent.seq == 3)).scalar_one()
        s.execute(text("UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 4"))
        s.add(AuditEvent(seq=4, at=ev.at, actor="forger", kind="advanced", item_id=ev.item_id, data={}, prev_hash=ev.hash,
                         hash="f" * 64))
    with ready.read() as s:
        r = audit.verify(s)
    assert not r.ok and r.first_bad_seq == 4


def test_steps_rows_per_visit(ready):
    item_id = new_item(ready)
    to_rectification(ready, item_id)
    with ready.read() as s:
        steps = s.execute(select(Step).where(Step.item_id == item_id).order_by(Step.seq)).scalars().all()
    assert [st.seq for st in steps] == list(range(1, 13))
    assert all(st.left_at is not None for st in steps[:-1]) and steps[-1].left_at is None
    assert steps[0].left_via == "propose" and steps[1].entered_via == "propose"


def test_published_versions_are_immutable_rows(ready):
    with ready.read() as s:
        versions = s.execute(select(TemplateVersion)).scalars().all()
    assert len({v.content_hash for v in versions}) == len(versions) == 3


def test_builtin_dir_exists():
    assert Path(registry.BUILTIN_DIR / "schema.json").exists()
