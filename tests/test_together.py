"""Issue 28 §6: an item's comment thread (沟通) and 催办 — audited, through the outbox, on the CLI, the workbench
and the API, by the rules of who may."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient
from test_web import post, signed_in, web  # noqa: F401  (the fixture)

from conftest import at
from notifier.render import render
from workflow import notice_data, service
from workflow.errors import Conflict, InvalidInput, NotFound, NotPermitted
from workflow.service import accounts


def queued(store, notice: str) -> list[tuple[str, dict]]:
    """(address, the notice's data) of each queued row of that notice."""
    with store.read() as tx:
        rows = tx.execute(text("SELECT to_addr, context FROM outbox WHERE notice = :n ORDER BY id"), {"n": notice}).all()
    return [(addr, notice_data.full(ctx if isinstance(ctx, dict) else json.loads(ctx))) for addr, ctx in rows]


def kinds(store, item: int, kind: str) -> list:
    return [e for e in service.history(store, service.OPERATOR, item) if e.kind == kind]


def test_a_comment_joins_the_thread_is_audited_and_tells_the_steps_owners(web):  # noqa: F811  (the fixture)
    store, clock, _client, (a, _b) = web
    done = service.comment(store, "huang.bo", a, "  调研时间能否提前到三月？\n请回复。 ", clock.t)
    assert done.notified == ["李明", "郑宇"]  # the 主任会议 owns 列入年度监督工作计划
    [e] = kinds(store, a, "commented")
    assert e.actor == "huang.bo" and e.data["text"] == "调研时间能否提前到三月？\n请回复。" and e.kind_label == "留言"
    sent = queued(store, "comment")
    assert [sorted(r["name"] for r in ctx["to"]) for _a, ctx in sent] == [["李明", "郑宇"]]  # one e-mail to both
    mail = render("comment", sent[0][1])
    assert "黄波" in mail.subject and "调研时间能否提前到三月？" in mail.text
    page = service.reads.item_page(store, "zhao.hua", a, clock.t)
    assert [c.data["text"] for c in page.comments] == ["调研时间能否提前到三月？\n请回复。"] and page.may_comment
    assert service.verify_audit(store).ok  # the comment is a link of the chain


def test_a_comment_is_refused_when_empty_too_long_or_by_someone_without_a_role(web):  # noqa: F811  (the fixture)
    store, clock, _client, (a, _b) = web
    for bad, says in (("   ", "留言不能为空"), ("长" * 2001, "留言有 2001 个字，最多 2000 个"), ("a\x00b", "控制字符")):
        with pytest.raises(InvalidInput, match=says):
            service.comment(store, "huang.bo", a, bad, clock.t)
    with pytest.raises(NotFound):  # 许娜's department holds no role on item a: she cannot see it
        service.comment(store, "xu.na", a, "你好", clock.t)
    assert kinds(store, a, "commented") == [] and queued(store, "comment") == []


def test_remind_sends_the_owners_a_notice_once_a_day_and_only_from_the_office_or_group(web):  # noqa: F811  (the fixture)
    store, clock, _client, (a, _b) = web
    with pytest.raises(NotPermitted, match="不能催办"):
        service.remind(store, "huang.bo", a, clock.t)  # a department does not 催办
    done = service.remind(store, "wang.fang", a, clock.t)
    assert done.step == "列入年度监督工作计划" and done.to == ["李明", "郑宇"]
    rows = queued(store, "urge")
    assert [sorted(r["name"] for r in ctx["to"]) for _a, ctx in rows] == [["李明", "郑宇"]]
    mail = render("urge", rows[0][1])
    assert "【催办】" in mail.subject and "王芳 催办" in mail.text and "列入年度监督工作计划" in mail.text
    with pytest.raises(Conflict, match="今天（2026-01-07）已催办过"):
        service.remind(store, "wang.fang", a, clock.t + timedelta(hours=3))
    count = len(queued(store, "urge"))
    service.remind(store, "wang.fang", a, clock.t + timedelta(days=1))  # another day: again
    assert len(queued(store, "urge")) == 2 * count and len(kinds(store, a, "reminded")) == 2
    assert kinds(store, a, "reminded")[0].kind_label == "催办"


def test_the_workbench_comments_and_reminds_and_a_second_reminder_keeps_the_page_with_the_reason(web):  # noqa: F811
    store, clock, client, (a, _b) = web
    hb = signed_in(client, "huang.bo")
    r = post(hb, f"/items/{a}", f"/items/{a}/comments", {"text": "请确认方案"})
    assert r.status_code == 303 and r.headers["location"] == f"/items/{a}?ok=commented"
    page = hb.get(f"/items/{a}").text
    assert "沟通（1）" in page and "请确认方案" in page and ">催办</button>" not in page  # a department sees no 催办
    wf = signed_in(client, "wang.fang")
    assert ">催办</button>" in wf.get(f"/items/{a}").text
    assert post(wf, f"/items/{a}", f"/items/{a}/remind", {}).status_code == 303
    again = post(wf, f"/items/{a}", f"/items/{a}/remind", {})
    assert again.status_code == 409 and "已催办过，每天最多催办一次" in again.text
    empty = post(hb, f"/items/{a}", f"/items/{a}/comments", {"text": " "})
    assert empty.status_code == 400 and "留言不能为空" in empty.text


def test_the_api_and_the_cli_comment_and_remind(web, tmp_path):  # noqa: F811  (the fixture)
    store, clock, client, (a, _b) = web
    token = accounts.issue_token(store, "zhao.hua", clock.t).token
    c = TestClient(client().app, base_url="http://testserver", headers={"Authorization": f"Bearer {token}"})
    r = c.post(f"/api/items/{a}/comments", json={"text": "已安排"})
    assert r.status_code == 200 and r.json()["item"] == a
    assert c.post(f"/api/items/{a}/comments", json={"words": "x"}).status_code == 400
    assert c.post(f"/api/items/{a}/remind").status_code == 200
    assert c.post(f"/api/items/{a}/remind").status_code == 409
    assert at("2026-01-07 09:00") == clock.t


def test_the_cli_comments_and_reminds_with_exit_codes(web, monkeypatch):  # noqa: F811  (the fixture)
    from click.testing import CliRunner

    from cli import cli
    store, clock, _client, (a, _b) = web
    monkeypatch.setenv("WUZHUAN_CLOCK_SIMULATION", "true")
    url = store.engine.url.render_as_string(hide_password=False)

    def run(*args):
        return CliRunner().invoke(cli, ["--db", url, *args, "--now", "2026-01-07T10:00"], catch_exceptions=False)
    r = run("items", "comment", str(a), "--text", "方案已收到", "--actor", "huang.bo")
    assert r.exit_code == 0 and "已留言，已通知李明、郑宇" in r.output
    r = run("items", "remind", str(a), "--actor", "huang.bo")
    assert r.exit_code == 3 and "不能催办" in r.stderr
    r = run("items", "remind", str(a), "--actor", "wang.fang", "--json")
    assert r.exit_code == 0 and json.loads(r.output)["to"] == ["李明", "郑宇"]
    r = run("items", "remind", str(a), "--actor", "wang.fang")
    assert r.exit_code == 4 and "已催办过" in r.stderr
    r = run("items", "comment", str(a), "--text", "", "--actor", "huang.bo")
    assert r.exit_code == 2 and "留言不能为空" in r.stderr


def test_the_steps_owner_acknowledges_once_and_returns_a_misassigned_item_to_the_office(web):  # noqa: F811
    store, clock, client, (a, _b) = web
    with pytest.raises(NotPermitted, match="不能签收"):
        service.acknowledge(store, "huang.bo", a, clock.t)  # 列入年度监督工作计划 is the 主任会议's
    done = service.acknowledge(store, "li.ming", a, clock.t)
    assert done.step == "列入年度监督工作计划" and done.by == "李明"
    with pytest.raises(Conflict, match="已签收"):
        service.acknowledge(store, "zheng.yu", a, clock.t)
    assert service.reads.item_page(store, "li.ming", a, clock.t).acknowledged
    with pytest.raises(InvalidInput, match="请说明退回理由"):
        service.return_item(store, "li.ming", a, "  ", clock.t)
    back = service.return_item(store, "li.ming", a, "本事项应由工委先行审核", clock.t)
    assert back.notified == ["王芳"]
    [(_addr, ctx)] = queued(store, "returned")
    mail = render("returned", ctx)
    assert "【退回】" in mail.subject and "退回理由：本事项应由工委先行审核" in mail.text and ctx["to"][0]["name"] == "王芳"
    assert [e.kind_label for e in service.history(store, service.OPERATOR, a)][-2:] == ["签收", "退回"]
    ml = signed_in(client, "li.ming")
    page = ml.get(f"/items/{a}").text
    assert "本环节已签收" in page and "退回办公室" in page and ">签收</button>" not in page
    assert ">签收</button>" not in signed_in(client, "huang.bo").get(f"/items/{a}").text


def test_the_workbench_and_cli_acknowledge_and_return(web, monkeypatch):  # noqa: F811  (the fixture)
    from click.testing import CliRunner

    from cli import cli
    store, clock, client, (a, _b) = web
    zy = signed_in(client, "zheng.yu")
    assert ">签收</button>" in zy.get(f"/items/{a}").text
    r = post(zy, f"/items/{a}", f"/items/{a}/acknowledge", {})
    assert r.status_code == 303 and r.headers["location"] == f"/items/{a}?ok=acknowledged"
    again = post(zy, f"/items/{a}", f"/items/{a}/return", {"reason": ""})
    assert again.status_code == 400 and "请说明退回理由" in again.text
    monkeypatch.setenv("WUZHUAN_CLOCK_SIMULATION", "true")
    url = store.engine.url.render_as_string(hide_password=False)

    def run(*args):
        return CliRunner().invoke(cli, ["--db", url, *args, "--now", "2026-01-07T10:00"], catch_exceptions=False)
    r = run("items", "acknowledge", str(a), "--actor", "li.ming")
    assert r.exit_code == 4 and "已签收" in r.stderr
    r = run("items", "return", str(a), "--reason", "不属本机关职责", "--actor", "huang.bo")
    assert r.exit_code == 3 and "不能退回" in r.stderr
    r = run("items", "return", str(a), "--reason", "不属本机关职责", "--actor", "li.ming", "--json")
    assert r.exit_code == 0 and json.loads(r.output)["notified"] == ["王芳"]
