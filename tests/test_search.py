"""搜索: items found by Chinese words in titles, values, comments and file names; ranked, paged, only those one may see."""

from __future__ import annotations

import html
import io
import json

import pytest
from click.testing import CliRunner
from test_documents import NOW, PDF, doc  # noqa: F401  (the fixture: an item whose report is a file)
from test_orgs import two  # noqa: F401  (the fixture: the city and 东城区)
from test_web import signed_in, web  # noqa: F401  (the fixture)

from cli import cli
from conftest import T0, at
from workflow import service
from workflow.errors import InvalidInput
from workflow.service import accounts, reads
from workflow.store import directory


def person(store, code):
    with store.read() as tx:
        return directory.person(tx, code)


def titles(found) -> list[str]:
    return [i.title for i in found.items]


@pytest.fixture
def many(ready):
    s = ready
    a = service.create_item(s, "wang.fang", template="special_supervision", title="养老服务体系建设", now=T0, group="g-elderly").id
    b = service.create_item(s, "wang.fang", template="special_supervision", title="义务教育均衡发展", now=T0, group="g-edu").id
    service.advance(s, "wang.fang", b, "propose", at("2026-01-06 09:00"), fields={"topic": "农村学校的养老金缴纳", "source": "社会关注"},
                    comment="请关注城乡差距")
    c = service.create_item(s, "wang.fang", template="special_supervision", title="大气污染防治", now=T0, group="g-env").id
    return s, a, b, c


def test_a_two_character_word_is_found_in_titles_and_values_and_titles_rank_first(many):
    s, a, b, c = many
    found = reads.search(s, reads.OPERATOR, "养老", at("2026-01-07 09:00"))
    assert found.total == 2 and [i.id for i in found.items] == [a, b]  # the title's hit counts more than a value's
    assert titles(reads.search(s, reads.OPERATOR, "城乡差距", at("2026-01-07 09:00"))) == ["义务教育均衡发展"]  # a comment
    assert titles(reads.search(s, reads.OPERATOR, "养老　农村", at("2026-01-07 09:00"))) == ["义务教育均衡发展"]  # every word
    assert reads.search(s, reads.OPERATOR, "100%", at("2026-01-07 09:00")).total == 0  # LIKE's wildcards are words here


def test_what_changes_after_a_move_is_found_at_the_next_search(many):
    s, _a, _b, c = many
    now = at("2026-01-07 09:00")
    assert reads.search(s, reads.OPERATOR, "雾霾", now).total == 0
    service.advance(s, "wang.fang", c, "propose", now, fields={"topic": "雾霾天气", "source": "社会关注"})
    assert titles(reads.search(s, reads.OPERATOR, "雾霾", now)) == ["大气污染防治"]


def test_file_names_are_found(doc):  # noqa: F811  (the fixture)
    s, item = doc
    service.advance(s, "huang.bo", item, "report", NOW, fields={"measures_report": "已整改"},
                    files={"report_file": [("河道清淤整改报告.pdf", io.BytesIO(PDF))]})
    assert [i.id for i in reads.search(s, reads.OPERATOR, "清淤", NOW).items] == [item]


def test_nobody_finds_an_item_he_may_not_see_nor_learns_that_it_exists(two):  # noqa: F811  (the fixture)
    s, city, dc = two
    now = at("2026-01-07 09:00")
    assert [i.id for i in reads.search(s, reads.OPERATOR, "治", now).items] == [dc, city]
    clerk = person(s, "dc.clerk")
    assert [i.id for i in reads.search(s, clerk, "治", now).items] == [dc]  # his district's, not the city's
    assert reads.search(s, clerk, "大气", now).total == 0
    assert reads.search(s, person(s, "feng.xia"), "东城", now).total == 0


def test_pages_count_every_match_and_bad_words_are_refused(ready):
    s = ready
    for n in range(7):
        service.create_item(s, "wang.fang", template="special_supervision", title=f"养老第{n}项", now=T0, group="g-elderly")
    now = at("2026-01-07 09:00")
    first = reads.search(s, reads.OPERATOR, "养老", now, limit=3)
    last = reads.search(s, reads.OPERATOR, "养老", now, offset=6, limit=3)
    assert (first.total, first.pages, len(first.items)) == (7, 3, 3) and (last.page, len(last.items)) == (3, 1)
    for bad, says in [("", "请输入"), ("a\x07", "控制字符"), ("字" * 101, "最多 100"), ("1 2 3 4 5 6", "最多同时查找 5 个词")]:
        with pytest.raises(InvalidInput, match=says):
            reads.search(s, reads.OPERATOR, bad, now)


def test_search_on_the_workbench_the_api_and_the_command_line(web, tmp_path):  # noqa: F811  (the fixture)
    store, clock, client, (a, b) = web
    c = signed_in(client, "zhao.hua")  # the group lead of g-env: item a only
    r = c.get("/search?q=大气")
    assert r.status_code == 200 and "找到 1 个事项" in r.text and f'href="/items/{a}"' in r.text
    assert "共 1 项" not in r.text  # the count is said once
    none = c.get("/search?q=养老")
    assert none.text.count('href="/items/') == 0 and "没有找到含“养老”的事项" in none.text  # g-elderly's is not his
    bad = c.get("/search?q=%07x")
    assert bad.status_code == 400 and "控制字符" in html.unescape(bad.text)
    token = accounts.issue_token(store, "zhao.hua", clock.t).token
    api = client().get("/api/items?q=大气", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and [i["id"] for i in api.json()] == [a]
    assert client().get("/api/items?q=%07", headers={"Authorization": f"Bearer {token}"}).status_code == 400
    r = CliRunner().invoke(cli, ["--db", store.url, "items", "list", "--q", "养老", "--actor", "wang.fang", "--json"])
    assert r.exit_code == 0 and [i["id"] for i in json.loads(r.stdout)] == [b]
    r = CliRunner().invoke(cli, ["--db", store.url, "items", "list", "--q", "养老", "--light", "red"])
    assert r.exit_code == 2
