"""Issue 26 §7: the visibility matrix. Every person of the demo × every item × every read route — the item page, its
diagram, the API's item and history, the lists of the workbench and the API, the 台账, the board, the roll-up and
the outbox — against a table written by hand: no leak, nothing wrongly hidden."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from starlette.testclient import TestClient

from conftest import Clock, at
from workflow import service
from workflow.demo import PASSWORD, run_demo
from workflow.service import accounts
from workflow.store import directory
from workflow.web import create_app

NOW = at("2026-04-20 10:00")

# Who sees each item of the demo, by hand. The city's office (wang.fang) and council (li.ming, zheng.yu) see the
# city's items; everyone else the items he holds a role on: the group's 组长 and 工委, the departments' clerks,
# the deputies of the group (feng.xia takes part in g-env's: a deputy is not on every item, issue 29 §6), the 市委's
# office (tang.wei, on every 专项监督 item), the district congresses named.
CITY_STAFF = {"wang.fang", "li.ming", "zheng.yu"}
EXPECTED: dict[int, set[str]] = {
    1: CITY_STAFF | {"chen.jing", "zhao.hua", "deng.yun", "huang.bo", "zhou.qiang", "feng.xia", "tang.wei"},
    2: CITY_STAFF | {"lin.tao", "qian.jun", "sun.li", "huang.bo", "tang.wei"},
    3: CITY_STAFF | {"he.yan", "zhao.hua", "sun.li", "xu.na", "tang.wei"},
    4: CITY_STAFF | {"guo.peng", "luo.gang", "wu.min", "zhou.qiang", "tang.wei"},
    5: CITY_STAFF | {"ma.lan", "qian.jun", "song.kai", "wu.min", "tang.wei"},
    # the 审议意见 and its three city departments' sub-items: the group's 组长 and 工委, each department's clerk
    6: CITY_STAFF | {"chen.jing", "zhao.hua", "huang.bo"},
    7: CITY_STAFF | {"chen.jing", "zhao.hua", "huang.bo"},
    8: CITY_STAFF | {"chen.jing", "zhao.hua", "xu.na"},
    9: CITY_STAFF | {"chen.jing", "zhao.hua", "luo.gang"},
    # the 市县联动 item: the city's, with 东城区's congress (deng.yun) named on it
    10: CITY_STAFF | {"chen.jing", "zhao.hua", "deng.yun"},
    # its sub-items handed to 东城区 and 西城区 are theirs: the district's office, council and congress; the city's
    # 工委 and 组长, who fill the template's 审阅; the city's 组长 and office watching (知会) — not the city's council
    11: {"liu.yang", "he.ping", "deng.yun", "chen.jing", "zhao.hua", "wang.fang"},
    12: {"cao.yu", "ye.qing", "bai.xue", "chen.jing", "zhao.hua", "wang.fang"},
    # 南湖县's congress is a unit of the city's own directory: its sub-item is the city's
    13: CITY_STAFF | {"chen.jing", "zhao.hua", "jiang.ning"},
    # the districts' own items: their office, council, group lead and department
    14: {"liu.yang", "he.ping", "lu.wen", "fang.li"},
    15: {"cao.yu", "ye.qing", "shi.lei", "tian.mei"},
}
# office and council members of each organisation: they read the board, the roll-up and their own 台账
LEDGER = {"wang.fang": {1, 2, 3, 4, 5}, "li.ming": {1, 2, 3, 4, 5}, "zheng.yu": {1, 2, 3, 4, 5},
          "liu.yang": {14}, "he.ping": {14}, "cao.yu": {15}, "ye.qing": {15}, "qiu.bin": set()}
ADMINS = {"wang.fang"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("visibility")
    run_demo(folder / "demo", lambda _line: None)
    store = service.open_store(f"sqlite:///{folder / 'demo' / 'wuzhuan.db'}")
    with store.read() as tx:
        people = sorted(p.code for p, _units in directory.list_people(tx))
    tokens = {code: accounts.issue_token(store, code, NOW, by="operator:test").token for code in people}
    yield store, people, tokens
    store.dispose()


def _signed_in(app, code: str) -> TestClient:
    c = TestClient(app, base_url="http://testserver")
    csrf = re.search(r'name="csrf" value="([^"]*)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"username": code, "password": PASSWORD, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303, (code, r.status_code)
    return c


def _ids(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/items/(\d+)"', html)}


def test_the_hand_written_table_covers_every_item_of_the_demo(demo):
    store, people, _tokens = demo
    assert {i.id for i in service.list_items(store, service.OPERATOR, NOW, limit=100)} == set(EXPECTED)
    assert set().union(*EXPECTED.values()) <= set(people)


def test_every_person_sees_exactly_the_items_of_the_table_on_every_route(demo):
    store, people, tokens = demo
    app = create_app(store, Clock(NOW))
    api = TestClient(app, base_url="http://testserver")
    leaks, hidden = [], []
    for code in people:
        mine = {i for i, who in EXPECTED.items() if code in who}
        page = _signed_in(app, code)
        bearer = {"Authorization": f"Bearer {tokens[code]}"}
        for item in EXPECTED:
            routes = {f"/items/{item}": page.get(f"/items/{item}").status_code,
                      f"/items/{item}/diagram.svg": page.get(f"/items/{item}/diagram.svg").status_code,
                      f"/api/items/{item}": api.get(f"/api/items/{item}", headers=bearer).status_code,
                      f"/api/items/{item}/history": api.get(f"/api/items/{item}/history", headers=bearer).status_code}
            for route, status in routes.items():
                assert status in (200, 404), (code, route, status)
                if status == 200 and item not in mine:
                    leaks.append((code, route))
                if status == 404 and item in mine:
                    hidden.append((code, route))
        listed = {i["id"] for i in api.get("/api/items?limit=100", headers=bearer).json()}
        shown = _ids(page.get("/involved").text) | _ids(page.get("/").text) | _ids(page.get("/done").text)
        leaks += [(code, "/api/items", i) for i in listed - mine] + [(code, "lists", i) for i in shown - mine]
        hidden += [(code, "/api/items", i) for i in mine - listed]
    assert not leaks, leaks
    assert not hidden, hidden


def test_the_reports_and_the_outbox_are_read_by_whom_the_table_says(demo):
    store, people, _tokens = demo
    app = create_app(store, Clock(NOW))
    for code in people:
        c = _signed_in(app, code)
        ledger = c.get("/ledger.xlsx")
        if code in LEDGER:
            assert ledger.status_code == 200, code
            sheet = openpyxl.load_workbook(io.BytesIO(ledger.content), read_only=True).worksheets[0]
            rows = {r[0] for r in sheet.iter_rows(min_row=2, values_only=True) if isinstance(r[0], int)}
            assert rows == LEDGER[code], code
        else:
            assert ledger.status_code == 403, code
        staff = 200 if code in LEDGER else 403
        assert c.get("/board?as_of=2026-04-20").status_code == staff, code
        assert c.get("/orgs?as_of=2026-04-20").status_code == staff, code
        assert c.get("/outbox").status_code == (200 if code in ADMINS else 403), code
