"""比进度·比创新·比质效 (issue 13): the board computed for hand-built fixtures, every number compared; the 台账
reopened; the results report's PDF text extracted; activities, scores and the digest with their refusals.

On SQLite and PostgreSQL. The expected numbers are worked out by hand in the comments (docs/reports.md says
what each metric counts); the engine's own calendar is not used to derive them.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select
from starlette.testclient import TestClient
from test_engine import SATISFIED, UNSATISFIED, to_vote
from test_subitems import DEPARTMENTS, finish, handed_to_three
from test_web import signed_in

from cli import cli
from conftest import ADMIN, T0, Clock, at, chain_files, passwords
from workflow import ledger_render, report_render, scorecard, service
from workflow.errors import DefinitionError, InvalidInput, NotPermitted
from workflow.store.models import AuditEvent, OrgUnit, Outbox, ProgressCount
from workflow.web import create_app

PROPOSE = {"topic": "专题", "source": "社会关注"}


def january(store) -> dict[str, int]:
    """Three items created 2026-01-05 09:00, each topic_selection due 2026-01-26 24:00 (15 working days):
    g-env proposes on 01-06 (on time), g-edu on 01-28 10:00 (late: 01-27 and 01-28 begun, 2 working days),
    g-budget never (at 2026-01-31 24:00 late by 01-27, 28, 29, 30: 4 working days; 01-31 is a Saturday)."""
    ids = {g: service.create_item(store, ADMIN, template="special_supervision", title=f"专项监督 {g}", now=T0, group=g).id
           for g in ("g-env", "g-budget", "g-edu")}
    service.advance(store, ADMIN, ids["g-env"], "propose", at("2026-01-06 09:00"), fields=PROPOSE)
    service.advance(store, ADMIN, ids["g-edu"], "propose", at("2026-01-28 10:00"), fields=PROPOSE)
    service.add_activity(store, "zhao.hua", ids["g-env"], kind="视察", day="2026-01-15", deputies=["feng.xia", "zhu.hong"],
                         now=at("2026-01-15 18:00"))
    service.set_score(store, "li.ming", "g-env", 90, at("2026-01-25 10:00"), comment="创新")
    service.set_score(store, "li.ming", "g-budget", 70, at("2026-01-25 10:05"))
    return ids


def test_the_board_for_a_hand_built_january_every_number(ready):
    january(ready)
    b = service.board(ready, "2026-01-31", "2026-01-15")
    rows = {r.unit: r for r in b.rows}
    assert b.expected_state is None  # the plan's first day is 03-31: no stage yet
    env, budget, edu = rows["g-env"], rows["g-budget"], rows["g-edu"]
    # g-env: 1 judged step, on time; annual_plan open and green; no return; innovation 90; the most attendances (2)
    assert (env.items, env.judged_steps, env.on_time_steps, env.on_time_share, env.avg_overdue_workdays) == (1, 1, 1, 1.0, 0.0)
    assert env.lights == {"green": 1, "yellow": 0, "red": 0} and env.attendances == 2 and env.scores == 1
    assert env.metrics == {"on_time": 100.0, "overdue": 100.0, "lights": 100.0, "stage": None, "satisfaction": None,
                           "rectified": None, "unsatisfied": None, "returned": 100.0, "innovation": 90.0,
                           "participation": 100.0}
    assert env.score == 98.2  # (20·100 + 10·100 + 5·100 + 5·100 + 10·90 + 5·100) / 55 = 98.18
    # g-budget: its one step judged late by 4 working days and open, red; innovation 70; no attendance
    assert (budget.judged_steps, budget.on_time_steps, budget.avg_overdue_workdays) == (1, 0, 4.0)
    assert budget.lights == {"green": 0, "yellow": 0, "red": 1}
    assert budget.metrics == {"on_time": 0.0, "overdue": 60.0, "lights": 0.0, "stage": None, "satisfaction": None,
                              "rectified": None, "unsatisfied": None, "returned": 100.0, "innovation": 70.0,
                              "participation": 0.0}
    assert budget.score == 32.7  # (10·60 + 5·100 + 10·70) / 55 = 32.73
    # g-edu: finished 2 working days late; annual_plan open, green; nobody scored it (left out)
    assert (edu.judged_steps, edu.on_time_steps, edu.avg_overdue_workdays) == (1, 0, 2.0)
    assert edu.metrics["overdue"] == 80.0 and edu.metrics["lights"] == 100.0 and edu.metrics["innovation"] is None
    assert edu.score == 40.0  # (10·80 + 5·100 + 5·100) / 45
    # no items: only participation (0 of the most) has data
    assert rows["g-rural"].score == rows["g-elderly"].score == 0.0 and rows["g-rural"].items == 0
    assert [(r.unit, r.rank, r.colour) for r in b.rows] == [
        ("g-env", 1, "blue"), ("g-edu", 2, "red"), ("g-budget", 3, "red"), ("g-elderly", 4, "red"), ("g-rural", 4, "red")]
    # on 01-15 (24:00): g-env 100 (nothing late, the score came later); g-budget and g-edu (5·100 + 5·100 + 5·0)/15
    assert [(r.unit, r.previous_rank, r.change) for r in b.rows] == [
        ("g-env", 1, 0), ("g-edu", 2, 0), ("g-budget", 2, -1), ("g-elderly", 4, 0), ("g-rural", 4, 0)]


def test_quality_metrics_count_every_round_the_returns_and_the_rectification(ready):
    """One item: 不满意 (round 1), rectified again, its report sent back once (退办), then 满意 (round 2)."""
    s = ready
    item = service.create_item(s, ADMIN, template="special_supervision", title="质效", now=T0, group="g-env").id
    to_vote(s, item)  # 2026-02-02 … 02-16
    service.advance(s, "chen.jing", item, "record_vote", at("2026-03-01 10:00"), fields=UNSATISFIED, comment="不满意")
    service.advance(s, "huang.bo", item, "finish_rectification", at("2026-03-02 10:00"))
    service.advance(s, "huang.bo", item, "submit_rectification_report", at("2026-03-03 10:00"), fields={"rectification_report": "报告"}, files=chain_files("submit_rectification_report"))
    service.advance(s, "li.ming", item, "return_rectification_report", at("2026-03-04 10:00"), comment="不合格")
    service.advance(s, "huang.bo", item, "submit_rectification_report", at("2026-03-05 10:00"), fields={"rectification_report": "报告2"}, files=chain_files("submit_rectification_report"))
    service.advance(s, "li.ming", item, "refer_to_committee", at("2026-03-06 10:00"))
    service.advance(s, "chen.jing", item, "record_vote", at("2026-03-09 10:00"), fields=SATISFIED)
    env = next(r for r in service.board(s, "2026-03-31").rows if r.unit == "g-env")
    assert env.votes == {"不满意": 1, "满意": 1} and env.vote_rounds == 2 and env.satisfaction == 50.0
    assert env.unsatisfied_rounds == 1 and env.metrics["unsatisfied"] == 66.7  # 100 − 33⅓ × 1 round / 1 item
    assert env.returned == 1 and env.metrics["returned"] == 75.0
    assert (env.rectification_reached, env.rectified, env.metrics["rectified"]) == (1, 1, 100.0)
    assert env.on_plan == 1 and env.stage_share == 1.0  # at follow_up, past the plan's work_plan for 03-31
    before = next(r for r in service.board(s, "2026-03-01").rows if r.unit == "g-env")  # the day of the 不满意 vote
    assert before.votes == {"不满意": 1} and before.rectified == 0 and before.metrics["rectified"] == 0.0


# --- the progress counts: kept by the moves, recounted from the steps -----------------------------------

def _counts(store) -> list[tuple]:
    with store.read() as tx:
        rows = tx.execute(select(OrgUnit.code, ProgressCount.template_key, ProgressCount.year, ProgressCount.day,
                                 ProgressCount.items, ProgressCount.closed, ProgressCount.on_time, ProgressCount.late_workdays)
                          .join(OrgUnit, OrgUnit.id == ProgressCount.unit_id)).all()
    return sorted((*r[:3], str(r[3]), *r[4:]) for r in rows)


def test_the_progress_counts_kept_by_the_moves_equal_a_recount_from_the_steps(ready):
    """Items created, steps left on time and late, a system move (a join), sub-items counted for their unit and a
    sub-item closed with its parent's step (not counted): what the moves kept is what a recount finds."""
    s = ready
    january(s)
    parent, kids = handed_to_three(s)
    finish(s, kids[0], "huang.bo", at("2026-04-01 09:00"))
    service.advance(s, "li.ming", parent, "all_rectified", at("2026-04-01 11:00"), comment="不再等待")
    joined, kids = handed_to_three(s)  # every department finishes: the system moves the parent on (its join)
    for kid, person in zip(kids, DEPARTMENTS.values(), strict=True):
        finish(s, kid, person, at("2026-04-02 09:00"))
    assert service.show_item(s, service.OPERATOR, joined, at("2026-04-02 10:00")).state == "summary"
    kept = _counts(s)
    special = [r for r in kept if r[1] == "special_supervision"]
    assert special == [  # (unit, template, year, day, items, closed, on time, working days late): january's moves
        ("g-budget", "special_supervision", 2026, "2026-01-05", 1, 0, 0, 0),
        ("g-edu", "special_supervision", 2026, "2026-01-05", 1, 0, 0, 0),
        ("g-edu", "special_supervision", 2026, "2026-01-28", 0, 1, 0, 2),
        ("g-env", "special_supervision", 2026, "2026-01-05", 1, 0, 0, 0),
        ("g-env", "special_supervision", 2026, "2026-01-06", 0, 1, 1, 0)]
    # each department's sub-item counts for the department and for the group (two handed out on 03-02 to each); the
    # first parent's: d-env's two steps left on 04-01, d-edu's and d-agri's closed with the parent's step (not
    # counted); the second's: all six on 04-02; the parents' steps: handed over, the council's move on 04-01, the
    # system's (the join) on 04-02
    assert [r for r in kept if r[1] != "special_supervision"] == [
        ("d-agri", "department_rectification", 2026, "2026-03-02", 2, 0, 0, 0),
        ("d-agri", "department_rectification", 2026, "2026-04-02", 0, 2, 2, 0),
        ("d-edu", "department_rectification", 2026, "2026-03-02", 2, 0, 0, 0),
        ("d-edu", "department_rectification", 2026, "2026-04-02", 0, 2, 2, 0),
        ("d-env", "department_rectification", 2026, "2026-03-02", 2, 0, 0, 0),
        ("d-env", "department_rectification", 2026, "2026-04-01", 0, 2, 2, 0),
        ("d-env", "department_rectification", 2026, "2026-04-02", 0, 2, 2, 0),
        ("g-env", "department_rectification", 2026, "2026-03-02", 6, 0, 0, 0),
        ("g-env", "department_rectification", 2026, "2026-04-01", 0, 2, 2, 0),
        ("g-env", "department_rectification", 2026, "2026-04-02", 0, 6, 6, 0),
        ("g-env", "opinion_handling", 2026, "2026-03-02", 2, 2, 2, 0),
        ("g-env", "opinion_handling", 2026, "2026-04-01", 0, 1, 1, 0),
        ("g-env", "opinion_handling", 2026, "2026-04-02", 0, 1, 1, 0)]
    r = service.recount_progress(s, ADMIN, at("2026-04-03 09:00"))
    assert r.rows == len(kept) and _counts(s) == kept
    with pytest.raises(NotPermitted):
        service.recount_progress(s, "zhao.hua", at("2026-04-03 09:00"))


def test_a_calendar_import_recounts_the_working_days_late(ready, tmp_path):
    """A 2026 notice making 01-27 a holiday: g-edu's finished step was 1 working day late, not 2; g-budget's open
    step 3, not 4 (the board counts those at the cut, with the new calendar)."""
    s = ready
    january(s)
    p = tmp_path / "2026.yaml"
    p.write_text("year: 2026\nsource: 测试用假想通知\nholidays:\n  - {name: 元旦, from: 2026-01-01, to: 2026-01-03}\n"
                 "  - {name: 假想, from: 2026-01-27}\n", encoding="utf-8")
    service.import_calendar(s, ADMIN, p, at("2026-02-01 09:00"))
    assert ("g-edu", "special_supervision", 2026, "2026-01-28", 0, 1, 0, 1) in _counts(s)
    rows = {r.unit: r for r in service.board(s, "2026-01-31").rows}
    assert rows["g-edu"].avg_overdue_workdays == 1.0 and rows["g-budget"].avg_overdue_workdays == 3.0


def test_upgrading_to_0011_counts_the_steps_already_there(ready):
    """A database at 0010 (no counts) with january's moves: `db upgrade` counts them, and the board is unchanged."""
    from alembic import command

    from workflow.store.schema import HEAD, alembic_config, migrating
    from workflow.store.upgrades import upgrade

    january(ready)
    before = service.board(ready, "2026-01-31", "2026-01-15")
    kept = _counts(ready)
    with migrating(ready.engine) as conn:
        command.downgrade(alembic_config(conn), "0010")
    r = upgrade(ready.engine)
    assert (r.before, r.after) == ("0010", HEAD)
    assert _counts(ready) == kept
    assert asdict(service.board(ready, "2026-01-31", "2026-01-15")) == asdict(before)


# --- activities and scores: who may, and once ------------------------------------------------------

def test_activities_are_recorded_by_the_office_or_the_group_lead_with_deputies_only(ready):
    s = ready
    item = service.create_item(s, ADMIN, template="special_supervision", title="活动", now=T0, group="g-env").id
    with pytest.raises(NotPermitted, match="不能登记事项 \\d+ 的代表活动"):
        service.add_activity(s, "huang.bo", item, kind="视察", day="2026-01-05", deputies=["feng.xia"], now=T0)
    with pytest.raises(InvalidInput, match="“huang.bo”不是代表"):
        service.add_activity(s, "zhao.hua", item, kind="视察", day="2026-01-05", deputies=["huang.bo"], now=T0)
    with pytest.raises(InvalidInput, match="活动类别“参观”应是"):
        service.add_activity(s, "zhao.hua", item, kind="参观", day="2026-01-05", deputies=["feng.xia"], now=T0)
    a = service.add_activity(s, "wang.fang", item, kind="座谈", day="2026-01-05", deputies=["feng.xia", "qin.lei"], now=T0)
    assert a.deputies == ["冯霞", "秦磊"]
    assert service.history(s, service.OPERATOR, item)[-1].kind == "activity_added"
    # recorded afterwards: one dated ahead (eight months, or tomorrow) is refused, and 列席 is a kind (代表法 Art.33)
    for ahead in ("2026-09-05", "2026-01-06"):
        with pytest.raises(InvalidInput, match=f"活动日期 {ahead} 晚于今天（2026-01-05）"):
            service.add_activity(s, "wang.fang", item, kind="视察", day=ahead, deputies=["feng.xia"], now=T0)
    assert service.add_activity(s, "wang.fang", item, kind="列席", day="2026-01-04", deputies=["feng.xia"], now=T0).kind == "列席"


def test_nobody_scores_his_own_unit(ready):
    """Issue 30: a 组长's leader scored his own group 100 on 比创新 and it was accepted. The refusal is audited."""
    s = ready
    with pytest.raises(NotPermitted, match="是第一专项监督小组（生态环境保护）的成员，不能为本单位评分"):
        service.set_score(s, "zhou.qiang", "g-env", 100, T0)  # 周强, a 分管副主任 (an evaluator) in g-env
    with s.read() as tx:
        assert tx.execute(select(AuditEvent.kind).where(AuditEvent.actor == "zhou.qiang")).scalars().all() == ["refused"]
    assert service.set_score(s, "zhou.qiang", "g-edu", 80, T0).score == 80  # another group: fine


def test_each_evaluator_scores_a_unit_once_a_year_and_only_evaluators_score(ready):
    s = ready
    service.set_score(s, "li.ming", "g-env", 88, T0)
    with pytest.raises(InvalidInput, match="已为第一专项监督小组（生态环境保护）评过 2026 年的分"):
        service.set_score(s, "li.ming", "g-env", 95, T0)
    with pytest.raises(NotPermitted, match="不是“251”的评分人"):
        service.set_score(s, "huang.bo", "g-env", 100, T0)
    with pytest.raises(InvalidInput, match="“d-env”不是评比方案「"):
        service.set_score(s, "li.ming", "d-env", 80, T0)
    with pytest.raises(InvalidInput, match="评分应是 0 到 100 之间的整数"):
        service.set_score(s, "li.ming", "g-edu", 101, T0)
    service.set_score(s, "zheng.yu", "g-env", 80, T0)  # another evaluator: his own score
    assert next(r for r in service.board(s, "2026-01-31").rows if r.unit == "g-env").innovation == 84.0


# --- the digest: once per period ---------------------------------------------------------------------

def test_the_digest_is_queued_once_per_week(ready):
    s = ready
    january(s)
    first = service.send_digest(s, at("2026-02-02 09:00"))  # a Monday
    assert first.sent and first.period == "2026-W06" and first.messages == 1
    again = service.send_digest(s, at("2026-02-04 09:00"))
    assert not again.sent and again.reason == "sent already"
    assert service.send_digest(s, at("2026-02-09 09:00")).period == "2026-W07"
    with s.read() as tx:
        rows = tx.execute(select(Outbox.message_id, Outbox.context).where(Outbox.notice == "digest")
                          .order_by(Outbox.id)).all()
        assert tx.execute(select(func.count()).select_from(AuditEvent.__table__)
                          .where(AuditEvent.kind == "digest_queued")).scalar() == 2
    assert [r.message_id.split("@")[0] for r in rows] == ["<wuzhuan.digest.251.2026-W06", "<wuzhuan.digest.251.2026-W07"]
    ctx = rows[0].context["digest"]
    assert ctx["rows"][0]["unit"] == "第一专项监督小组（生态环境保护）" and [r["id"] for r in ctx["red"]] != []
    service.deliver_with(s, at("2026-02-09 09:05"))
    messages = service.list_outbox(s, "sent", 100)
    digest = next(m for m in messages if m.notice == "digest")
    assert digest.subject.startswith("【通报】“251”工作") and "李明" in digest.to


# --- files: the board, the 台账, the results report ---------------------------------------------------

def test_the_ledger_reopens_with_its_columns_and_values(ready, tmp_path):
    ids = january(ready)
    ledger = service.ledger(ready, at("2026-01-31 12:00"), year=2026)
    path = tmp_path / "ledger.xlsx"
    ledger_render.ledger_xlsx(ledger, path)
    wb = load_workbook(path)
    ws = wb["台账"]
    header = [c.value for c in ws[1]]
    assert header[:7] == ["编号", "事项", "小组", "当前环节", "亮灯", "承办人", "立项时间"]
    assert "选题立项·进入" in header and "选题立项·逾期工作日" in header and "监督议题" in header
    assert ws.freeze_panes == "C2" and ws.auto_filter.ref.startswith("A1:")
    by_id = {r[0].value: [c.value for c in r] for r in ws.iter_rows(min_row=2)}
    budget = by_id[ids["g-budget"]]
    late = header.index("选题立项·逾期工作日")
    assert budget[4] == "红" and budget[late] == 4 and by_id[ids["g-edu"]][late] == 2 and by_id[ids["g-env"]][late] == 0
    assert budget[header.index("选题立项·时限")] == "2026-01-26 24:00" and budget[5] == "王芳"
    out = io.StringIO()
    ledger_render.ledger_csv(ledger, out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == header and len(rows) == 4
    out = io.StringIO()
    ledger_render.ledger_json(ledger, out)
    doc = json.loads(out.getvalue())
    edu = next(r for r in doc["rows"] if r["id"] == ids["g-edu"])
    assert doc["rows"][0]["id"] == ids["g-env"] and edu["light"] == "绿" and edu["fields"]["topic"] == "专题"
    assert edu["steps"]["topic_selection"] == {"rounds": 1, "entered": "2026-01-05 09:00", "due": "2026-01-26 24:00",
                                               "finished": "2026-01-28 10:00", "light": "", "late": 2}
    assert [s["finished"] for s in edu["steps"].values()] == ["2026-01-28 10:00", ""]  # the next step is open


def test_the_ledger_shows_the_latest_visit_and_its_rounds_the_same_in_csv_xlsx_and_json(ready, tmp_path):
    """A state visited twice shows its second visit and rounds 2; the CSV (whose visits go into the line as text)
    holds the same cells as the xlsx, number for number, and the JSON the same visits."""
    s = ready
    january(s)
    item = service.create_item(s, ADMIN, template="special_supervision", title="两轮", now=T0, group="g-env").id
    to_vote(s, item)
    service.advance(s, "chen.jing", item, "record_vote", at("2026-03-01 10:00"), fields=UNSATISFIED, comment="不满意")
    service.advance(s, "huang.bo", item, "finish_rectification", at("2026-03-02 10:00"))
    service.advance(s, "huang.bo", item, "submit_rectification_report", at("2026-03-03 10:00"), fields={"rectification_report": "报告"}, files=chain_files("submit_rectification_report"))
    service.advance(s, "li.ming", item, "refer_to_committee", at("2026-03-06 10:00"))
    ledger = service.ledger(s, at("2026-03-06 12:00"), year=2026)
    out = io.StringIO()
    ledger_render.ledger_csv(ledger, out)
    header, *lines = list(csv.reader(io.StringIO(out.getvalue())))
    path = tmp_path / "ledger.xlsx"
    ledger_render.ledger_xlsx(ledger, path)
    sheet = [[("" if v is None else str(v)) for v in (c.value for c in r)] for r in load_workbook(path)["台账"].iter_rows()]
    assert [header, *lines] == sheet and len(lines) == 4
    row = next(r for r in lines if r[0] == str(item))
    vote = {part: row[header.index(f"满意度测评·{part}")] for part in ("进入", "办结", "灯", "轮次")}
    assert vote == {"进入": "2026-03-06 10:00", "办结": "", "灯": "绿", "轮次": "2"}
    assert row[header.index("整改落实·轮次")] == "2" and row[header.index("整改落实·办结")] == "2026-03-02 10:00"
    out = io.StringIO()
    ledger_render.ledger_json(ledger, out)
    steps = next(r for r in json.loads(out.getvalue())["rows"] if r["id"] == item)["steps"]
    assert steps["satisfaction_vote"]["rounds"] == 2 and steps["satisfaction_vote"]["entered"] == "2026-03-06 10:00"
    assert steps["rectification"]["rounds"] == 2 and steps["topic_selection"]["rounds"] == 1


def test_the_ledger_shows_times_as_everywhere_else_midnight_as_24_00(ready):
    """The database formats the 台账's times; they read as workflow.present.fmt reads them (a move at 00:00:00.004
    is at 24:00 of the day before, as on the item page)."""
    from datetime import timedelta

    from workflow.present import fmt

    item = service.create_item(ready, ADMIN, template="special_supervision", title="午夜", now=T0, group="g-env").id
    moved = at("2026-01-07 00:00") + timedelta(milliseconds=4)
    service.advance(ready, ADMIN, item, "propose", moved, fields=PROPOSE)
    row = service.ledger(ready, at("2026-01-08 12:00"), year=2026).rows[0]
    out = io.StringIO()
    ledger_render.ledger_json(service.ledger(ready, at("2026-01-08 12:00"), year=2026), out)
    step = json.loads(out.getvalue())["rows"][0]["steps"]["topic_selection"]
    assert step["finished"] == fmt(moved) == "2026-01-06 24:00" and step["entered"] == fmt(T0) == row["created"]


def test_the_ledger_cuts_seconds_as_everywhere_else(ready):
    """A time in the last instant of a minute reads as that minute, not the next, and one just before midnight as
    23:59 (SQLite's datetime() rounds fractions of a second to the millisecond: 23:59:59.9999 became 24:00)."""
    from datetime import timedelta

    from workflow.present import fmt

    item = service.create_item(ready, ADMIN, template="special_supervision", title="秒", now=T0, group="g-env").id
    proposed = at("2026-01-06 23:59") + timedelta(seconds=59, microseconds=999_900)
    service.advance(ready, ADMIN, item, "propose", proposed, fields=PROPOSE)
    out = io.StringIO()
    ledger_render.ledger_csv(service.ledger(ready, at("2026-01-08 12:00"), year=2026), out)
    header, row = list(csv.reader(io.StringIO(out.getvalue())))
    assert row[header.index("选题立项·办结")] == fmt(proposed) == "2026-01-06 23:59"


def test_the_results_report_as_html_and_pdf(ready, tmp_path):
    january(ready)
    r = service.results(ready, 2026, at("2026-01-31 12:00"))
    html = report_render.results_html(r)
    assert html.count("<svg") >= 3 and "专项监督 g-budget" in html and "冯霞" in html
    pdf = tmp_path / "results.pdf"
    report_render.results_pdf(r, pdf)
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages).replace("\n", "")
    for words in ("2026年度专项监督工作成果报告", "比进度", "专项监督 g-env", "专项监督 g-budget", "代表参与", "冯霞", "东城区人大常委会",
                  "98.2", "蓝牌"):
        assert words in text, words
    assert r.by_deputy == [("feng.xia", "冯霞", "东城区人大常委会", 1), ("zhu.hong", "朱红", "东城区人大常委会", 1)]
    assert r.by_district == [("东城区人大常委会", 2)] and r.by_kind == {"视察": 1}


def test_without_what_weasyprint_needs_the_pdf_is_refused_in_one_line(ready_sqlite, tmp_path, monkeypatch):
    r = service.results(ready_sqlite, 2026, at("2026-01-31 12:00"))
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as on a machine without Pango: the import fails
    with pytest.raises(InvalidInput, match="the PDF report needs the Pango library .*the HTML format works without it"):
        report_render.results_pdf(r, tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_the_board_xlsx_reopens_with_ranks_and_colours(ready, tmp_path):
    january(ready)
    b = service.board(ready, "2026-01-31", "2026-01-15")
    path = tmp_path / "board.xlsx"
    report_render.board_xlsx(b, path)
    ws = load_workbook(path)["排名"]
    assert ws["A2"].value == "名次" and ws["D3"].value == "第一专项监督小组（生态环境保护）" and ws["E3"].value == 98.2
    assert ws["F3"].value == "蓝牌" and ws["F3"].fill.fgColor.rgb.endswith("BDD7EE")


# --- the shells -----------------------------------------------------------------------------------------

def test_report_commands(ready, tmp_path):
    january(ready)
    url = ready.engine.url.render_as_string(hide_password=False)

    def run(*args):
        return CliRunner().invoke(cli, ["--db", url, *map(str, args)])
    r = run("report", "board", "--as-of", "2026-01-31", "--previous", "2026-01-15")
    assert r.exit_code == 0 and "第一专项监督小组（生态环境保护）" in r.output and "98.2" in r.output and "↓1" in r.output
    data = json.loads(run("report", "board", "--as-of", "2026-01-31", "--format", "json").output)
    assert [row["unit"] for row in data["rows"]][:3] == ["g-env", "g-edu", "g-budget"]
    r = run("report", "board", "--as-of", "2026-01-31", "--format", "xlsx")
    assert r.exit_code == 2 and "give --output FILE" in r.output
    assert run("report", "board", "--as-of", "2026-13-01").exit_code == 2
    assert run("report", "board", "--as-of", "2026-01-31", "--previous", "2026-02-01").exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: x\ntitle: t\nunits: group\ntemplates: [special_supervision]\nweights: {speed: 10}\n", encoding="utf-8")
    r = run("report", "board", "--as-of", "2026-01-31", "--scorecard", bad)
    assert r.exit_code == 2 and "bad.yaml:5" in r.output and "unknown key 'speed'" in r.output
    assert run("report", "ledger", "--format", "xlsx", "--output", tmp_path / "l.xlsx").exit_code == 0
    assert run("report", "results", "--year", 2026, "--format", "html", "--output", tmp_path / "r.html").exit_code == 0
    assert "<svg" in (tmp_path / "r.html").read_text("utf-8")
    assert run("report", "ledger", "--format", "csv", "--output", tmp_path / "nowhere" / "l.csv").exit_code == 2
    for target in (tmp_path, "/dev/null"):  # a folder or a device is never replaced by a report
        r = run("report", "board", "--as-of", "2026-01-31", "--format", "xlsx", "--output", target)
        assert r.exit_code == 2 and "is not a regular file" in r.output
    assert Path("/dev/null").is_char_device() and not list(tmp_path.glob(".wuzhuan-*"))
    r = run("scores", "set", "g-edu", "--score", 75, "--actor", "li.ming", "--now", "2026-01-30T10:00")
    assert r.exit_code == 0 and "创新评分 75" in r.output
    assert run("scores", "set", "g-edu", "--score", 76, "--actor", "li.ming", "--now", "2026-01-30T10:00").exit_code == 2
    assert run("scores", "set", "g-edu", "--score", 76, "--actor", "huang.bo", "--now", "2026-01-30T10:00").exit_code == 3
    r = run("items", "activity", "add", 1, "--kind", "调研", "--date", "2026-01-20", "--deputies", "yao.jie、qin.lei",
            "--actor", "wang.fang", "--now", "2026-01-20T18:00")
    assert r.exit_code == 0 and "姚杰、秦磊" in r.output
    r = run("report", "digest", "--now", "2026-02-02T09:00")
    assert r.exit_code == 0 and "2026-W06" in r.output and "已排队 1 封通报" in r.output
    assert "未发送（sent already）" in run("report", "digest", "--now", "2026-02-03T09:00").output


def test_board_and_ledger_on_the_workbench(ready):
    january(ready)
    passwords(ready)
    app = create_app(ready, Clock(at("2026-01-31 12:00")))

    def client():
        return TestClient(app, base_url="http://testserver")
    council = signed_in(client, "li.ming")
    page = council.get("/board?as_of=2026-01-31&previous=2026-01-15")
    assert page.status_code == 200 and "第一专项监督小组（生态环境保护）" in page.text and "98.2" in page.text
    assert "创新评分（2026年）" in page.text  # the council is an evaluator: the form
    x = council.get("/ledger.xlsx?year=2026")
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(x.content))["台账"]["A1"].value == "编号"
    department = signed_in(client, "huang.bo")
    assert department.get("/board").status_code == 403 and department.get("/ledger.xlsx").status_code == 403
    # the tab to the board on every page is the session's: staff see it, a department does not
    assert '<a href="/board"' in council.get("/").text and '<a href="/board"' in council.get("/done").text
    assert '<a href="/board"' not in department.get("/").text and '<a href="/board"' not in department.get("/definitions").text
    assert council.get("/board?as_of=2026-02-30").status_code == 400
    html = council.get("/board").text
    csrf = html.split('name="csrf" value="')[1].split('"')[0]
    r = council.post("/board/scores", data={"csrf": csrf, "unit": "g-edu", "score": "77", "comment": "好"})
    assert r.status_code == 200 and "已记录：第三专项监督小组（义务教育均衡发展） 2026年创新评分 77" in r.text
    r = council.post("/board/scores", data={"csrf": csrf, "unit": "g-edu", "score": "78"})
    assert r.status_code == 400 and "评过 2026 年的分" in r.text
    assert council.post("/board/scores", data={"unit": "g-edu", "score": "78"}).status_code == 403  # no CSRF token


# --- the scorecard itself ------------------------------------------------------------------------------

def test_the_built_in_scorecard_and_located_problems(tmp_path):
    card = scorecard.load()
    assert card.key == "251" and card.units == "group" and sum(card.weights.values()) == 100
    assert card.plan_state(date(2026, 3, 30)) is None and card.plan_state(date(2026, 3, 31)) == "work_plan"
    assert card.colour(85) == "blue" and card.colour(84.9) == "yellow" and card.colour(59.9) == "red"
    text = scorecard.builtin_path().read_text("utf-8")
    with pytest.raises(DefinitionError) as e:
        scorecard.load_text(text.replace('{by: "06-30", state: report_review}', '{by: "02-30", state: report_review}'), "s.yaml")
    assert any("'02-30' is not a day of the year" in str(p) and str(p).startswith("s.yaml:") for p in e.value.problems)
    with pytest.raises(DefinitionError, match="red \\(90\\) is above blue \\(85\\)"):
        scorecard.load_text(text.replace("lights: {blue: 85, red: 60}", "lights: {blue: 85, red: 90}"), "s.yaml")
    p = tmp_path / "empty.yaml"
    p.write_bytes(b"\x00\x01")
    with pytest.raises(DefinitionError, match="NUL"):
        scorecard.load(p)
