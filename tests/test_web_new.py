"""立项 in the browser: /items/new offers what create_item allows, creates with a 303, and keeps a refused form."""

from __future__ import annotations

import html
import re

from sqlalchemy import text
from test_web import field, signed_in, web  # noqa: F401  (the fixture)

from conftest import T0
from workflow import service
from workflow.service import reads
from workflow.store import directory


def count_items(store) -> int:
    with store.read() as tx:
        return tx.execute(text("SELECT count(*) FROM items")).scalar_one()


def test_the_office_creates_an_item_in_the_browser_with_its_first_fields(web):  # noqa: F811  (the fixture)
    store, clock, client, _ = web
    c = signed_in(client, "wang.fang")
    listing = c.get("/items/new")
    assert listing.status_code == 200 and "专项监督（五专全链条）" in listing.text
    assert "承办单位整改" not in listing.text  # a sub-item's template is started by its parent's step, not here
    page = c.get("/items/new?template=special_supervision")
    assert 'name="group"' in page.text and "第一专项监督小组（生态环境保护）" in page.text
    assert "监督议题" in page.text and "（topic）" not in page.text  # labels, never field ids
    before = count_items(store)
    r = c.post("/items/new", data={"csrf": field(page.text, "csrf"), "template": "special_supervision",
                                   "title": "城市内涝治理", "group": "g-env", "field:topic": "内涝", "field:source": "代表建议"},
               follow_redirects=False)
    assert r.status_code == 303
    item_id = int(re.fullmatch(r"/items/(\d+)\?ok=created", r.headers["location"]).group(1))
    assert count_items(store) == before + 1
    shown = service.show_item(store, service.OPERATOR, item_id, clock.t)
    assert shown.title == "城市内涝治理" and shown.group == "g-env"
    # what he gave at 立项 is this round's value of the first step: 提出选题 needs nothing more
    assert service.advance(store, "wang.fang", item_id, "propose", clock.t).to_state
    assert "已立项" in c.get(r.headers["location"]).text


def test_a_refused_form_keeps_what_was_typed_and_says_why_in_chinese(web):  # noqa: F811  (the fixture)
    store, clock, client, _ = web
    c = signed_in(client, "huang.bo")  # a department's clerk: nothing to start
    page = c.get("/items/new")
    assert page.status_code == 200 and "您现在不能新建事项" in page.text
    before = count_items(store)
    r = c.post("/items/new", data={"csrf": field(page.text, "csrf"), "template": "special_supervision",
                                   "title": "越权立项", "group": "g-env"}, follow_redirects=False)
    assert r.status_code == 403 and "不能新建“专项监督（五专全链条）”事项" in html.unescape(r.text)
    assert count_items(store) == before
    office = signed_in(client, "wang.fang")
    form = office.get("/items/new?template=special_supervision").text
    r = office.post("/items/new", data={"csrf": field(form, "csrf"), "template": "special_supervision",
                                        "title": "标题\x07有控制字符", "group": "g-env", "field:topic": "留着"},
                    follow_redirects=False)
    assert r.status_code == 400 and "含有控制字符" in html.unescape(r.text)
    assert ">留着</textarea>" in r.text and 'value="g-env" selected' in r.text  # what he typed comes back
    assert count_items(store) == before


def test_a_group_lead_is_offered_only_what_he_may_start_and_where(web):  # noqa: F811  (the fixture)
    store, _clock, _client, _ = web
    with store.read() as tx:
        zhou = directory.person(tx, "zhou.qiang")
    offers = {o.key: o for o in reads.startable(store, zhou)}
    assert set(offers) == {"joint_supervision"} and offers["joint_supervision"].groups == (("g-rural", "第四专项监督小组（乡村振兴）"),)
    # and what is offered is what create_item allows
    made = service.create_item(store, "zhou.qiang", template="joint_supervision", title="乡村联动", now=T0, group="g-rural")
    assert made.id
