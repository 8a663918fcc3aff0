"""Sub-items (issue 14, part 2): a step hands work to several units, one child item each, and waits for its join.

On SQLite and PostgreSQL: a 审议意见 handed to three departments, a 市县联动 supervision spawning one item per
district, the joins `all`, `any` and `lead`, a parent leaving the step early (its open children closed), the
parent's light taking in its children's, refusals that change nothing, and two children finishing at once.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from starlette.testclient import TestClient
from test_web import signed_in

from cli import cli
from conftest import ADMIN, T0, Clock, at, chain_files, passwords
from workflow import loader, service, templates
from workflow.errors import DefinitionError, InvalidInput, NotPermitted
from workflow.service import reads
from workflow.store import directory
from workflow.store.models import AuditEvent, Escalation, Item, SubItem
from workflow.web import create_app

OPINIONS = templates.builtin("opinion_handling").read_text("utf-8")
HANDED = at("2026-03-02 10:00")  # the opinions handed over; each department's 2 months run to 2026-05-02 → 05-06 (劳动节)
DEPARTMENTS = {"d-env": "huang.bo", "d-edu": "xu.na", "d-agri": "luo.gang"}


def handed_to_three(store, units: str = "d-env,d-edu,d-agri", template: str = "opinion_handling") -> tuple[int, list[int]]:
    parent = service.create_item(store, ADMIN, template=template, title="关于大气污染防治工作情况报告的审议意见",
                                 now=at("2026-03-02 09:00"), group="g-env").id
    service.advance(store, ADMIN, parent, "hand_over", HANDED, fields={"opinions": "常办〔2026〕5号", "units": units}, files=chain_files("hand_over", "opinion_handling"))
    kids = [c.id for c in service.show_item(store, service.OPERATOR, parent, HANDED).children]
    return parent, kids


def finish(store, child: int, department: str, when) -> None:
    service.advance(store, department, child, "report", when, fields={"measures_report": "已整改到位"}, files=chain_files("report", "department_rectification"))
    service.advance(store, "chen.jing", child, "accept", when + timedelta(minutes=5))


def publish(store, tmp_path, text: str, name: str) -> None:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    service.publish(store, ADMIN, p, T0 + timedelta(minutes=1))


# --- 审议意见 handed to three departments ----------------------------------------------------------------

def test_opinions_handed_to_three_departments_make_three_sub_items_with_their_own_owners_and_deadlines(ready):
    s = ready
    parent, kids = handed_to_three(s)
    p = service.show_item(s, service.OPERATOR, parent, HANDED)
    assert p.state == "rectification" and len(kids) == 3 and kids == sorted(kids) and parent < kids[0]
    assert [(c.unit, c.part, c.state) for c in p.children] == [
        ("d-env", "主办", "rectifying"), ("d-edu", "协办", "rectifying"), ("d-agri", "协办", "rectifying")]
    for kid, (unit, person) in zip(kids, DEPARTMENTS.items(), strict=True):
        k = service.show_item(s, service.OPERATOR, kid, HANDED)
        assert k.template == "department_rectification" and k.group == "g-env"
        assert k.owners == [f"{_name(s, person)} ({person})"]  # the unit's member, only
        roles = {r.role: r.people for r in k.roles}
        assert roles["group_lead"] == ["赵华 (zhao.hua)"] and roles["committee"] == ["陈静 (chen.jing)"]  # the parent's
        assert k.fields["opinions"] == "常办〔2026〕5号"  # the parent's value of a field the child has
        assert k.step.due == "2026-05-06 24:00"  # its own deadline: 2 months, 5月2日 is in the 劳动节 holiday
        assert k.parent.id == parent and k.parent.unit == unit and k.parent.step_label == "各承办单位整改落实"
        assert "（市" in k.title and k.title.endswith(("·主办）", "·协办）"))
    spawned = [h for h in service.history(s, service.OPERATOR, parent) if h.kind == "spawned"]
    assert len(spawned) == 1 and [c["id"] for c in spawned[0].data["children"]] == kids
    assert service.history(s, service.OPERATOR, kids[0])[0].data["parent"] == parent


def _name(store, code: str) -> str:
    return next(p.name for p in service.list_people(store) if p.code == code)


def test_the_parent_moves_on_by_itself_once_every_department_has_finished(ready):
    s = ready
    parent, kids = handed_to_three(s)
    when = at("2026-04-01 09:00")
    for kid, person in zip(kids[:2], ["huang.bo", "xu.na"], strict=True):
        finish(s, kid, person, when)
        assert service.show_item(s, service.OPERATOR, parent, when + timedelta(hours=1)).state == "rectification"  # still waiting
    finish(s, kids[2], "luo.gang", when)
    p = service.show_item(s, service.OPERATOR, parent, when + timedelta(hours=1))
    assert p.state == "summary" and p.version == 3 and all(c.finished and not c.closed for c in p.children)
    ev = service.history(s, service.OPERATOR, parent)[-1]
    assert ev.kind == "advanced" and ev.actor is None and ev.data["by"] == "system" and ev.data["join"] == "all"
    assert ev.data["trigger"] == "all_rectified" and ev.data["children_done"] == kids
    assert ev.at == "2026-04-01 09:05"  # at the moment the last department's report was accepted
    # the system's move handed the next step over: its owner is told, by the system
    with s.read() as tx:
        assert tx.execute(select(func.count()).select_from(AuditEvent.__table__)
                          .where(AuditEvent.item_id == parent, AuditEvent.kind == "advanced")).scalar() == 2


def test_the_parents_light_is_the_worst_of_its_own_and_its_open_childrens(ready):
    s = ready
    parent, kids = handed_to_three(s)
    late = at("2026-05-08 09:00")  # the children's 2 months have run out; the parent's own 3 months have not
    p = service.show_item(s, service.OPERATOR, parent, late)
    assert p.step.due == "2026-06-02 24:00" and {c.light for c in p.children} == {"red"} and p.light == "red"
    # lists and their light filters agree with the page
    assert parent in [r.id for r in service.list_items(s, service.OPERATOR, late, light_is="red", template="opinion_handling")]
    assert parent not in [r.id for r in service.list_items(s, service.OPERATOR, late, light_is="green", template="opinion_handling")]
    box = reads.inbox(s, _person(s, "li.ming"), late, template="opinion_handling")
    entry = next(e for e in box.entries if e.item.id == parent)
    assert entry.item.light == "red" and box.counts["red"] == 1 and box.counts["green"] == 0
    assert [e.item.id for e in reads.inbox(s, _person(s, "li.ming"), late, light="red",
                                               template="opinion_handling").entries] == [parent]
    # once every child is done the parent is on a step of its own again, and green
    for kid, person in zip(kids, DEPARTMENTS.values(), strict=True):
        finish(s, kid, person, late)
    assert service.show_item(s, service.OPERATOR, parent, late + timedelta(hours=1)).light == "green"
    before = at("2026-03-03 09:00")
    assert service.show_item(s, service.OPERATOR, parent, before).light == "green"  # nobody late yet: green


def _person(store, code: str):
    with store.read() as tx:
        return directory.person(tx, code)


def test_each_sub_item_escalates_on_its_own_ladder(ready):
    s = ready
    parent, kids = handed_to_three(s)
    finish(s, kids[0], "huang.bo", at("2026-04-01 09:00"))
    service.sweep(s, at("2026-05-07 09:00"))  # a day after the children's due time
    with s.read() as tx:
        rungs = tx.execute(select(Escalation.item_id, Escalation.rung).where(Escalation.item_id.in_(kids + [parent]))
                           .order_by(Escalation.item_id, Escalation.id)).all()
    fired = {(i, r) for i, r in rungs}
    assert {(kids[1], "reminder"), (kids[1], "blue"), (kids[2], "reminder"), (kids[2], "blue")} <= fired
    assert not {i for i, _r in fired} & {kids[0]}  # the finished one has nothing to escalate
    assert not [r for i, r in fired if i == parent and r != "reminder"]  # the parent's own 3 months still run


# --- the join rules, and a parent leaving early ------------------------------------------------------------

@pytest.mark.parametrize("join, finisher, moves", [("lead", 0, True), ("lead", 1, False), ("any", 2, True)])
def test_join_lead_and_any(ready, tmp_path, join, finisher, moves):
    s = ready
    publish(s, tmp_path, OPINIONS.replace("join: all,", f"join: {join},"), f"{join}.yaml")
    parent, kids = handed_to_three(s)
    when = at("2026-04-01 09:00")
    finish(s, kids[finisher], list(DEPARTMENTS.values())[finisher], when)
    p = service.show_item(s, service.OPERATOR, parent, when + timedelta(hours=1))
    assert (p.state == "summary") is moves
    if moves:  # the others were closed with the step, and say why
        others = [c for c in p.children if c.id != kids[finisher]]
        assert all(c.finished and c.closed and "已进入「汇总整改情况」" in c.closed for c in others)
        assert service.history(s, service.OPERATOR, parent)[-1].data["join"] == join


def test_the_council_not_waiting_closes_the_open_sub_items_with_a_reason(ready):
    s = ready
    parent, kids = handed_to_three(s)
    when = at("2026-04-01 09:00")
    finish(s, kids[0], "huang.bo", when)
    with pytest.raises(NotPermitted):  # the move is the council's, not a department's
        service.advance(s, "huang.bo", parent, "all_rectified", when + timedelta(hours=1))
    service.advance(s, "li.ming", parent, "all_rectified", when + timedelta(hours=2), comment="不再等待")
    p = service.show_item(s, service.OPERATOR, parent, when + timedelta(hours=3))
    assert p.state == "summary"
    closed = [c for c in p.children if c.closed]
    assert [c.id for c in closed] == kids[1:] and all("李明「各承办单位整改完毕」" in c.closed for c in closed)
    assert [c.light_label for c in closed] == ["已关闭", "已关闭"] and not p.children[0].closed
    for kid in kids[1:]:
        ev = service.history(s, service.OPERATOR, kid)[-1]
        assert ev.kind == "closed" and ev.actor == "li.ming" and ev.data["parent"] == parent
        k = service.show_item(s, service.OPERATOR, kid, when + timedelta(hours=3))
        assert k.finished and k.parent.closed and k.step.status == "closed"
        with pytest.raises(InvalidInput, match=rf"事项 {kid} 已于 .* 随上级事项的环节关闭"):
            service.advance(s, "xu.na" if kid == kids[1] else "luo.gang", kid, "report", when + timedelta(hours=4),
                            fields={"measures_report": "迟到的报告"}, files=chain_files("report", "department_rectification"))
    # a closed sub-item never escalates
    service.sweep(s, at("2026-07-01 09:00"))
    with s.read() as tx:
        assert tx.execute(select(func.count()).select_from(Escalation.__table__)
                          .where(Escalation.item_id.in_(kids[1:]))).scalar() == 0


# --- 市县联动: one sub-item per district ---------------------------------------------------------------------

def test_a_joint_supervision_spawns_one_item_per_district_owned_by_its_congress(ready):
    s = ready
    parent = service.create_item(s, ADMIN, template="joint_supervision", title="市县联动：农村生活污水治理",
                                 now=at("2026-03-02 09:00"), group="g-env").id
    service.advance(s, "chen.jing", parent, "start_inspection", at("2026-03-10 09:00"),
                    fields={"topic": "农村生活污水治理", "districts": "q-dongcheng、q-xicheng，q-nanhu"})
    p = service.show_item(s, service.OPERATOR, parent, at("2026-03-10 10:00"))
    assert [(c.unit_name, c.part) for c in p.children] == [
        ("东城区人大常委会", "主办"), ("西城区人大常委会", "协办"), ("南湖县人大常委会", "协办")]
    owners = [service.show_item(s, service.OPERATOR, c.id, at("2026-03-10 10:00")).owners for c in p.children]
    assert owners == [["邓云 (deng.yun)"], ["白雪 (bai.xue)"], ["江宁 (jiang.ning)"]]
    for c, congress in zip(p.children, ["deng.yun", "bai.xue", "jiang.ning"], strict=True):
        k = service.show_item(s, service.OPERATOR, c.id, at("2026-03-10 10:00"))
        assert k.fields["topic"] == "农村生活污水治理" and k.step.due == "2026-04-10 24:00"
        service.advance(s, congress, c.id, "report_findings", at("2026-04-01 09:00"), fields={"findings": "检查报告"})
        service.advance(s, "zhao.hua", c.id, "accept", at("2026-04-02 09:00"))  # the city's 组长, from the parent
    assert service.show_item(s, service.OPERATOR, parent, at("2026-04-02 10:00")).state == "joint_report"


# --- refusals change nothing -------------------------------------------------------------------------------

def _count(store, table) -> int:
    with store.read() as tx:
        return tx.execute(select(func.count()).select_from(table.__table__)).scalar()


def test_a_unit_with_nobody_to_own_its_sub_item_is_refused_and_nothing_is_created(ready):
    s = ready
    parent = service.create_item(s, ADMIN, template="opinion_handling", title="审议意见", now=at("2026-03-02 09:00"),
                                 group="g-env").id
    items = _count(s, Item)
    with pytest.raises(InvalidInput, match="单位“东城区人大常委会”中没有人担任承办部门"):
        service.advance(s, ADMIN, parent, "hand_over", HANDED, fields={"opinions": "5号", "units": "d-env,q-dongcheng"}, files=chain_files("hand_over", "opinion_handling"))
    with pytest.raises(InvalidInput, match="没有单位“nowhere”"):
        service.advance(s, ADMIN, parent, "hand_over", HANDED, fields={"opinions": "5号", "units": "d-env,nowhere"}, files=chain_files("hand_over", "opinion_handling"))
    assert _count(s, Item) == items and _count(s, SubItem) == 0
    assert service.show_item(s, service.OPERATOR, parent, HANDED).state == "handover"


def test_a_spawn_naming_an_unpublished_template_refuses_the_move(ready, tmp_path):
    s = ready
    publish(s, tmp_path, OPINIONS.replace("template: department_rectification", "template: not_yet_published"), "x.yaml")
    parent = service.create_item(s, ADMIN, template="opinion_handling", title="审议意见", now=at("2026-03-02 09:00"),
                                 group="g-env").id
    with pytest.raises(InvalidInput, match="流程模板“not_yet_published”的子事项，该模板尚未发布"):
        service.advance(s, ADMIN, parent, "hand_over", HANDED, fields={"opinions": "5号", "units": "d-env"}, files=chain_files("hand_over", "opinion_handling"))
    assert _count(s, SubItem) == 0


@pytest.mark.parametrize("change, message", [
    ("for_each: units,", "field 'opinions' lists the units to hand work to: it must be of type units"),
    ("then: all_rectified,", "no transition 'submit_summary' leaves state 'rectification'"),
    ("template: department_rectification,", "a step cannot hand work to items of its own template"),
])
def test_the_checker_locates_a_wrong_spawn(change, message):
    replacement = {"for_each: units,": "for_each: opinions,", "then: all_rectified,": "then: submit_summary,",
                   "template: department_rectification,": "template: opinion_handling,"}[change]
    with pytest.raises(DefinitionError) as e:
        loader.load_text(OPINIONS.replace(change, replacement), "opinion_handling.yaml")
    found = [str(p) for p in e.value.problems]
    assert any(message in p and "opinion_handling.yaml:" in p for p in found), found


def test_the_then_move_may_not_need_values_the_system_cannot_give():
    text = OPINIONS.replace("dest: summary, roles: [council]}", "dest: summary, roles: [council], requires: [summary]}")
    with pytest.raises(DefinitionError, match="may not require fields or a comment: the system makes it"):
        loader.load_text(text, "opinion_handling.yaml")


# --- two children finishing at once --------------------------------------------------------------------------

def test_two_sub_items_finishing_at_once_move_the_parent_exactly_once(ready):
    s = ready
    parent, kids = handed_to_three(s)
    when = at("2026-04-01 09:00")
    finish(s, kids[0], "huang.bo", when)
    for kid, person in zip(kids[1:], ["xu.na", "luo.gang"], strict=True):
        service.advance(s, person, kid, "report", when, fields={"measures_report": "已整改"}, files=chain_files("report", "department_rectification"))
    barrier, errors = threading.Barrier(2), []

    def accept(kid: int) -> None:
        barrier.wait()
        try:
            service.advance(s, "chen.jing", kid, "accept", when + timedelta(minutes=10))
        except Exception as e:  # noqa: BLE001 — any failure is reported below
            errors.append(e)

    threads = [threading.Thread(target=accept, args=(k,)) for k in kids[1:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    p = service.show_item(s, service.OPERATOR, parent, when + timedelta(hours=1))
    assert p.state == "summary" and p.version == 3
    system_moves = [h for h in service.history(s, service.OPERATOR, parent) if h.kind == "advanced" and h.actor is None]
    assert len(system_moves) == 1


# --- shells ---------------------------------------------------------------------------------------------------

def test_items_show_lists_the_sub_items_and_a_sub_item_names_its_parent(ready):
    s = ready
    parent, kids = handed_to_three(s)
    url = str(s.engine.url.render_as_string(hide_password=False))
    r = CliRunner().invoke(cli, ["--db", url, "items", "show", str(parent), "--now", "2026-03-03T09:00+08:00"])
    assert r.exit_code == 0, r.output
    assert "子事项:" in r.output and "市生态环境局（主办）" in r.output and "市农业农村局（协办）" in r.output
    r = CliRunner().invoke(cli, ["--db", url, "items", "show", str(kids[1]), "--now", "2026-03-03T09:00+08:00"])
    assert r.exit_code == 0 and f"上级事项  #{parent}" in r.output and "交办 市教育局（协办）" in r.output


def test_the_item_page_lists_the_sub_items_and_a_sub_items_page_links_its_parent(ready):
    s = ready
    parent, kids = handed_to_three(s)
    passwords(s)
    app = create_app(s, Clock(at("2026-05-08 09:00")))  # the children are late: red
    c = signed_in(lambda: TestClient(app, base_url="http://testserver"), "li.ming")
    page = c.get(f"/items/{parent}").text
    assert "子事项（0/3 已办结）" in page and page.count('class="light red"') >= 4  # the parent's own and three children
    for kid in kids:
        assert f'href="/items/{kid}"' in page
    assert "市生态环境局（主办）" in page and "市农业农村局（协办）" in page
    assert "已分别交办 3 个尚未办结的子事项" in page  # the council is told that not waiting closes them
    child = signed_in(lambda: TestClient(app, base_url="http://testserver"), "xu.na").get(f"/items/{kids[1]}")
    assert child.status_code == 200 and f'href="/items/{parent}"' in child.text and "交办 市教育局（协办）" in child.text
    # a department sees its own sub-item, not another department's
    assert signed_in(lambda: TestClient(app, base_url="http://testserver"), "xu.na").get(f"/items/{kids[2]}").status_code == 404


def test_the_inbox_is_the_same_read_from_the_persons_items_or_from_the_open_items(ready, monkeypatch):
    """The inbox has two plans: from the person's own items (few roles: everybody here) and from the open items at
    his steps (council and office staff at scale: FEW_ITEMS). Both give the same pages and counts, across
    templates, sub-items, a paused item, lights and filters."""
    from workflow.store import inbox as inbox_store

    s = ready
    parent, kids = handed_to_three(s)
    finish(s, kids[0], "huang.bo", at("2026-04-01 09:00"))
    for title, group in (("甲", "g-env"), ("乙", "g-edu"), ("丙", "g-env")):
        service.create_item(s, ADMIN, template="special_supervision", title=title, now=T0, group=group)
    paused = service.create_item(s, ADMIN, template="special_supervision", title="挂起", now=T0, group="g-env").id
    service.pause(s, "li.ming", paused, "等待市委批复", at("2026-01-12 09:00"))
    when = at("2026-05-08 09:00")

    def boxes():
        out = {}
        for code in ("li.ming", "wang.fang", "huang.bo", "xu.na", "zhao.hua", "chen.jing"):
            who = _person(s, code)
            for filters in ({}, {"light": "red"}, {"light": "green"}, {"template": "special_supervision"},
                            {"group": "g-env"}, {"limit": 2, "offset": 1}):
                box = reads.inbox(s, who, when, **filters)
                out[code, tuple(filters.items())] = ([e.item.id for e in box.entries], box.counts,
                                                     [e.actions for e in box.entries])
        return out

    few = boxes()
    monkeypatch.setattr(inbox_store, "FEW_ITEMS", 0)  # nobody counts as holding few roles: the other plan
    assert boxes() == few
    council, department = few["li.ming", ()][0], few["xu.na", ()][0]
    assert all(few["li.ming", ()][2]) and "恢复（挂起中）" in few["li.ming", ()][2][council.index(paused)]  # his roles there
    assert paused in council and parent in council and len(council) >= 5  # both templates, and the paused item
    assert department == [kids[1]]  # d-edu's open sub-item


def test_the_ledger_shows_a_parents_light_as_its_page_does(ready):
    """A parent waiting on its sub-items is as late as its latest open child, in the 台账 as on the item page (the
    台账 looked at the parent's own clock alone and showed 绿)."""
    s = ready
    parent, _kids = handed_to_three(s)
    late = at("2026-05-08 09:00")  # the children's 2 months have run out; the parent's own 3 months have not
    assert service.show_item(s, service.OPERATOR, parent, late).light == "red"
    ledger = service.ledger(s, late, template="opinion_handling")
    row = next(r for r in ledger.rows if r["id"] == parent)
    assert row["light"] == "红"
    own = ledger.steps_of(row)[service.show_item(s, service.OPERATOR, parent, late).state]
    assert own["light"] == "绿" and own["finished"] == ""  # its own open step's clock, in the step's columns, is green
