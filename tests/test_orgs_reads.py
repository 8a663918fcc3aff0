"""Issue 26: the board and the 台账 as each organisation's staff may read them — the board over the units of his 人大
and those below it (counts), the 台账 over his own 人大's items only — on the workbench, the API and the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_orgs import two  # noqa: F401  (the fixture: the demo's city with 东城区 as an organisation of its own)

from cli import cli
from conftest import T0, chain_files
from workflow import service
from workflow.errors import NotPermitted

AS_OF = "2026-01-05"


def test_the_board_compares_the_units_of_the_readers_organisation_and_those_below_it(two):  # noqa: F811
    s, _city, _dc = two
    every = {r.unit for r in service.board_for(s, service.OPERATOR, AS_OF).rows}
    assert "dc-env" in every and "g-env" in every
    assert {r.unit for r in service.board_for(s, "city.clerk", AS_OF).rows} == every  # the city: itself and below
    assert [r.unit for r in service.board_for(s, "dc.clerk", AS_OF).rows] == ["dc-env"]  # the district: its own
    assert [r.unit for r in service.board_for(s, "dc.chair", AS_OF).rows] == ["dc-env"]
    for outsider in ("huang.bo", "it.admin"):  # a department clerk; an administrator who is no office or council
        with pytest.raises(NotPermitted, match="仅各级人大常委会办公室和主任会议可看"):
            service.board_for(s, outsider, AS_OF)


def test_the_ledger_lists_the_items_of_the_readers_own_organisation_only(two):  # noqa: F811
    s, city, dc = two
    rows = lambda who: [r["id"] for r in service.ledger_for(s, who, T0).rows]  # noqa: E731
    assert rows(service.OPERATOR) == [city, dc]
    assert rows("city.clerk") == [city]  # the city's office does not open the district's items
    assert rows("wang.fang") == [city]
    assert rows("dc.clerk") == [dc] and rows("dc.chair") == [dc]
    for outsider in ("huang.bo", "it.admin"):
        with pytest.raises(NotPermitted, match="台账仅各级人大常委会办公室和主任会议可看"):
            service.ledger_for(s, outsider, T0)


def test_report_board_and_ledger_read_as_the_actor_at_the_command_line(two):  # noqa: F811
    s, city, dc = two
    db = ["--db", str(s.engine.url)]
    run = CliRunner()
    r = run.invoke(cli, db + ["report", "ledger", "--format", "json", "--output", "-", "--now", "2026-01-05T09:00",
                              "--actor", "dc.clerk"])
    assert r.exit_code == 0, r.output
    assert [row["id"] for row in json.loads(r.output.split("\nwrote")[0])["rows"]] == [dc]
    r = run.invoke(cli, db + ["report", "ledger", "--format", "json", "--output", "-", "--now", "2026-01-05T09:00"])
    assert [row["id"] for row in json.loads(r.output.split("\nwrote")[0])["rows"]] == [city, dc]  # the operator
    r = run.invoke(cli, db + ["report", "board", "--as-of", AS_OF, "--format", "json", "--actor", "dc.clerk"])
    assert r.exit_code == 0, r.output
    assert [row["unit"] for row in json.loads(r.output)["rows"]] == ["dc-env"]
    r = run.invoke(cli, db + ["report", "board", "--as-of", AS_OF, "--actor", "huang.bo"])
    assert r.exit_code == 3 and "仅各级人大常委会办公室和主任会议可看" in r.output, r.output


# --- 联动: the parent's side watches a sub-item of another organisation -------------------------------------------

def _handed(s):
    from datetime import timedelta
    handed = T0 + timedelta(days=56)
    parent = service.create_item(s, "wang.fang", template="opinion_handling", title="关于水污染防治的审议意见",
                                 now=handed, group="g-env").id
    service.advance(s, "wang.fang", parent, "hand_over", handed, fields={"opinions": "常办〔2026〕5号", "units": "d-env,dc-water"}, files=chain_files("hand_over", "opinion_handling"))
    kids = {c.unit: c.id for c in service.show_item(s, service.OPERATOR, parent, handed).children}
    return parent, kids, handed


def _codes(store, item, now):
    return {r.role: sorted(p.split(" (")[1][:-1] for p in r.people)
            for r in service.show_item(store, service.OPERATOR, item, now).roles}


def test_a_sub_item_of_another_organisation_is_watched_by_the_parents_group_lead_and_office(two):  # noqa: F811
    """Issue 26 §3: the parent's group lead and office (the spawn's default `watchers`) hold `watch` on a sub-item
    handed to a district: they see it, among the items they take part in, and may not act on it."""
    from workflow.errors import NotPermitted
    s, _city, _dc = two
    parent, kids, handed = _handed(s)
    on_parent = _codes(s, parent, handed)
    child = kids["dc-water"]
    h = _codes(s, child, handed)
    assert h["watch"] == sorted(set(on_parent["group_lead"]) | set(on_parent["office"]))
    assert "city.clerk" in h["watch"] and "watch" not in _codes(s, kids["d-env"], handed)  # the city's own: no watch
    page = service.show_item(s, "city.clerk", child, handed)
    assert ("watch", "知会（上级人大）") in {(r.role, r.label) for r in page.roles}
    assert child in {i.id for i in service.list_items(s, "city.clerk", handed)}
    assert page.next and not any(m.allowed_for_actor for m in page.next)  # the page offers him no move
    for act in (lambda: service.advance(s, "city.clerk", child, "report", handed, fields={"measures_report": "代报"}),
                lambda: service.pause(s, "city.clerk", child, "代为暂停", handed),
                lambda: service.request_extension(s, "city.clerk", child, "代为申请", "2026-06-30", handed),
                lambda: service.assign(s, "city.clerk", child, "department", ["dc.clerk"], handed)):
        with pytest.raises(NotPermitted):
            act()
    assert _codes(s, child, handed) == h  # nothing changed


def test_a_district_sub_items_slips_reach_the_city_as_a_copy_never_addressed_to_it(two):  # noqa: F811
    """Issue 26 §3: the district's overdue step escalates inside the district; the city's watchers receive each
    notice in Cc, marked 知会, never in To and never a slip "报主任会议" of the city's council."""
    import email
    from datetime import timedelta
    from email import policy

    from notifier.transports import MemoryTransport
    s, _city, _dc = two
    _parent, kids, handed = _handed(s)
    late = handed + timedelta(days=200)
    service.sweep(s, late)
    mail = MemoryTransport()
    service.deliver(s, mail, late)
    slips = [email.message_from_bytes(bytes(m), policy=policy.default) for m in mail.sent]
    about = [m for m in slips if "东城区水务局" in m["Subject"]]
    assert [m["Subject"].split("】")[0] + "】" for m in about] == ["【交办通知】", "【红色督办单】"], [m["Subject"] for m in about]
    for m in about:
        assert "孔秘书" in str(m["Cc"]) and "孔秘书" not in str(m["To"]), (m["Subject"], m["To"], m["Cc"])
        assert "李明" not in str(m["To"]) + str(m["Cc"])
    red = next(m for m in about if "红色督办单" in m["Subject"])
    assert "知会" in red.get_body(("plain",)).get_content()
    city_side = [m for m in slips if "市生态环境局" in m["Subject"]]  # the city's own sub-item: nobody watches it
    assert city_side and all("孔秘书" not in str(m["Cc"]) for m in city_side)


def test_watch_is_a_reserved_role_and_watchers_name_the_parents_roles():
    from workflow import loader
    from workflow.errors import DefinitionError
    from workflow.templates import builtin_paths
    text = next(p for p in builtin_paths() if p.name == "joint_supervision.yaml").read_text(encoding="utf-8")
    with pytest.raises(DefinitionError, match="系统保留"):
        loader.load_text(text.replace("  office: 常委会办公室\n", "  office: 常委会办公室\n  watch: 观察员\n", 1), "t.yaml")
    bad = text.replace("join: all, then: all_reported}", "join: all, then: all_reported, watchers: [mayor]}")
    with pytest.raises(DefinitionError, match="unknown role 'mayor'"):
        loader.load_text(bad, "t.yaml")
    good = loader.load_text(text.replace("join: all, then: all_reported}", "join: all, then: all_reported, watchers: [council]}"),
                            "t.yaml")
    assert good.states["district_inspection"].spawn.watcher_roles(good.roles) == ("council",)
    default = loader.load_text(text, "t.yaml").states["district_inspection"].spawn
    assert default.watcher_roles(good.roles) == ("group_lead", "office")


def test_report_orgs_writes_the_roll_up_as_a_spreadsheet_with_the_same_figures(two, tmp_path):  # noqa: F811
    import openpyxl
    s, _city, _dc = two
    db = ["--db", str(s.engine.url)]
    run = CliRunner()
    out = tmp_path / "orgs.xlsx"
    r = run.invoke(cli, db + ["report", "orgs", "--as-of", "2026-02-06", "--format", "xlsx", "--output", str(out)])
    assert r.exit_code == 0, r.output
    rows = list(openpyxl.load_workbook(out).worksheets[0].iter_rows(min_row=3, values_only=True))
    tree = json.loads(run.invoke(cli, db + ["report", "orgs", "--as-of", "2026-02-06", "--format", "json"]).output)
    flat = []

    def walk(o):
        flat.append((o["name"], o["items"]["total"], o["items"]["red"], o["late_workdays"]))
        for k in o["children"]:
            walk(k)
    for o in tree:
        walk(o)
    assert [(r[0], r[2], r[7], r[9]) for r in rows] == flat
    assert [r[0] for r in rows] == ["某市人大常委会", "东城区人大常委会", "东城区青石镇人大"] and rows[2][8] == "无数据"
    assert rows[1][7] == 1 and rows[1][9] == 9  # 东城区's item: red, nine working days late by the end of 02-06
    bad = run.invoke(cli, db + ["report", "orgs", "--as-of", "2026-02-06", "--format", "xlsx"])
    assert bad.exit_code == 2 and "--output" in bad.output


def test_a_unit_with_nothing_to_count_is_no_data_unranked_not_a_red_card(two):  # noqa: F811
    """Issue 26 §4: a compared unit with no item yet shows 无数据 — neither 0 points nor a 红牌 — and takes no place."""
    from workflow import report_render
    s, _city, _dc = two
    b = service.board_for(s, "city.clerk", AS_OF)
    busy = {"g-env", "dc-env"}  # the fixture's two items
    assert {r.unit for r in b.rows if r.score is not None} == busy
    assert [r.rank for r in b.rows[:2]] == [1, 1] or sorted(r.rank for r in b.rows[:2]) == [1, 2]
    empty = b.rows[2:]
    assert empty and all(r.score is None and r.rank is None and r.colour_label == "无数据" for r in empty)
    assert all(r.colour != "red" for r in empty)
    rows, header = report_render.board_table(b)
    assert all(row[header.index("亮牌")] == "无数据" and row[header.index("综合得分")] == "—" for row in rows[2:])
    assert "无数据" in report_render.board_html(b)
