"""Issue 28 §1 and §6: saved filters of the lists, and 最新动态 — what is new for a person since his last look —
each his own, on the workbench, the API and the command line, on both databases."""

from __future__ import annotations

import html
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from test_web import post, signed_in, web  # noqa: F401  (the fixture)

from cli import cli
from workflow import service
from workflow.errors import InvalidInput, NotFound
from workflow.service import accounts, personal


def test_a_saved_filter_is_a_named_link_to_the_list_as_it_was(web):  # noqa: F811  (the fixture)
    store, clock, client, (a, _b) = web
    c = signed_in(client, "wang.fang")
    r = post(c, "/?light=red&group=g-env", "/filters",
             {"page": "inbox", "name": "生态组红灯", "p:light": "red", "p:group": "g-env", "p:offset": "50"})
    assert r.status_code == 303 and r.headers["location"] == "/?group=g-env&light=red&saved=1"  # offset is not kept
    page = c.get("/").text
    assert "我的筛选" in page and 'href="/?group=g-env&amp;light=red"' in page and "生态组红灯" in page
    post(c, "/", "/filters", {"page": "inbox", "name": "生态组红灯", "p:light": "yellow"})
    [f] = personal.saved_filters(store, "wang.fang")  # the same name again replaced it
    assert f.query == "light=yellow" and f.page_label == "待办"
    assert personal.saved_filters(store, "zhao.hua") == []  # his alone
    with pytest.raises(NotFound):
        personal.delete_filter(store, "zhao.hua", f.id)  # another's filter is not there for him
    r = post(c, "/", f"/filters/{f.id}/delete", {"page": "inbox"})
    assert r.status_code == 303 and personal.saved_filters(store, "wang.fang") == []


def test_a_search_is_saved_too_and_a_refused_save_shows_the_list_again_with_the_reason(web):  # noqa: F811
    store, clock, client, _items = web
    c = signed_in(client, "zhao.hua")
    r = post(c, "/search?q=大气", "/filters", {"page": "search", "name": "大气", "p:q": "大气"})
    assert r.status_code == 303 and r.headers["location"].startswith("/search?q=")
    assert "找到 1 个事项" in c.get(r.headers["location"]).text
    r = post(c, "/", "/filters", {"page": "inbox", "name": "空的"})  # nothing chosen: nothing to save
    assert r.status_code == 400 and "当前没有任何筛选条件" in html.unescape(r.text) and 'value="空的"' in r.text
    r = post(c, "/", "/filters", {"page": "inbox", "name": "x\x07", "p:light": "red"})
    assert r.status_code == 400 and "控制字符" in html.unescape(r.text)
    for n in range(personal.MAX_FILTERS - 1):
        personal.save_filter(store, "zhao.hua", f"筛选{n}", "inbox", {"light": "red"}, clock.t)
    with pytest.raises(InvalidInput, match="最多保存 20 个筛选"):
        personal.save_filter(store, "zhao.hua", "第二十一个", "inbox", {"light": "red"}, clock.t)
    personal.save_filter(store, "zhao.hua", "筛选0", "inbox", {"light": "green"}, clock.t)  # replacing one is fine
    with pytest.raises(InvalidInput, match="不是可以保存筛选的列表"):
        personal.save_filter(store, "zhao.hua", "x", "outbox", {"status": "dead"}, clock.t)


def test_whats_new_lists_others_acts_on_his_items_since_his_last_look(web):  # noqa: F811  (the fixture)
    store, clock, client, (a, b) = web
    first = personal.news(store, "zhao.hua", clock.t)  # the group lead of g-env: item a, not g-elderly's b
    assert {e.item for e in first.entries} == {a} and first.since == ""
    assert all(e.actor != "赵华（zhao.hua）" for e in first.entries)
    assert personal.news_count(store, "zhao.hua") == 0  # he has looked: nothing new
    later = clock.t + timedelta(hours=1)
    service.comment(store, "huang.bo", a, "调研时间能否提前？", later)
    service.comment(store, "zhao.hua", a, "可以。", later)  # his own act is not news to him
    service.comment(store, "wang.fang", b, "养老组的留言", later)  # an item he does not see
    assert personal.news_count(store, "zhao.hua") == 1
    c = signed_in(client, "zhao.hua")
    inbox = c.get("/").text
    assert "自您上次查看以来有 1 条" in inbox and 'href="/news"' in inbox
    page = html.unescape(c.get("/news").text)
    assert "调研时间能否提前？" in page and "黄波" in page and "留言" in page and "养老组的留言" not in page
    assert "可以。" not in page
    assert personal.news_count(store, "zhao.hua") == 0 and "自您上次查看以来" not in c.get("/").text  # read now
    assert personal.news(store, "zhao.hua", later).since  # and it says since when


def test_whats_new_for_the_office_covers_its_organisations_items_and_the_sweep_is_named(web):  # noqa: F811
    store, clock, _client, (a, b) = web
    personal.news(store, "wang.fang", clock.t)  # a first look
    service.sweep(store, clock.t + timedelta(days=60))
    entries = personal.news(store, "wang.fang", clock.t + timedelta(days=60)).entries
    assert {e.item for e in entries} == {a, b} and {e.actor for e in entries} == {"督办系统"}
    assert all(e.kind_label == "督办" for e in entries)


def test_whats_new_on_the_api_and_the_command_line_reads_without_marking(web, tmp_path):  # noqa: F811
    store, clock, client, (a, _b) = web
    personal.news(store, "zhao.hua", clock.t)
    service.comment(store, "huang.bo", a, "请看附件", clock.t + timedelta(hours=1))
    token = accounts.issue_token(store, "zhao.hua", clock.t).token
    api = client().get("/api/news", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and [e["text"] for e in api.json()["entries"]] == ["请看附件"]
    assert personal.news_count(store, "zhao.hua") == 1  # a script's read marks nothing
    if store.engine.dialect.name == "sqlite":
        url = store.engine.url.render_as_string(hide_password=False)
        r = CliRunner().invoke(cli, ["--db", url, "news", "--actor", "zhao.hua", "--json"], obj={})
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["total"] == 1
        r = CliRunner().invoke(cli, ["--db", url, "news", "--actor", "zhao.hua", "--mark"], obj={})
        assert r.exit_code == 0 and "请看附件" in r.output and "共 1 条动态" in r.output
        assert personal.news_count(store, "zhao.hua") == 0
