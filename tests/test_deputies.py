"""Issue 29 §1: the deputies' registry — mandates of five levels from YAML and CSV people files, all or nothing with
located problems, and `deputies list` as the staff read it."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from cli import cli
from conftest import ROOT, T0
from workflow import service
from workflow.errors import FileError, NotPermitted
from workflow.service import deputies

PEOPLE = ROOT / "workflow" / "demo_people.yaml"


def _yaml(tmp_path, mandates: dict, name: str = "people.yaml") -> str:
    """The demo's directory with `mandates` (person code → his `deputy:`) added."""
    data = yaml.safe_load(PEOPLE.read_text(encoding="utf-8"))
    for p in data["people"]:
        if p["code"] in mandates:
            p["deputy"] = mandates[p["code"]]
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def test_mandates_of_several_levels_are_imported_and_listed(ready, tmp_path):
    s = ready
    service.import_people(s, "wang.fang", _yaml(tmp_path, {
        "feng.xia": [{"level": "city", "constituency": "东城区", "team": "第三代表小组", "station": "青石镇代表联络站",
                      "term": 17, "since": "2022-01-10"}, {"level": "township", "constituency": "青石镇", "term": 19}],
        "zhu.hong": {"level": "national", "constituency": "江苏省", "term": 14}}), T0)
    rows = deputies.list_deputies(s, service.OPERATOR)
    assert [(r.code, r.level, r.term) for r in rows] == [("feng.xia", "city", 17), ("feng.xia", "township", 19),
                                                         ("zhu.hong", "national", 14)]
    city = rows[0]
    assert (city.level_label, city.constituency, city.team, city.station, city.since) == (
        "市", "东城区", "第三代表小组", "青石镇代表联络站", "2022-01-10")
    assert [r.code for r in deputies.list_deputies(s, service.OPERATOR, level="national")] == ["zhu.hong"]
    # the next file names feng.xia's mandates again: his become those; zhu.hong, unnamed there, keeps his
    service.import_people(s, "wang.fang", _yaml(tmp_path, {"feng.xia": {"level": "county", "term": 18}}, "p2.yaml"), T0)
    assert [(r.code, r.level) for r in deputies.list_deputies(s, service.OPERATOR)] == [("feng.xia", "county"),
                                                                                      ("zhu.hong", "national")]


def test_the_staff_read_the_registry_and_nobody_else(ready, tmp_path):
    s = ready
    service.import_people(s, "wang.fang", _yaml(tmp_path, {"feng.xia": {"level": "city", "term": 17}}), T0)
    assert [r.code for r in deputies.list_deputies(s, "wang.fang")] == ["feng.xia"]  # the office
    with pytest.raises(NotPermitted, match="代表名册仅各级人大常委会办公室和主任会议可看"):
        deputies.list_deputies(s, "feng.xia")
    assert deputies.list_deputies(s, service.OPERATOR, org="nowhere") == []


@pytest.mark.parametrize("mandate, says", [
    ({"level": "village"}, "level 'village' is not one of national, provincial, city, county, township"),
    ({"level": "city", "term": 0}, "term 0 is not a number from 1 to 99"),
    ({"level": "city", "since": "2022-13-01"}, "since '2022-13-01' is not a date"),
    ({"level": "city", "since": "2024-01-01", "until": "2023-01-01"}, "until 2023-01-01 is before since 2024-01-01"),
    ([{"level": "city", "term": 17}, {"level": "city", "term": 17}], "deputy level city, term 17, is given twice"),
    ({"level": "city", "party": "x"}, "unknown key 'party'"),
    ({"level": "city", "team": "第一\n小组"}, "control or direction-override"),
])
def test_a_wrong_mandate_is_a_located_problem_and_imports_nothing(ready, tmp_path, mandate, says):
    s = ready
    before = deputies.list_deputies(s, service.OPERATOR)
    with pytest.raises(FileError, match=r"people\.yaml:\d+:\d+: person 'feng\.xia': deputy") as e:
        service.import_people(s, "wang.fang", _yaml(tmp_path, {"feng.xia": mandate}), T0)
    assert says in str(e.value)
    assert deputies.list_deputies(s, service.OPERATOR) == before


def test_a_csv_gives_one_level_a_row_and_the_command_lists_them(ready, tmp_path, seeded_sqlite):
    s = ready
    head = "person,name,email,unit,role,deputy_level,deputy_constituency,deputy_term\n"
    rows = ("feng.xia,冯霞,,deputies,deputy,city,东城区,17\n"
            "feng.xia,冯霞,,g-env,deputy,city,东城区,17\n"  # the same mandate on each membership row: once
            "feng.xia,冯霞,,,,township,青石镇,19\n")
    path = tmp_path / "d.csv"
    path.write_text(head + rows, encoding="utf-8")
    service.import_people(s, "wang.fang", path, T0)
    assert [(r.level, r.constituency) for r in deputies.list_deputies(s, service.OPERATOR)] == [
        ("city", "东城区"), ("township", "青石镇")]
    bad = tmp_path / "bad.csv"
    bad.write_text(head + "feng.xia,冯霞,,,,city,西城区,17\nfeng.xia,冯霞,,,,city,东城区,17\n"
                   "zhu.hong,朱红,,,,,东城区,\n", encoding="utf-8")
    with pytest.raises(FileError) as e:
        service.import_people(s, "wang.fang", bad, T0)
    assert "bad.csv:3:1: person 'feng.xia': deputy level city is given twice, differently" in str(e.value)
    assert "bad.csv:4:1: person 'zhu.hong': deputy_constituency given without deputy_level" in str(e.value)
    if s.engine.dialect.name == "sqlite":
        url = s.engine.url.render_as_string(hide_password=False)
        r = CliRunner().invoke(cli, ["--db", url, "deputies", "list", "--level", "township", "--json"], obj={})
        assert r.exit_code == 0, r.output
        assert json.loads(r.output) == [{"code": "feng.xia", "name": "冯霞", "active": True, "level": "township",
                                         "level_label": "乡镇", "constituency": "青石镇", "team": None, "station": None,
                                         "term": 19, "since": None, "until": None}]
