"""Issue 26: the board and the 台账 as each organisation's staff may read them — the board over the units of his 人大
and those below it (counts), the 台账 over his own 人大's items only — on the workbench, the API and the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_orgs import two  # noqa: F401  (the fixture: the demo's city with 东城区 as an organisation of its own)

from cli import cli
from conftest import T0
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
