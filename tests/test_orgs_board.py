"""Issue 26 §4: a scorecard that compares organisations of a level (`units: {organisations: district}`) — each item
counted once, for the 人大 it belongs to; a district with nothing to count shows 无数据; each office reads its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_orgs import _file, two  # noqa: F401  (the fixture)

from conftest import ROOT, T0
from workflow import service
from workflow.errors import DefinitionError, InvalidInput


def _with_west(data):
    """The city, 东城区 (the fixture's) and 西城区, which has an office and nothing else yet."""
    data["organisations"].append({"code": "xc", "name": "西城区人大常委会", "level": "district", "parent": "city"})
    data["people"].append({"code": "xc.clerk", "name": "西城秘书", "email": "xc.clerk@xc.example.gov.cn"})
    data["units"].append({"code": "xc-office", "name": "西城区人大常委会办公室", "kind": "office", "organisation": "xc",
                          "applies_to_all": True, "members": [{"person": "xc.clerk", "role": "office"}]})


@pytest.fixture
def districts(two, tmp_path):  # noqa: F811  (the fixture)
    store, city, dc = two
    service.import_people(store, "wang.fang", _file(tmp_path, _with_west), T0)
    second = service.create_item(store, "dc.clerk", template="special_supervision", title="东城区老旧小区改造", now=T0,
                                 group="dc-env").id
    service.advance(store, "dc.clerk", dc, "propose", T0 + timedelta(hours=1), fields={"topic": "河道", "source": "社会关注"})
    card = tmp_path / "districts.yaml"
    text = (ROOT / "definitions" / "scorecards" / "251.yaml").read_text("utf-8")
    card.write_text(text.replace("units: group ", "units: {organisations: district} ", 1), encoding="utf-8")
    return store, city, dc, second, card


def test_an_organisations_board_counts_each_district_s_own_items_and_says_no_data_for_none(districts):
    store, _city, _dc, _second, card = districts
    b = service.board(store, "2026-01-05", card_path=card)
    rows = {r.unit: r for r in b.rows}
    assert set(rows) == {"dc", "xc"}  # the districts; the city (the root) is not one of them
    dc = rows["dc"]
    assert dc.unit_name == "东城区人大常委会" and dc.items == 2  # the city's item is not 东城's
    assert dc.judged_steps == 1 and dc.on_time_steps == 1 and dc.lights == {"green": 2, "yellow": 0, "red": 0}
    assert dc.score is not None and dc.rank == 1
    xc = rows["xc"]
    assert xc.items == 0 and xc.score is None and xc.rank is None and xc.colour_label == "无数据"  # not 0, not 红牌


def test_each_office_reads_the_organisations_it_looks_over_and_nobody_scores_them(districts):
    store, _city, _dc, _second, card = districts
    assert [r.unit for r in service.board_for(store, "dc.clerk", "2026-01-05", card_path=card).rows] == ["dc"]
    assert {r.unit for r in service.board_for(store, "city.clerk", "2026-01-05", card_path=card).rows} == {"dc", "xc"}
    assert [r.unit for r in service.board_for(store, "xc.clerk", "2026-01-05", card_path=card).rows] == ["xc"]
    assert service.units_compared(store, card) == []
    with pytest.raises(InvalidInput, match="比较的是各县（区）人大"):
        service.set_score(store, "li.ming", "dc", 90, T0, card_path=card)
    group_board = service.board(store, "2026-01-05")  # the built-in card still compares the groups
    assert "g-env" in {r.unit for r in group_board.rows} and "dc" not in {r.unit for r in group_board.rows}


def test_a_scorecard_naming_an_unknown_level_is_a_located_error(tmp_path):
    from workflow import scorecard

    text = (ROOT / "definitions" / "scorecards" / "251.yaml").read_text("utf-8")
    with pytest.raises(DefinitionError, match=r":8:"):
        scorecard.load_text(text.replace("units: group ", "units: {organisations: county} ", 1), "bad.yaml")
