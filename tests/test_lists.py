"""Issue 28 §1: the lists (待办, 已办, 我参与的, search) show their total and page numbers, sort as asked, and
download as CSV or Excel exactly the rows the person may see."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from test_web import signed_in, web  # noqa: F401  (the fixture)

from conftest import T0, at
from workflow import service
from workflow.service import reads


@pytest.fixture
def many(web):  # noqa: F811  (the fixture)
    """web's two items and 58 more in g-env: the first 3 created a month early (red by now), one titled like a formula."""
    store, clock, client, (a, b) = web
    made = []
    for n in range(58):
        when = T0 - timedelta(days=40) if n < 3 else T0 + timedelta(minutes=n)
        title = "=HYPERLINK(\"http://127.0.0.1/\")" if n == 57 else f"专项事项{n:02d}"
        made.append(service.create_item(store, "wang.fang", template="special_supervision", title=title, now=when,
                                        group="g-env").id)
    return store, clock, client, (a, b), made


def ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<td data-label="#" class="num">(\d+)</td>', html)]


def test_the_inbox_shows_its_total_and_page_numbers_and_sorts_by_light_and_update(many):
    store, clock, client, (a, b), made = many
    c = signed_in(client, "wang.fang")
    first = c.get("/").text
    total = reads.inbox(store, "wang.fang", clock.t).total
    assert total == 59 and f"共 {total} 项，第 1/2 页" in first  # item a waits for the group, not the office
    assert 'href="?page=2"' in first and len(ids(first)) == reads.PAGE
    second = c.get("/?page=2").text
    assert "第 2/2 页" in second and len(ids(second)) == total - reads.PAGE and not set(ids(first)) & set(ids(second))
    assert c.get("/?offset=50").text.count('<td data-label="#"') == total - reads.PAGE  # older links still page
    by_light = ids(c.get("/?sort=light").text)
    assert set(by_light[:3]) == set(made[:3])  # the red ones first
    assert reads.inbox(store, "wang.fang", clock.t, sort="light").entries[0].item.light == "red"
    service.set_fields(store, "wang.fang", made[30], {"topic": "新"}, clock.t)  # changed now: the latest
    assert ids(c.get("/?sort=updated").text)[0] == made[30]
    assert c.get("/?sort=light&light=red").text.count('<td data-label="#"') == 3
    assert '<option value="light" selected>按亮灯排序（红灯在前）' in c.get("/?sort=light").text
    r = c.get("/?sort=newest")
    assert r.status_code == 400 and "排序“newest”不是" in r.text
    assert c.get("/?page=x").status_code == 400


def test_the_inbox_downloads_as_csv_and_excel_with_every_row_and_formulas_kept_as_text(many):
    from openpyxl import load_workbook
    store, clock, client, _items, made = many
    c = signed_in(client, "wang.fang")
    r = c.get("/?format=csv&sort=light")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"] and "%E5%BE%85%E5%8A%9E" in r.headers["content-disposition"]  # 待办
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["灯", "编号", "事项", "流程", "当前环节", "承办", "办理时限", "逾期工作日", "小组"]
    assert len(rows) - 1 == 59 and {int(x[1]) for x in rows[1:4]} == set(made[:3]) and rows[1][0] == "红"
    assert ["'=HYPERLINK(\"http://127.0.0.1/\")"] == [x[2] for x in rows if "HYPERLINK" in x[2]]
    x = c.get("/?format=xlsx&light=red")
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(x.content)).active
    sheet = [[cell.value for cell in row] for row in ws.iter_rows()]
    assert ws.title == "待办" and sheet[0][2] == "事项" and len(sheet) == 4 and {r[1] for r in sheet[1:]} == set(made[:3])
    bad = c.get("/?format=pdf")
    assert bad.status_code == 400 and "导出格式“pdf”不是 csv、xlsx 之一" in bad.text


def test_done_and_involved_have_totals_sorts_and_exports_of_only_his_items(many):
    store, clock, client, (a, b), made = many
    hb = signed_in(client, "huang.bo")  # a department of g-env's items: not of b (g-elderly)
    page = hb.get("/involved").text
    assert "共 59 项，第 1/2 页" in page and b not in ids(page)
    rows = list(csv.reader(io.StringIO(hb.get("/involved?format=csv").content.decode("utf-8-sig"))))
    assert {int(r[1]) for r in rows[1:]} == {a, *made}
    c = signed_in(client, "wang.fang")
    assert ids(c.get("/done").text) == [a]  # she moved item a on, nothing else
    involved = reads.involved(store, "wang.fang", clock.t, sort="due")
    assert involved.total == 60 and [s.id for s in involved.rows[:3]] == sorted(made[:3])  # due first: the early ones
    recent = reads.involved(store, "wang.fang", clock.t)
    assert recent.rows[0].id == max(made) and len(recent) == reads.PAGE
    assert "第 2/2 页" in c.get("/involved?page=2").text
    assert c.get("/involved?sort=x").status_code == 400


def test_search_results_page_and_download(many):
    store, clock, client, _items, made = many
    c = signed_in(client, "wang.fang")
    page = c.get("/search?q=专项事项").text
    found = reads.search(store, "wang.fang", "专项事项", clock.t)
    assert found.total == 57 and "找到 57 个事项" in page and f"第 1/{found.pages} 页" in page  # 专项事项00…56, counted once
    assert "共 57 项" not in page
    rows = list(csv.reader(io.StringIO(c.get("/search?q=专项事项&format=csv").content.decode("utf-8-sig"))))
    assert len(rows) - 1 == 57 and {int(r[1]) for r in rows[1:]} == set(made[:57])
    assert "专项事项" in c.get("/search?q=专项事项&page=1").text


def test_an_export_larger_than_its_limit_is_refused_with_the_count(many, monkeypatch):
    from workflow.service.reads import exports
    store, clock, client, _items, _made = many
    monkeypatch.setattr(exports, "MOST", 10)
    r = signed_in(client, "wang.fang").get("/?format=csv")
    assert r.status_code == 400 and "待办共 59 项，一次最多导出 10 项" in r.text
    assert at("2026-01-07 09:00") == clock.t


def test_the_api_and_the_command_line_sort_the_item_list_too(many, tmp_path):
    """`sort=` on GET /api/items and `items list --sort`: the same orders as the pages (newest first unless told)."""
    import json

    from click.testing import CliRunner

    from cli import cli
    from workflow.service import accounts

    store, clock, client, (a, b), made = many
    token = accounts.issue_token(store, "wang.fang", clock.t).token
    get = lambda q: client().get(f"/api/items?limit=100&{q}", headers={"Authorization": f"Bearer {token}"})  # noqa: E731
    newest = [i["id"] for i in get("").json()]
    assert newest == sorted(newest, reverse=True)
    by_light = get("sort=light").json()
    order = {"red": 0, "yellow": 1, "green": 2}
    ranks = [order.get(i["light"], 3) for i in by_light]
    assert ranks == sorted(ranks) and ranks[0] == 0 and {i["id"] for i in by_light[:3]} == set(made[:3])  # red first
    by_due = [i["due_at"] for i in get("sort=due").json() if i["due_at"]]
    assert by_due == sorted(by_due)
    bad = get("sort=sideways")
    assert bad.status_code == 400 and "排序“sideways”应是" in bad.json()["error"]
    if store.engine.dialect.name == "sqlite":
        url = store.engine.url.render_as_string(hide_password=False)
        r = CliRunner().invoke(cli, ["--db", url, "items", "list", "--sort", "light", "--limit", "3", "--json",
                                     "--now", clock.t.isoformat()], obj={}, env={"WUZHUAN_CLOCK_SIMULATION": "1"})
        assert r.exit_code == 0, r.output
        assert {i["id"] for i in json.loads(r.output)} == set(made[:3])
