"""Issue 29 §2, 我监督 on the workbench: the office announces, a deputy signs up on his phone's page, the organiser
confirms attendance once the day has come; each form refused or stale keeps its status and says why."""

from __future__ import annotations

import html
from datetime import timedelta

from test_web import post, signed_in, web  # noqa: F401  (the fixture)

from workflow.service import supervise


def test_announce_sign_up_and_confirm_in_the_browser(web):  # noqa: F811  (the fixture)
    store, clock, client, (a, _b) = web
    wf = signed_in(client, "wang.fang")
    assert "发布活动" in wf.get("/activities").text
    r = post(wf, "/activities/new", "/activities/new", {"kind": "参观", "date": "2026-01-09"})
    assert r.status_code == 400 and "活动类别“参观”应是" in html.unescape(r.text)
    r = post(wf, "/activities/new", "/activities/new", {"kind": "视察", "date": "2026-01-09", "place": "城东污水处理厂",
                                                       "item": str(a)})
    assert r.status_code == 303
    [ann] = supervise.list_announcements(store, "wang.fang")
    fx = signed_in(client, "feng.xia")
    page = fx.get(f"/activities/{ann.id}").text
    assert "报名参加" in page and "确认签到" not in page
    assert post(fx, f"/activities/{ann.id}", f"/activities/{ann.id}/signup", {}).status_code == 303
    assert "已报名" in fx.get("/activities").text
    r = post(fx, f"/activities/{ann.id}", f"/activities/{ann.id}/signup", {})
    assert r.status_code == 409 and "您已报名" in html.unescape(r.text)
    assert "确认签到" not in wf.get(f"/activities/{ann.id}").text  # before its day: nobody confirms
    clock.t = clock.t + timedelta(days=2, hours=9)  # 2026-01-09 18:00 (sessions have ended meanwhile: log in again)
    wf, fx = signed_in(client, "wang.fang"), signed_in(client, "feng.xia")
    r = post(wf, f"/activities/{ann.id}", f"/activities/{ann.id}/confirm", {"deputy": "feng.xia", "others": "qin.lei"})
    assert r.status_code == 303
    page = fx.get(f"/activities/{ann.id}").text
    assert "已签到" in page and "签到已于" in page
    assert signed_in(client, "huang.bo").get("/activities/999").status_code == 404


def test_the_api_announces_lists_and_signs_up(web):  # noqa: F811  (the fixture)
    from workflow.service import accounts

    store, clock, client, (a, _b) = web
    office = accounts.issue_token(store, "wang.fang", clock.t).token
    deputy = accounts.issue_token(store, "feng.xia", clock.t).token
    call = lambda method, path, token, **kw: client().request(  # noqa: E731
        method, path, headers={"Authorization": f"Bearer {token}"}, **kw)
    r = call("POST", "/api/activities", office, json={"kind": "调研", "date": "2026-01-12", "item": a})
    assert r.status_code == 200 and r.json()["kind"] == "调研"
    aid = r.json()["id"]
    assert call("POST", "/api/activities", office, json={"kind": "调研"}).status_code == 400
    assert call("POST", "/api/activities", deputy, json={"kind": "调研", "date": "2026-01-12"}).status_code == 403
    r = call("POST", f"/api/activities/{aid}/signup", deputy)
    assert r.status_code == 200 and r.json()["signed_up"] is True
    assert call("POST", f"/api/activities/{aid}/signup", deputy).status_code == 409
    assert [x["id"] for x in call("GET", "/api/activities", deputy).json()] == [aid]
