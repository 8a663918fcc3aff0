"""Issue 26, first part: several People's Congresses in one deployment. Each organisation owns its units and items;
a district's office and council see their district's items and not the city's, the city's staff not the district's;
units that apply to all apply within their organisation; `orgs list` prints the tree."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import ROOT, T0, chain_files
from workflow import service
from workflow.errors import FileError, InvalidInput, NotFound

PEOPLE = ROOT / "workflow" / "demo_people.yaml"


def _file(tmp_path, change=None) -> str:
    data = yaml.safe_load(PEOPLE.read_text(encoding="utf-8"))
    data["organisations"] = [
        {"code": "city", "name": "某市人大常委会", "level": "city", "slip_code": "市人大"},
        {"code": "dc", "name": "东城区人大常委会", "level": "district", "parent": "city", "slip_code": "东人大"},
        {"code": "dc-town", "name": "东城区青石镇人大", "level": "township", "parent": "dc"},
    ]
    data["people"] += [
        {"code": "city.clerk", "name": "孔秘书", "email": "kong@rd.example.gov.cn"},
        {"code": "dc.clerk", "name": "东城秘书", "email": "dc.clerk@dc.example.gov.cn"},
        {"code": "dc.chair", "name": "东城主任", "email": "dc.chair@dc.example.gov.cn"},
        {"code": "dc.lead", "name": "东城组长", "email": "dc.lead@dc.example.gov.cn"},
        {"code": "dc.water", "name": "东城水务", "email": "water@dc.example.gov.cn"},
        {"code": "it.admin", "name": "信息科管理员", "email": "it@rd.example.gov.cn", "admin": True},
    ]
    office = next(u for u in data["units"] if u["code"] == "office")
    office["members"].append({"person": "city.clerk", "role": "office"})
    data["units"] += [
        {"code": "dc-office", "name": "东城区人大常委会办公室", "kind": "office", "organisation": "dc",
         "applies_to_all": True, "members": [{"person": "dc.clerk", "role": "office"}]},
        {"code": "dc-council", "name": "东城区主任会议", "kind": "council", "organisation": "dc",
         "applies_to_all": True, "members": [{"person": "dc.chair", "role": "council"}]},
        {"code": "dc-env", "name": "东城区生态环境专项监督小组", "kind": "group", "organisation": "dc",
         "members": [{"person": "dc.lead", "role": "group_lead"}, {"person": "huang.bo", "role": "department"}]},
        {"code": "dc-water", "name": "东城区水务局", "kind": "department", "organisation": "dc",
         "members": [{"person": "dc.water", "role": "department"}]},
    ]
    if change:
        change(data)
    path = tmp_path / "people.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


@pytest.fixture
def two(ready, tmp_path):
    """The demo's city with 东城区 as an organisation of its own: a city item and a district item."""
    service.import_people(ready, "wang.fang", _file(tmp_path), T0)
    city = service.create_item(ready, "wang.fang", template="special_supervision", title="市级大气污染防治", now=T0,
                               group="g-env").id
    dc = service.create_item(ready, "dc.clerk", template="special_supervision", title="东城区河道整治", now=T0,
                             group="dc-env").id
    return ready, city, dc


def _holders(store, item):
    return {r.role: sorted(p.split(" (")[1][:-1] for p in r.people)
            for r in service.show_item(store, service.OPERATOR, item, T0).roles}


def test_a_district_item_takes_its_own_office_and_council_not_the_citys(two):
    s, city, dc = two
    h = _holders(s, dc)
    assert h["office"] == ["dc.clerk"] and h["council"] == ["dc.chair"] and h["group_lead"] == ["dc.lead"]
    assert "party_committee" not in h or h["party_committee"] == []  # the city's 市委 unit applies to the city's items
    c = _holders(s, city)
    assert c["office"] == ["city.clerk", "wang.fang"] and "dc.chair" not in c["council"]


def test_a_district_clerk_sees_only_his_districts_items_and_the_citys_staff_not_the_districts(two):
    s, city, dc = two
    assert [i.id for i in service.list_items(s, "dc.clerk", T0)] == [dc]
    assert [i.id for i in service.list_items(s, "city.clerk", T0)] == [city]
    for who, hidden in (("dc.clerk", city), ("dc.chair", city), ("city.clerk", dc), ("li.ming", dc)):
        with pytest.raises(NotFound, match=f"事项 {hidden} 不存在"):
            service.show_item(s, who, hidden, T0)
        with pytest.raises(NotFound):
            service.history(s, who, hidden)
    assert service.show_item(s, "dc.chair", dc, T0).id == dc
    # a department clerk works for both: he sees what he holds a role on, in either organisation
    assert {i.id for i in service.list_items(s, "huang.bo", T0)} == {city, dc}


def test_the_city_staff_cannot_act_on_a_district_item(two):
    s, _city, dc = two
    with pytest.raises(NotFound):
        service.advance(s, "city.clerk", dc, "propose", T0, fields={"topic": "x", "source": "社会关注"})


def test_one_item_belongs_to_one_organisation(two):
    s, _city, _dc = two
    with pytest.raises(InvalidInput, match="一个事项只属于一个人大"):
        service.create_item(s, "wang.fang", template="special_supervision", title="跨级", now=T0, group="g-env",
                            units=("dc-env",))


def test_orgs_list_prints_the_tree(two):
    from click.testing import CliRunner

    from cli import cli
    s, _c, _d = two
    runner = CliRunner()
    r = runner.invoke(cli, ["--db", str(s.engine.url), "orgs", "list"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == ["city  某市人大常委会（市）  代字 市人大", "  dc  东城区人大常委会（县（区））  代字 东人大",
                                     "    dc-town  东城区青石镇人大（乡镇）"]
    tree = json.loads(runner.invoke(cli, ["--db", str(s.engine.url), "orgs", "list", "--json"]).output)
    assert [(o["code"], o["level"], [(k["code"], [g["code"] for g in k["children"]]) for k in o["children"]])
            for o in tree] == [("city", "city", [("dc", ["dc-town"])])]


def test_orgs_list_without_organisations_says_everything_is_one(ready):
    assert service.list_orgs(ready) == []


@pytest.mark.parametrize("change, message", [
    (lambda d: d["organisations"][1].pop("parent"), "exactly one organisation has no `parent`"),
    (lambda d: d["organisations"][1].update(parent="nowhere"), "parent 'nowhere' is not among the organisations"),
    (lambda d: d["organisations"][2].update(level="city"), "cannot be under 'dc' (district): a parent is a level up"),
    (lambda d: d["organisations"][0].update(level="county"), "level 'county' is not one of"),
    (lambda d: next(u for u in d["units"] if u["code"] == "dc-env").update(organisation="xx"), "单位“dc-env”所属的组织“xx”既不在本文件的"),
])
def test_a_wrong_organisation_tree_is_a_located_error_and_imports_nothing(ready, tmp_path, change, message):
    before = len(service.list_people(ready))
    with pytest.raises(FileError) as e:
        service.import_people(ready, "wang.fang", _file(tmp_path, change), T0)
    assert message in str(e.value) and "people.yaml:" in str(e.value)
    assert len(service.list_people(ready)) == before and service.list_orgs(ready) == []


def test_an_administrator_publishes_and_imports_but_sees_no_item_by_being_one(two):
    """Issue 26: `admin: true` lets a person publish, import and retry for the whole deployment; it grants no view
    of items (an administrator who is also office staff sees his organisation's items as staff)."""
    s, city, dc = two
    assert service.list_items(s, "it.admin", T0) == []
    for item in (city, dc):
        with pytest.raises(NotFound, match=f"事项 {item} 不存在"):
            service.show_item(s, "it.admin", item, T0)
    assert [i.id for i in service.list_items(s, "wang.fang", T0)] == [city]  # admin and the city's office


def test_on_the_demo_each_district_sees_its_own_items_and_the_city_not_theirs(tmp_path):
    """Issue 26's demo: 东城区 and 西城区 are organisations of their own, each with an item. Who sees a district item,
    by hand: its district's office, council, group lead and department; nobody of the city, administrators included.
    No district person sees a city item."""
    from workflow.demo import run_demo
    from workflow.service import open_store
    from workflow.store import directory

    run_demo(tmp_path / "demo", lambda _line: None)
    s = open_store(f"sqlite:///{tmp_path / 'demo' / 'wuzhuan.db'}")
    now = T0.replace(month=4, day=20)
    # the districts' own items; then the 联动 sub-items the city handed to each district (#11 东城区, #12 西城区):
    # the district's office, council and congress; the city's 工委 and group lead, who fill the roles the district
    # has not (the template's 审阅); the city's group lead and office, who watch them (知会) — not the city's council
    expected = {14: {"liu.yang", "he.ping", "lu.wen", "fang.li"}, 15: {"cao.yu", "ye.qing", "shi.lei", "tian.mei"},
                11: {"liu.yang", "he.ping", "deng.yun", "chen.jing", "zhao.hua", "wang.fang"},
                12: {"cao.yu", "ye.qing", "bai.xue", "chen.jing", "zhao.hua", "wang.fang"}}
    district_people = {"liu.yang", "he.ping", "lu.wen", "fang.li", "cao.yu", "ye.qing", "shi.lei", "tian.mei", "qiu.bin"}
    with s.read() as tx:
        everyone = [p.code for p, _units in directory.list_people(tx)]
    seen = {code: {i.id for i in service.list_items(s, code, now, limit=100)} for code in everyone}
    for item, who in expected.items():
        assert {code for code in everyone if item in seen[code]} == who
        for code in everyone:
            if code in who:
                assert service.show_item(s, code, item, now).id == item
            else:
                with pytest.raises(NotFound):
                    service.show_item(s, code, item, now)
    city_items = {i.id for i in service.list_items(s, service.OPERATOR, now, limit=100)} - set(expected)
    assert len(city_items) == 11
    assert all(not (seen[code] & city_items) for code in district_people)
    assert seen["wang.fang"] == city_items | {11, 12}  # the city's office: its items, and the 联动 ones it watches
    assert seen["li.ming"] == city_items  # the city's council: its items only
    s.dispose()


def test_slip_numbers_count_per_series_each_organisation_its_own_without_gaps(two, tmp_path):
    """Issue 26/30: 督办单 numbers count per organisation, 代字 series and year (`{org}` is the organisation's
    slip_code), each series gapless; before, one counter a year served every series, so each had gaps."""
    from sqlalchemy import select

    from workflow.store.models import Escalation
    s, _city, _dc = two
    text = (ROOT / "definitions" / "special_supervision.yaml").read_text(encoding="utf-8")
    custom = tmp_path / "special_supervision.yaml"
    custom.write_text(text.replace('slip_pattern: "〔{year}〕人大督字第{n}号"', 'slip_pattern: "〔{year}〕{org}督字第{n}号"'),
                      encoding="utf-8")
    service.publish(s, "wang.fang", custom, T0)
    made = [service.create_item(s, clerk, template="special_supervision", title=t, now=T0, group=g).id
            for clerk, t, g in (("wang.fang", "市一", "g-env"), ("dc.clerk", "东一", "dc-env"), ("wang.fang", "市二", "g-env"),
                                ("dc.clerk", "东二", "dc-env"))]
    service.sweep(s, T0.replace(month=3))  # far past every deadline: each item's red slip fires
    with s.read() as tx:
        slips = dict(tx.execute(select(Escalation.item_id, Escalation.slip_no)
                                .where(Escalation.rung == "red", Escalation.item_id.in_(made))).all())
    assert sorted(slips[i] for i in made[0::2]) == ["〔2026〕市人大督字第1号", "〔2026〕市人大督字第2号"]
    assert sorted(slips[i] for i in made[1::2]) == ["〔2026〕东人大督字第1号", "〔2026〕东人大督字第2号"]


def test_a_series_first_used_after_the_upgrade_starts_after_the_years_old_counter(ready):
    """Migration 0016: a year's counter from before series is series ''; a series first used that year starts after
    it, so no number given before the upgrade is given again."""
    from sqlalchemy import insert

    from workflow.store import escalations as esc_store
    from workflow.store.models import SlipCounter
    with ready.transaction() as tx:
        tx.execute(insert(SlipCounter.__table__).values(series="", year=2026, last=7))
        got = [esc_store.next_slip(tx, 2026, "〔2026〕人大督字第{n}号") for _ in range(2)]
        other = esc_store.next_slip(tx, 2027, "〔2027〕人大督字第{n}号")
    assert got == [8, 9] and other == 1


def test_the_roll_up_counts_each_organisation_by_hand_for_its_staff_only(two):
    """Issue 26: the office and council of an organisation see, for it and every organisation below it, items
    open and closed with their lights, on-time rate and lateness — counts only, no item opened; a township with
    nothing to count is 无数据, not 0 and not a red card."""
    from workflow.errors import NotPermitted
    s, _city, _dc = two
    service.create_item(s, "dc.clerk", template="special_supervision", title="东城区二", now=T0, group="dc-env")
    tree = service.org_rollup(s, "city.clerk", "2026-01-05")
    (city,) = tree
    assert (city.code, [k.code for k in city.children], [g.code for g in city.children[0].children]) == ("city", ["dc"], ["dc-town"])
    assert city.items == {"total": 1, "open": 1, "closed": 0, "green": 1, "yellow": 0, "red": 0}
    dc = city.children[0]
    assert dc.items == {"total": 2, "open": 2, "closed": 0, "green": 2, "yellow": 0, "red": 0}
    town = dc.children[0]
    assert town.no_data and town.on_time_rate is None and town.items["total"] == 0
    # 选题立项 is due 2026-01-26 24:00 (15 working days): by the end of 2026-02-06 nine working days late, red
    late = service.org_rollup(s, "dc.clerk", "2026-02-06")
    assert [o.code for o in late] == ["dc"]  # the district's clerk: his district and below, not the city
    assert late[0].items["red"] == 2 and late[0].late_workdays == 2 * 9
    with pytest.raises(NotPermitted):
        service.org_rollup(s, "huang.bo", "2026-02-06")  # a department clerk: no office, no council


def test_the_orgs_page_shows_a_districts_staff_their_district_and_refuses_a_department(two):
    import re

    from starlette.testclient import TestClient

    from conftest import Clock, passwords
    from workflow.web import create_app
    s, _city, _dc = two
    passwords(s)
    app = create_app(s, Clock(T0.replace(month=2, day=6)))

    def page(code: str):
        c = TestClient(app, base_url="http://testserver")
        form = c.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]*)"', form).group(1)
        assert c.post("/login", data={"username": code, "password": "correct horse battery", "csrf": csrf},
                      follow_redirects=False).status_code == 303
        return c.get("/orgs?as_of=2026-02-06")
    r = page("dc.clerk")
    assert r.status_code == 200 and "东城区人大常委会" in r.text and "某市人大常委会" not in r.text and "无数据" in r.text
    assert 'href="/orgs"' in r.text
    r = page("city.clerk")
    assert r.status_code == 200 and "某市人大常委会" in r.text and "东城区青石镇人大" in r.text
    assert page("huang.bo").status_code == 403


def test_a_sub_item_handed_to_a_districts_unit_belongs_to_the_district_and_escalates_inside_it(two):
    """Issue 26: a sub-item handed to a unit of a district is the district's item: its office and 主任会议 are the
    district's, its red slip "报主任会议" goes to the district's 主任会议, never to the city's; the city's group
    lead, who fills the role the unit does not, stays informed; the city's council cannot open it (the city's
    office watches it: tests/test_orgs_reads.py)."""
    import email
    from datetime import timedelta
    from email import policy

    from notifier.transports import MemoryTransport
    s, _city, _dc = two
    handed = T0 + timedelta(days=56)
    parent = service.create_item(s, "wang.fang", template="opinion_handling", title="关于水污染防治的审议意见",
                                 now=handed, group="g-env").id
    service.advance(s, "wang.fang", parent, "hand_over", handed, fields={"opinions": "常办〔2026〕5号", "units": "d-env,dc-water"}, files=chain_files("hand_over", "opinion_handling"))
    kids = {c.unit: c.id for c in service.show_item(s, service.OPERATOR, parent, handed).children}
    child = kids["dc-water"]
    h = _holders(s, child)
    assert h["department"] == ["dc.water"] and h.get("council") == ["dc.chair"] and "li.ming" not in str(h)
    assert "dc.chair" not in str(_holders(s, kids["d-env"]))  # the city department's sub-item stays the city's
    with pytest.raises(NotFound):
        service.show_item(s, "li.ming", child, handed)  # the city's council: not its item
    late = handed + timedelta(days=200)
    service.sweep(s, late)
    mail = MemoryTransport()
    service.deliver(s, mail, late)
    slips = [email.message_from_bytes(bytes(m), policy=policy.default) for m in mail.sent]
    red = [m for m in slips if "红色督办单" in m["Subject"] and "东城区水务局" in m["Subject"]]
    assert len(red) == 1, [m["Subject"] for m in slips]
    readers = str(red[0]["To"]) + str(red[0]["Cc"])
    assert "东城水务" in red[0]["To"] and "东城主任" in readers and "李明" not in readers and "郑宇" not in readers


def test_a_template_published_to_a_district_serves_it_and_its_townships_the_city_keeps_its_own(two, tmp_path):
    """Issue 26: `definitions publish FILE --org CODE` publishes for that organisation and those below it; the
    nearest publication wins; the same content published to two organisations is one version."""
    from click.testing import CliRunner

    from cli import cli
    s, city, dc = two
    text = (ROOT / "definitions" / "special_supervision.yaml").read_text(encoding="utf-8")
    own = tmp_path / "special_supervision.yaml"
    own.write_text(text.replace("title: 专项监督（五专全链条）", "title: 东城区专项监督"), encoding="utf-8")
    assert "title: 东城区专项监督" in own.read_text(encoding="utf-8")
    run = CliRunner()
    r = run.invoke(cli, ["--db", str(s.engine.url), "definitions", "publish", str(own), "--org", "dc", "--actor", "wang.fang",
                         "--now", "2026-01-05T10:00"])
    assert r.exit_code == 0 and "published" in r.output, r.output
    again = run.invoke(cli, ["--db", str(s.engine.url), "definitions", "publish", str(own), "--org", "dc", "--actor",
                             "wang.fang", "--now", "2026-01-05T10:00"])
    assert "unchanged" in again.output
    bad = run.invoke(cli, ["--db", str(s.engine.url), "definitions", "publish", str(own), "--org", "nowhere", "--actor",
                           "wang.fang", "--now", "2026-01-05T10:00"])
    assert bad.exit_code == 2 and "没有编码为“nowhere”的组织" in bad.output
    later = T0.replace(hour=3)
    d2 = service.create_item(s, "dc.clerk", template="special_supervision", title="东城区二", now=later, group="dc-env").id
    c2 = service.create_item(s, "wang.fang", template="special_supervision", title="市二", now=later, group="g-env").id
    op = service.OPERATOR
    assert service.show_item(s, op, d2, later).template_title == "东城区专项监督"
    assert service.show_item(s, op, c2, later).template_title == "专项监督（五专全链条）"
    assert service.show_item(s, op, dc, later).template_title == "专项监督（五专全链条）"  # created before: keeps its version
    from workflow.store import organisations as org_store
    from workflow.store import templates as template_store
    with s.read() as tx:
        town = org_store.by_code(tx, "dc-town")
        chain = org_store.chain(tx, town.id)
        assert chain == (town.id, org_store.by_code(tx, "dc").id, None)
        assert template_store.latest(tx, "special_supervision", chain).title == "东城区专项监督"  # the nearest above


def _csv(tmp_path, *rows: str) -> str:
    path = tmp_path / "people.csv"
    path.write_text("person,name,email,unit,unit_name,unit_kind,role,applies_to_all,unit_organisation\n"
                    + "\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_a_file_that_does_not_name_a_units_organisation_leaves_it_where_it_is(two, tmp_path):
    """A CSV of contacts (or a YAML without `organisation:`) re-importing 东城's office must not move it into the city:
    its clerk would see the city's items and lose his own. A new unit names its organisation by code."""
    s, city, dc = two
    service.import_people(s, "wang.fang", _csv(
        tmp_path, "dc.clerk,东城秘书,dc.clerk@dc.example.gov.cn,dc-office,东城区人大常委会办公室（新）,office,office,是,",
        "dc.aide,东城助理,aide@dc.example.gov.cn,dc-office2,东城区人大常委会办公室二科,office,office,是,dc"), T0)
    for clerk in ("dc.clerk", "dc.aide"):
        assert [i.id for i in service.list_items(s, clerk, T0)] == [dc], clerk
    assert [i.id for i in service.list_items(s, "city.clerk", T0)] == [city]
    again = tmp_path / "contacts.yaml"
    again.write_text("units:\n  - {code: dc-office, name: 东城区人大常委会办公室, kind: office, applies_to_all: true,\n"
                     "     members: [{person: dc.clerk, role: office}]}\n", encoding="utf-8")
    service.import_people(s, "wang.fang", again, T0)
    assert [i.id for i in service.list_items(s, "dc.clerk", T0)] == [dc]


def test_a_unit_naming_an_organisation_nobody_registered_is_a_located_error_and_imports_nothing(two, tmp_path):
    s, _city, _dc = two
    before = len(service.list_people(s))
    with pytest.raises(FileError) as e:
        service.import_people(s, "wang.fang", _csv(
            tmp_path, "new.one,新人,new@dc.example.gov.cn,nx-office,南乡办公室,office,office,是,nanxiang"), T0)
    assert "people.csv:2:" in str(e.value) and "组织“nanxiang”" in str(e.value)
    assert len(service.list_people(s)) == before


def test_an_administrator_migrates_his_organisations_items_and_leaves_another_s_alone(two, tmp_path):
    """The demo's docs ran `items migrate --apply` as the city's administrator: the plan listed 东城区's item, the
    apply then stopped at it ("事项 14 不存在") after moving the city's. Now the plan holds only what he may see."""
    from datetime import timedelta

    s, city, dc = two
    text = (ROOT / "definitions" / "special_supervision.yaml").read_text("utf-8").replace("title: 专项监督（五专全链条）",
                                                                                          "title: 专项监督（新版）")
    (tmp_path / "v2.yaml").write_text(text, encoding="utf-8")
    v2 = service.publish(s, "wang.fang", tmp_path / "v2.yaml", T0 + timedelta(minutes=1)).version
    later = T0 + timedelta(minutes=2)
    plan = service.migrate(s, "wang.fang", "special_supervision", str(v2), later)
    assert city in [p.item for p in plan.items] and dc not in [p.item for p in plan.items]
    done = service.migrate(s, "wang.fang", "special_supervision", str(v2), later, apply=True)
    assert all(p.applied for p in done.items)
    from workflow.store import items as item_store

    with s.read() as tx:  # 东城区's item stays on its version; the city's moved
        assert item_store.get(tx, dc).template_version_id != v2 and item_store.get(tx, city).template_version_id == v2
    with pytest.raises(NotFound, match=f"事项 {dc} 不存在"):
        service.migrate(s, "wang.fang", "special_supervision", str(v2), later, items=[dc])
