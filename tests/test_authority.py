"""Who may do what: every action × every person of the demo directory × the steps where it matters,
against an expected table written by hand; and weakened copies of the template must make it fail.

The table below is the committee's rule book for the built-in special_supervision chain on an item
of 第一专项监督小组 (g-env), whose role holders are:
  council 李明 li.ming, 郑宇 zheng.yu · office 王芳 wang.fang (also the administrator) ·
  group_lead 赵华 zhao.hua · committee 陈静 chen.jing · department 黄波 huang.bo.
Everyone else in the directory holds no role on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from conftest import ADMIN, PEOPLE, T0, at, chain_files
from workflow import service, templates
from workflow.errors import Hidden, InvalidInput, NotPermitted, WuzhuanError
from workflow.store import Store

EVERYONE = [p["code"] for p in yaml.safe_load(PEOPLE.read_text("utf-8"))["people"]]
COUNCIL = {"li.ming", "zheng.yu"}

# (action, step) → the people who may; everyone else must be refused (exit 3; exit 2 / 404, as if it did not exist,
# when he may not even see the item) and the refusal recorded.
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("advance:propose", "topic_selection"): {"wang.fang", "chen.jing"},
    ("advance:drop", "topic_selection"): COUNCIL,
    ("advance:adopt_plan", "annual_plan"): COUNCIL,
    ("advance:drop", "annual_plan"): COUNCIL,
    ("advance:approve_work_plan", "work_plan"): {"chen.jing", "zhao.hua"},
    ("advance:finish_research", "research"): {"zhao.hua"},
    ("advance:hand_over_views", "opinions_handover"): {"wang.fang"},
    ("advance:submit_report", "report_review"): {"huang.bo"},
    ("advance:submit_revised_report", "report_revision"): {"huang.bo"},
    ("advance:circulate_report", "report_circulation"): {"wang.fang"},
    ("advance:deliberate", "deliberation"): {"chen.jing", "wang.fang"},
    ("advance:draft_opinions", "opinion_drafting"): {"chen.jing"},  # 工委 (or 专委) drafts …
    ("advance:pass_opinions", "opinion_approval"): COUNCIL,  # … and only the 主任会议 passes the 审议意见
    ("advance:hand_over_opinions", "opinion_handover"): {"wang.fang"},
    ("advance:finish_rectification", "rectification"): {"huang.bo"},
    ("advance:submit_rectification_report", "rectification_report"): {"huang.bo", "wang.fang"},
    ("advance:refer_to_committee", "council_review"): COUNCIL,
    ("advance:return_rectification_report", "council_review"): {"chen.jing", "wang.fang"} | COUNCIL,
    ("advance:record_vote", "satisfaction_vote"): {"chen.jing", "wang.fang"},
    ("advance:order_measures", "council_measures"): COUNCIL,
    ("advance:close_follow_up", "follow_up"): {"chen.jing", "zhao.hua"},
    ("advance:notify_deputies", "publication"): {"wang.fang"},
    ("advance:publish", "public_release"): {"wang.fang"},
    # roles on the item: office and council grant them (王芳 also as administrator); nobody grants himself
    ("assign_other", "topic_selection"): {"wang.fang"} | COUNCIL,
    ("assign_other", "rectification"): {"wang.fang"} | COUNCIL,
    ("assign_self", "topic_selection"): {"wang.fang"},
    ("unassign_other", "research"): {"wang.fang"} | COUNCIL,
    # fields: the meeting date is `keep` (office, council at any step); others by the moves that need them
    ("set:meeting_date", "report_review"): {"wang.fang"} | COUNCIL,
    ("set:meeting_date", "rectification"): {"wang.fang"} | COUNCIL,
    ("set:plan_doc", "work_plan"): {"chen.jing", "zhao.hua"},
    ("set:research_report", "topic_selection"): set(),
    ("set:rectification_report", "rectification_report"): {"huang.bo", "wang.fang"},
    # pause and resume: council and committee (the template's defaults)
    ("pause", "topic_selection"): {"chen.jing"} | COUNCIL,
    ("pause", "rectification"): {"chen.jing"} | COUNCIL,
    ("resume", "research"): {"chen.jing"} | COUNCIL,
    ("move_while_paused", "research"): set(),  # even the owner cannot move a paused step
    # extensions: the owner asks; the 分管副主任 (周强 for g-env) or the council decides, never on his own request
    ("request_extension", "topic_selection"): {"wang.fang"},
    ("request_extension", "rectification"): {"huang.bo"},
    ("decide_extension", "topic_selection"): COUNCIL | {"zhou.qiang"},  # 王芳 asked
    ("decide_extension", "annual_plan"): {"zheng.yu", "zhou.qiang"},  # 李明 asked: he may not decide himself
    # creating an item of g-env: whoever may act on its first step, or an administrator
    ("create", "-"): {"wang.fang", "chen.jing"} | COUNCIL,
    # administration
    ("publish", "-"): {"wang.fang"},
    ("import_people", "-"): {"wang.fang"},
    ("import_calendar", "-"): {"wang.fang"},
    ("retry_outbox", "-"): {"wang.fang"},
}

FIELDS = {"topic": "大气污染防治法实施情况", "source": "社会关注"}
# 满意度测评 counted: 40 of 60 members satisfied (满意), or 20 (不满意).
YES = {"members_total": 60, "votes_for": 40, "votes_basic": 5, "votes_against": 10, "votes_abstain": 5}
NO = {"members_total": 60, "votes_for": 20, "votes_basic": 5, "votes_against": 30, "votes_abstain": 5}
# How to reach each step on an item of g-env, and the values each move needs.
MOVES = {
    "propose": ("wang.fang", FIELDS, None),
    "adopt_plan": ("li.ming", {"meeting_date": "2026-06-25"}, None),
    "approve_work_plan": ("chen.jing", {"plan_doc": "常办发〔2026〕3号"}, None),
    "finish_research": ("zhao.hua", {"research_report": "调研报告"}, None),
    "hand_over_views": ("wang.fang", {}, None),
    "submit_report": ("huang.bo", {}, None),
    "submit_revised_report": ("huang.bo", {"report_doc": "报告修改稿"}, None),
    "circulate_report": ("wang.fang", {}, None),
    "deliberate": ("chen.jing", {}, None),
    "draft_opinions": ("chen.jing", {"opinions": "审议意见"}, None),
    "pass_opinions": ("li.ming", {}, None),
    "hand_over_opinions": ("wang.fang", {"departments": "市生态环境局"}, None),
    "finish_rectification": ("huang.bo", {}, None),
    "submit_rectification_report": ("huang.bo", {"rectification_report": "整改报告"}, None),
    "refer_to_committee": ("li.ming", {}, None),
    "return_rectification_report": ("wang.fang", {}, "整改报告内容不全，退回补充"),
    "record_vote": ("chen.jing", YES, None),
    "order_measures": ("li.ming", {"measures": "限期一个月"}, "主任会议决定"),
    "close_follow_up": ("zhao.hua", {}, None),
    "notify_deputies": ("wang.fang", {"published_docs": "专项工作报告、审议意见、整改报告"}, None),
    "publish": ("wang.fang", {"publication_url": "http://rd.example.gov.cn/1"}, None),
    "drop": ("li.ming", {}, "不予立项"),
}
_HAPPY = ["propose", "adopt_plan", "approve_work_plan", "finish_research", "hand_over_views", "submit_report",
          "submit_revised_report", "circulate_report", "deliberate", "draft_opinions", "pass_opinions", "hand_over_opinions",
          "finish_rectification", "submit_rectification_report", "refer_to_committee"]
PATH = {s: _HAPPY[:i] for i, s in enumerate(["topic_selection", "annual_plan", "work_plan", "research", "opinions_handover",
                                               "report_review", "report_revision", "report_circulation", "deliberation",
                                               "opinion_drafting", "opinion_approval", "opinion_handover", "rectification",
                                               "rectification_report", "council_review", "satisfaction_vote"])}
PATH["follow_up"] = _HAPPY + ["record_vote"]
PATH["publication"] = _HAPPY + ["record_vote", "close_follow_up"]
PATH["public_release"] = _HAPPY + ["record_vote", "close_follow_up", "notify_deputies"]
_AGAIN = ["finish_rectification", "submit_rectification_report", "refer_to_committee"]
PATH["council_measures"] = _HAPPY + ["vote_no"] + _AGAIN + ["vote_no"]


@dataclass
class Outcome:
    wrongly_allowed: list[str] = field(default_factory=list)
    wrongly_refused: list[str] = field(default_factory=list)
    unaudited: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    checked: int = 0


class Matrix:
    """Runs each (action, step) for every person on real items, each allowed person on a fresh item."""

    def __init__(self, store: Store, tmp: Path):
        self.store, self.tmp, self.clock = store, tmp, T0

    def tick(self):
        self.clock += timedelta(minutes=1)
        return self.clock

    def item_at(self, step: str) -> int:
        if step == "-":
            return 0
        item = service.create_item(self.store, "wang.fang", template="special_supervision", title="矩阵", now=self.tick(),
                                   group="g-env").id
        for trigger in PATH[step]:
            if trigger == "vote_no":
                service.advance(self.store, "chen.jing", item, "record_vote", self.tick(), fields=NO, comment="不满意")
                continue
            actor, fields, comment = MOVES[trigger]
            service.advance(self.store, actor, item, trigger, self.tick(), fields=fields, comment=comment,
                            files=chain_files(trigger))
        return item

    def prepare(self, action: str, step: str, item: int) -> dict:
        """What must exist before the attempt (a paused step, a pending request, files)."""
        ctx: dict = {}
        if action in ("resume", "move_while_paused"):
            service.pause(self.store, "li.ming", item, "暂缓", self.tick())
        if action == "decide_extension":
            asker = "wang.fang" if step == "topic_selection" else "li.ming"
            ctx["request"] = service.request_extension(self.store, asker, item, "需要更多时间", "2026-12-31", self.tick()).id
        if action == "unassign_other":
            service.assign(self.store, "wang.fang", item, "department", ["liang.hui"], self.tick())
        return ctx

    def attempt(self, action: str, person: str, item: int, ctx: dict) -> None:
        s, now = self.store, self.tick()
        if action.startswith("advance:"):
            trigger = action.split(":", 1)[1]
            _actor, fields, comment = MOVES[trigger]
            service.advance(s, person, item, trigger, now, fields=fields, comment=comment, files=chain_files(trigger))
        elif action == "move_while_paused":
            service.advance(s, person, item, "finish_research", now, fields={"research_report": "r"})
        elif action == "assign_other":
            service.assign(s, person, item, "department", ["liang.hui"], now)
        elif action == "assign_self":
            service.assign(s, person, item, "department", [person], now)
        elif action == "unassign_other":
            service.unassign(s, person, item, "department", ["liang.hui"], now)
        elif action.startswith("set:"):
            name = action.split(":", 1)[1]
            value = {"meeting_date": "2026-08-27"}.get(name, "新的值")
            service.set_fields(s, person, item, {name: value}, now)
        elif action == "pause":
            service.pause(s, person, item, "暂缓", now)
        elif action == "resume":
            service.resume(s, person, item, now)
        elif action == "request_extension":
            service.request_extension(s, person, item, "需要更多时间", "2026-12-31", now)
        elif action == "decide_extension":
            service.decide_extension(s, person, ctx["request"], True, now)
        elif action == "create":
            service.create_item(s, person, template="special_supervision", title="新事项", now=now, group="g-env")
        elif action == "publish":
            service.publish(s, person, templates.builtin("deputy_suggestion"), now)
        elif action == "import_people":
            service.import_people(s, person, PEOPLE, now)
        elif action == "import_calendar":
            p = self.tmp / "2027.yaml"
            p.write_text("year: 2027\nholidays: [{name: 元旦, from: 2027-01-01, to: 2027-01-03}]\n", encoding="utf-8")
            service.import_calendar(s, person, p, now)
        elif action == "retry_outbox":
            service.retry_outbox(s, person, now)
        else:
            raise AssertionError(f"unknown action {action}")

    def refusals_of(self, person: str) -> int:
        from sqlalchemy import func, select

        from workflow.store.models import AuditEvent

        with self.store.read() as tx:
            return tx.execute(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.kind == "refused", AuditEvent.actor == person)).scalar_one()

    def run(self, expected: dict[tuple[str, str], set[str]], people: list[str] = EVERYONE) -> Outcome:
        out = Outcome()
        for (action, step), allowed in expected.items():
            shared = self.item_at(step)
            ctx = self.prepare(action, step, shared)
            for person in [p for p in people if p not in allowed] + [p for p in people if p in allowed]:
                item = shared
                if person in allowed:  # each success gets its own item, so nobody's attempt sees another's result
                    item = self.item_at(step)
                    ctx = self.prepare(action, step, item)
                case = f"{action} at {step} by {person}"
                before = self.refusals_of(person)
                try:
                    self.attempt(action, person, item, ctx)
                    ok = True
                except (NotPermitted, Hidden):  # refused; Hidden: as if the item did not exist (he may not see it)
                    ok = False
                except (InvalidInput, WuzhuanError) as e:
                    out.errors.append(f"{case}: {type(e).__name__}: {e}")
                    continue
                out.checked += 1
                if ok and person not in allowed:
                    out.wrongly_allowed.append(case)
                    shared = self.item_at(step)  # it moved: the next people get a fresh one
                    ctx = self.prepare(action, step, shared)
                elif not ok and person in allowed:
                    out.wrongly_refused.append(case)
                if not ok and self.refusals_of(person) != before + 1:
                    out.unaudited.append(case)
        return out


@pytest.fixture
def matrix(ready_sqlite, tmp_path) -> Matrix:
    return Matrix(ready_sqlite, tmp_path)


def test_every_action_by_every_person_matches_the_rule_book(matrix):
    out = matrix.run(EXPECTED)
    assert out.errors == []
    assert out.wrongly_allowed == [] and out.wrongly_refused == [], (len(out.wrongly_allowed), len(out.wrongly_refused))
    assert out.unaudited == []
    assert out.checked == len(EXPECTED) * len(EVERYONE) == 45 * 26


MUTATIONS: dict[str, tuple[Callable[[str], str], list[tuple[str, str]]]] = {
    "a move gains a role": (
        lambda t: t.replace("dest: work_plan, roles: [council]", "dest: work_plan, roles: [council, department]"),
        [("advance:adopt_plan", "annual_plan")]),
    "a keep field editable by the department": (
        lambda t: t.replace("meeting_date: {type: date, label: 常委会会议日期, keep: true}",
                            "meeting_date: {type: date, label: 常委会会议日期, keep: true, editable_by: [office, council, department]}"),
        [("set:meeting_date", "report_review")]),
    "the department may pause": (
        lambda t: t.replace("pause_roles: [council, committee]", "pause_roles: [council, committee, department]"),
        [("pause", "rectification")]),
    "the group lead may grant roles": (
        lambda t: t.replace("  department: 承办部门", "  department: {label: 承办部门, assignable_by: [office, council, group_lead]}"),
        [("assign_other", "topic_selection")]),
    "the group lead may approve extensions": (
        lambda t: t.replace("extension_approvers: [leader, council]", "extension_approvers: [leader, council, group_lead]"),
        [("decide_extension", "topic_selection")]),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_a_weakened_template_fails_the_matrix(matrix, tmp_path, name):
    """Publish a copy of the chain with one rule weakened: the same table must catch it."""
    mutate, cases = MUTATIONS[name]
    src = templates.builtin("special_supervision").read_text("utf-8")
    weak = mutate(src)
    assert weak != src, "the mutation did not apply"
    p = tmp_path / "special_supervision.yaml"
    p.write_text(weak, encoding="utf-8")
    assert service.publish(matrix.store, ADMIN, p, T0).created
    out = matrix.run({c: EXPECTED[c] for c in cases})
    assert out.errors == []
    assert out.wrongly_allowed, f"weakening '{name}' went unnoticed"


def test_the_issue_scenario(ready_sqlite):
    """The gaps the authority issue reported, one by one."""
    s = ready_sqlite
    env = service.create_item(s, "wang.fang", template="special_supervision", title="大气", now=T0, group="g-env").id
    elderly = service.create_item(s, "wang.fang", template="special_supervision", title="养老", now=T0, group="g-elderly").id
    t = at("2026-01-06 09:00")
    with pytest.raises(Hidden, match="事项 2 不存在"):  # a department clerk makes himself 主任会议 (of an item he cannot see)
        service.assign(s, "huang.bo", elderly, "council", ["huang.bo"], t)
    with pytest.raises(Hidden, match="事项 1 不存在"):  # an outsider joins
        service.assign(s, "song.kai", env, "department", ["song.kai"], t)
    with pytest.raises(NotPermitted, match="不能在事项 \\d+ 的「.*」环节修改“常委会会议日期”"):  # the department moves the meeting
        service.set_fields(s, "huang.bo", env, {"meeting_date": "2027-12-31"}, t)
    service.advance(s, "wang.fang", env, "propose", t, fields=FIELDS)  # annual_plan: owned by the council
    r = service.request_extension(s, "li.ming", env, "需要研究", "2026-03-31", at("2026-01-07 09:00"))
    with pytest.raises(NotPermitted, match="是这项延期的申请人，不能自己审批.*郑宇"):
        service.decide_extension(s, "li.ming", r.id, True, at("2026-01-07 10:00"))
    assert service.decide_extension(s, "zheng.yu", r.id, True, at("2026-01-07 11:00")).status == "approved"
    service.pause(s, "li.ming", env, "等待", at("2026-01-08 09:00"))
    with pytest.raises(NotPermitted, match="自 2026-01-08 09:00 起挂起，请先恢复"):
        service.advance(s, "li.ming", env, "adopt_plan", at("2026-01-08 10:00"), fields={"meeting_date": "2026-06-25"})
    service.resume(s, "li.ming", env, at("2026-01-09 09:00"))
    assert service.advance(s, "li.ming", env, "adopt_plan", at("2026-01-09 10:00"), fields={"meeting_date": "2026-06-25"}).to_state == "work_plan"
    refused = [e for e in service.history(s, service.OPERATOR, env) if e.kind == "refused"]
    assert [e.actor for e in refused] == ["song.kai", "huang.bo", "li.ming", "li.ming"]
    assert service.history(s, service.OPERATOR, elderly)[-1].kind == "refused"


def at_the_vote(s, title: str):
    """An item of g-env moved by the right people to 满意度测评, an hour a move; returns (item, move, clock)."""
    item = service.create_item(s, "wang.fang", template="special_supervision", title=title, now=T0, group="g-env").id
    clock = [T0]

    def move(actor, trigger, fields=None, comment=None, files=None):
        clock[0] += timedelta(hours=1)
        return service.advance(s, actor, item, trigger, clock[0], fields=fields, comment=comment, files=files)

    for trigger in _HAPPY:
        actor, fields, comment = MOVES[trigger]
        move(actor, trigger, fields, comment, chain_files(trigger))
    return item, move, clock


def test_two_unsatisfied_rounds_each_need_their_own_report_and_vote(ready):
    s = ready
    item, move, clock = at_the_vote(s, "两轮不满意")
    assert move("chen.jing", "record_vote", NO, "整改不到位").to_state == "rectification"
    move("huang.bo", "finish_rectification")
    with pytest.raises(InvalidInput, match=r"需要本轮填报“整改报告”、“佐证材料”"
                                           r"（「研究处理情况报告」环节第 2 轮）"):
        move("huang.bo", "submit_rectification_report", {"rectification_report": "第二次整改报告"})  # round 1's files do not count
    move("huang.bo", "submit_rectification_report", {"rectification_report": "第二次整改报告"},
         files=chain_files("submit_rectification_report"))
    move("li.ming", "refer_to_committee")
    with pytest.raises(InvalidInput, match=r"需要本轮填报“满意度测评结果”（「满意度测评」环节第 2 轮）"):
        move("chen.jing", "record_vote", comment="还是不满意")  # round 1's 不满意 does not count: nobody voted yet
    with pytest.raises(InvalidInput, match=r"“满意度测评结果”由票数计算得出"):
        move("chen.jing", "record_vote", {"vote": "满意"})  # a result is counted, never typed
    assert move("chen.jing", "record_vote", NO, "仍不满意").to_state == "council_measures"
    move("li.ming", "order_measures", {"measures": "限期一个月"}, "主任会议决定")
    move("huang.bo", "finish_rectification")
    with pytest.raises(InvalidInput, match="「研究处理情况报告」环节第 3 轮"):
        move("huang.bo", "submit_rectification_report")
    move("huang.bo", "submit_rectification_report", {"rectification_report": "第三次整改报告"},
         files=chain_files("submit_rectification_report"))
    move("li.ming", "refer_to_committee")
    assert move("chen.jing", "record_vote", YES).to_state == "follow_up"
    # every round keeps its own values; the keep fields (meeting date, number of members) counted throughout
    d = service.show_item(s, service.OPERATOR, item, clock[0], rounds=True)
    reports = [(x.round, x.values.get("rectification_report")) for x in d.steps if x.state == "rectification_report"]
    votes = [(x.round, x.values.get("vote"), x.values.get("votes_for")) for x in d.steps if x.state == "satisfaction_vote"]
    assert reports == [(1, "整改报告"), (2, "第二次整改报告"), (3, "第三次整改报告")]
    assert votes == [(1, "不满意", 20), (2, "不满意", 20), (3, "满意", 40)]
    assert [f["name"] for f in d.fields.pop("opinions_file")] == ["opinions_file.pdf"]  # the 审议意见书 is kept throughout
    assert d.fields == {"topic": FIELDS["topic"], "source": "社会关注", "meeting_date": "2026-06-25", "departments": ["市生态环境局"],
                        "members_total": 60}
    assert d.counters["unsatisfied_rounds"] == 2
    rounds = [(e.round, e.data.get("fields")) for e in service.history(s, service.OPERATOR, item) if e.kind == "advanced" and e.from_state == "satisfaction_vote"]
    assert [(n, f["vote"]) for n, f in rounds] == [(1, "不满意"), (2, "不满意"), (3, "满意")]


def test_a_new_owner_of_the_current_step_is_told_once(ready):
    s = ready
    item = service.create_item(s, "wang.fang", template="special_supervision", title="换人", now=T0, group="g-env").id
    for trigger in _HAPPY[:_HAPPY.index("finish_rectification")]:
        actor, fields, comment = MOVES[trigger]
        service.advance(s, actor, item, trigger, T0 + timedelta(hours=1), fields=fields, comment=comment,
                        files=chain_files(trigger))
    # now at 整改落实, owned by the department (黄波); 徐娜 takes over
    r = service.assign(s, "wang.fang", item, "department", ["xu.na"], at("2026-01-06 09:00"), replace=True)
    assert r.notified == ["徐娜"] and r.removed == ["huang.bo"]
    again = service.assign(s, "wang.fang", item, "department", ["xu.na"], at("2026-01-06 09:05"))
    assert again.notified == []  # already holds it: nothing new to tell
    service.assign(s, "wang.fang", item, "department", ["huang.bo"], at("2026-01-06 09:10"), replace=True)
    back = service.assign(s, "wang.fang", item, "department", ["xu.na"], at("2026-01-06 09:20"))
    assert back.notified == []  # told once about this step, however often the role comes and goes
    handovers = [m for m in service.list_outbox(s, limit=100) if m.notice == "handover" and "徐娜" in m.to]
    assert len(handovers) == 1
    # a role that does not own the current step tells nobody
    assert service.assign(s, "wang.fang", item, "committee", ["ma.lan"], at("2026-01-06 09:30")).notified == []


@pytest.mark.parametrize("counts, result", [
    ({"votes_for": 31, "votes_basic": 0, "votes_against": 29}, "满意"),        # 31 of 60: more than half
    ({"votes_for": 30, "votes_basic": 20, "votes_against": 10}, "基本满意"),   # exactly half is not more than half
    ({"votes_for": 10, "votes_basic": 20, "votes_against": 30}, "不满意"),
    ({"votes_for": 30, "votes_basic": 0, "votes_against": 0}, "不满意"),       # absent members count against
])
def test_the_vote_is_counted_against_all_members(ready, counts, result):
    s = ready
    item, _move, clock = at_the_vote(s, "计票")
    r = service.set_fields(s, "chen.jing", item, {"members_total": 60} | counts, clock[0] + timedelta(hours=1))
    assert r.fields_changed["vote"] == [None, result]
    with pytest.raises(InvalidInput, match=r"item \d+: 满意度测评结果（vote）：票数合计 \d+ 超过全体组成人员数 60"):
        service.set_fields(s, "chen.jing", item, {"votes_abstain": 61}, clock[0] + timedelta(hours=2))
    assert service.show_item(s, service.OPERATOR, item, clock[0] + timedelta(hours=3)).version == r.version  # the refusal changed nothing
