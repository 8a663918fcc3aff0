"""Issue 29 §2, 我献策: a deputy submits a proposal with co-signers who confirm; the office of his 人大 screens it —
转为代表建议 starts a deputy_suggestion item the deputies hold, 作为监督议题建议 an item at 选题立项; who may read
and act, on the command line, the workbench and the API, on both databases."""

from __future__ import annotations

import html
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from test_web import post, signed_in, web  # noqa: F401  (the fixture)

from cli import cli
from workflow import service
from workflow.errors import Conflict, InvalidInput, NotFound, NotPermitted
from workflow.service import accounts, proposals


def kinds(store) -> list[str]:
    with store.read() as tx:
        return [k for (k,) in tx.execute(text("SELECT kind FROM audit_events WHERE kind LIKE 'proposal_%' ORDER BY seq"))]


def test_a_proposal_is_submitted_cosigned_and_turned_into_a_deputy_suggestion(web):  # noqa: F811  (the fixture)
    store, clock, _client, _items = web
    p = proposals.submit(store, "feng.xia", " 关于增设公共充电桩的建议 ", "建议在城区增设充电桩。", clock.t,
                         cosigners=["zhu.hong"])
    assert (p.title, p.status_label, p.author) == ("关于增设公共充电桩的建议", "待审查", "feng.xia")
    assert [(c.code, c.confirmed) for c in p.cosigners] == [("zhu.hong", False)]
    with pytest.raises(NotFound):
        proposals.show_proposal(store, "huang.bo", p.id)  # a department clerk reads nothing of it
    assert proposals.cosign(store, "zhu.hong", p.id, clock.t).cosigners[0].confirmed
    with pytest.raises(Conflict, match="已确认联名"):
        proposals.cosign(store, "zhu.hong", p.id, clock.t)
    with pytest.raises(NotPermitted, match="由所提交人大的常委会办公室审查"):
        proposals.screen(store, "li.ming", p.id, "accept", clock.t)  # the council reads it, the office screens
    done = proposals.screen(store, "wang.fang", p.id, "to_suggestion", clock.t)
    assert done.status == "to_suggestion" and done.item
    item = service.show_item(store, "feng.xia", done.item, clock.t)  # the deputies hold the item and follow it
    assert item.template == "deputy_suggestion" and item.title == "关于增设公共充电桩的建议"
    assert {p_.split(" (")[1][:-1] for r in item.roles if r.role == "deputy" for p_ in r.people} == {"feng.xia", "zhu.hong"}
    with pytest.raises(Conflict, match="已审查"):
        proposals.screen(store, "wang.fang", p.id, "accept", clock.t)
    assert kinds(store) == ["proposal_submitted", "proposal_cosigned", "proposal_screened"]
    assert service.verify_audit(store).ok


def test_a_topic_suggestion_starts_an_item_at_topic_selection_and_a_rejection_needs_a_reason(web):  # noqa: F811
    store, clock, _client, _items = web
    p = proposals.submit(store, "feng.xia", "养老机构监管", "建议开展专项监督。", clock.t)
    with pytest.raises(InvalidInput, match="不予采纳时请写明理由"):
        proposals.screen(store, "wang.fang", p.id, "reject", clock.t)
    item = proposals.screen(store, "wang.fang", p.id, "to_topic", clock.t).item
    shown = service.show_item(store, "wang.fang", item, clock.t)
    assert shown.state == "topic_selection" and shown.fields["source"] == "代表建议"  # 监督法 Art.12
    q = proposals.submit(store, "feng.xia", "不成熟的想法", "……", clock.t)
    assert proposals.screen(store, "wang.fang", q.id, "reject", clock.t, reason="已有相关工作安排").reason == "已有相关工作安排"
    with pytest.raises(InvalidInput, match="列入哪一次建言献策会"):
        proposals.screen(store, "wang.fang", proposals.submit(store, "feng.xia", "建言", "……", clock.t).id,
                         "to_advisory_meeting", clock.t)


def test_only_deputies_propose_and_cosign(web):  # noqa: F811  (the fixture)
    store, clock, _client, _items = web
    with pytest.raises(NotPermitted, match="不是人大代表"):
        proposals.submit(store, "huang.bo", "x", "y", clock.t)
    with pytest.raises(InvalidInput, match="不是人大代表，不能联名"):
        proposals.submit(store, "feng.xia", "x", "y", clock.t, cosigners=["huang.bo"])
    with pytest.raises(InvalidInput, match="不包括您自己"):
        proposals.submit(store, "feng.xia", "x", "y", clock.t, cosigners=["feng.xia"])
    with pytest.raises(InvalidInput, match="请填写建议标题"):
        proposals.submit(store, "feng.xia", "  ", "y", clock.t)
    p = proposals.submit(store, "feng.xia", "x", "y", clock.t)
    with pytest.raises(NotFound):  # zhu.hong was not asked: for her it is not there
        proposals.cosign(store, "zhu.hong", p.id, clock.t)
    assert [x.id for x in proposals.list_proposals(store, "wang.fang")] == [p.id]  # the office's list
    assert proposals.list_proposals(store, "zhu.hong") == []


def test_the_workbench_and_the_api_submit_and_screen(web):  # noqa: F811  (the fixture)
    store, clock, client, _items = web
    c = signed_in(client, "feng.xia")
    assert "提出建议" in c.get("/proposals").text
    r = post(c, "/proposals/new", "/proposals/new", {"title": "", "text": "内容", "cosigners": "zhu.hong"})
    assert r.status_code == 400 and "请填写建议标题" in html.unescape(r.text) and "zhu.hong" in r.text  # kept
    r = post(c, "/proposals/new", "/proposals/new", {"title": "公共充电桩", "text": "建议增设。", "cosigners": "zhu.hong"})
    assert r.status_code == 303 and r.headers["location"].endswith("?ok=submitted")
    page = c.get(r.headers["location"]).text
    assert "公共充电桩" in page and "待确认" in page and "已提交" in page
    pid = int(r.headers["location"].split("/proposals/")[1].split("?")[0])
    z = signed_in(client, "zhu.hong")
    assert "确认联名" in z.get(f"/proposals/{pid}").text
    assert post(z, f"/proposals/{pid}", f"/proposals/{pid}/cosign", {}).status_code == 303
    wf = signed_in(client, "wang.fang")
    assert "提交审查结果" in wf.get(f"/proposals/{pid}").text and "提交审查结果" not in c.get(f"/proposals/{pid}").text
    r = post(wf, f"/proposals/{pid}", f"/proposals/{pid}/screen", {"decision": "reject", "reason": "", "confirm": "on"})
    assert r.status_code == 400 and "不予采纳时请写明理由" in html.unescape(r.text)
    r = post(wf, f"/proposals/{pid}", f"/proposals/{pid}/screen", {"decision": "accept", "confirm": "on"})
    assert r.status_code == 303 and "已采纳" in c.get(f"/proposals/{pid}").text
    assert signed_in(client, "huang.bo").get(f"/proposals/{pid}").status_code == 404
    token = accounts.issue_token(store, "feng.xia", clock.t).token
    api = client().post("/api/proposals", json={"title": "接口提交", "text": "内容", "cosigners": []},
                        headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.json()["status"] == "submitted"
    mine = client().get("/api/proposals?mine=1", headers={"Authorization": f"Bearer {token}"}).json()
    assert [m["title"] for m in mine] == ["接口提交", "公共充电桩"]
    bad = client().post("/api/proposals", json={"title": 1}, headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400


def test_the_command_line_submits_cosigns_lists_and_screens(ready_sqlite, tmp_path):
    store = ready_sqlite
    url = store.engine.url.render_as_string(hide_password=False)
    body = tmp_path / "text.txt"
    body.write_text("建议在城区增设公共充电桩。\n", encoding="utf-8")
    run = lambda *a: CliRunner().invoke(cli, ["--db", url, *a], obj={}, env={"WUZHUAN_CLOCK_SIMULATION": "1"})  # noqa: E731
    r = run("proposals", "submit", "--title", "公共充电桩", "--text-file", str(body), "--cosigner", "zhu.hong",
            "--actor", "feng.xia", "--json")
    assert r.exit_code == 0, r.output
    pid = json.loads(r.output)["id"]
    assert run("proposals", "cosign", str(pid), "--actor", "zhu.hong").exit_code == 0
    r = run("proposals", "list", "--actor", "wang.fang")
    assert r.exit_code == 0 and "公共充电桩" in r.output and "朱红" in r.output
    r = run("proposals", "screen", str(pid), "--decision", "to_suggestion", "--actor", "wang.fang")
    assert r.exit_code == 0 and "已转为代表建议" in r.output
    r = run("proposals", "screen", str(pid), "--decision", "accept", "--actor", "wang.fang")
    assert r.exit_code == 4 and "已审查" in r.output
    r = run("proposals", "submit", "--title", "x", "--text-file", str(body), "--actor", "huang.bo")
    assert r.exit_code == 3 and "不是人大代表" in r.output
