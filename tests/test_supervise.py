"""Issue 29 §2, 我监督: an activity is announced, deputies sign up, the organiser confirms attendance once its day has
come (never his own); only then does it count, as the item's activity; on both databases and at the command line."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from cli import cli
from conftest import T0, at
from workflow import service
from workflow.errors import Conflict, InvalidInput, NotFound, NotPermitted
from workflow.service import supervise


@pytest.fixture
def item(ready):
    return ready, service.create_item(ready, "wang.fang", template="special_supervision", title="大气污染防治", now=T0,
                                      group="g-env").id


def attended(store, item_id: int) -> list[list[str]]:
    """The deputies of each activity recorded on the item (what the board counts)."""
    from sqlalchemy import text

    with store.read() as tx:
        rows = tx.execute(text("SELECT a.id, p.code FROM activities a JOIN activity_deputies d ON d.activity_id = a.id "
                               "JOIN people p ON p.id = d.person_id WHERE a.item_id = :i ORDER BY a.id, p.code"),
                          {"i": item_id}).all()
    out: dict[int, list[str]] = {}
    for aid, code in rows:
        out.setdefault(aid, []).append(code)
    return list(out.values())


def test_an_announced_inspection_counts_only_once_its_attendance_is_confirmed(item):
    s, i = item
    a = supervise.announce(s, "zhao.hua", kind="视察", day="2026-01-20", place="城东污水处理厂", item=i, now=T0)
    assert (a.kind, a.day, a.place, a.item, a.confirmed) == ("视察", "2026-01-20", "城东污水处理厂", i, None)
    assert supervise.signup(s, "feng.xia", a.id, T0).signed_up  # a deputy of the city, on the g-env group
    with pytest.raises(Conflict, match="您已报名"):
        supervise.signup(s, "feng.xia", a.id, T0)
    with pytest.raises(NotPermitted, match="不是本级人大代表"):
        supervise.signup(s, "huang.bo", a.id, T0)  # a department's clerk, who reads the item, is no deputy
    with pytest.raises(InvalidInput, match="举行后才能确认签到"):
        supervise.confirm(s, "zhao.hua", a.id, ["feng.xia"], T0)
    assert attended(s, i) == []  # signed up is not attended: nothing counts yet
    day = at("2026-01-20 18:00")
    with pytest.raises(NotPermitted, match="由发布人 zhao.hua 或本级常委会办公室确认"):
        supervise.confirm(s, "huang.bo", a.id, ["feng.xia"], day)
    done = supervise.confirm(s, "zhao.hua", a.id, ["feng.xia", "qin.lei"], day)  # 秦磊 came without signing up
    assert {(p.code, p.signed_up, p.attended) for p in done.people} == {("feng.xia", True, True), ("qin.lei", False, True)}
    assert attended(s, i) == [["feng.xia", "qin.lei"]]  # recorded on the item: the board counts it
    with pytest.raises(Conflict, match="签到已于"):
        supervise.confirm(s, "zhao.hua", a.id, ["feng.xia"], day)
    with pytest.raises(Conflict, match="已经举行"):
        supervise.signup(s, "qin.lei", a.id, day + timedelta(days=1))
    mine = [x for x in supervise.list_announcements(s, "feng.xia") if x.id == a.id]
    assert mine and mine[0].attended
    assert service.verify_audit(s).ok


def test_nobody_confirms_his_own_attendance_and_a_city_activity_needs_its_staff(item):
    s, i = item
    a = supervise.announce(s, "wang.fang", kind="座谈", day="2026-01-05", now=T0)  # for the city, no item
    assert a.item is None
    supervise.signup(s, "feng.xia", a.id, T0)
    with pytest.raises(NotPermitted, match="不能确认自己的签到"):
        supervise.confirm(s, "wang.fang", a.id, ["wang.fang", "feng.xia"], T0)
    assert supervise.confirm(s, "wang.fang", a.id, ["feng.xia"], T0).confirmed
    with pytest.raises(NotPermitted, match="不能发布活动"):
        supervise.announce(s, "feng.xia", kind="座谈", day="2026-01-09", now=T0)
    with pytest.raises(InvalidInput, match="活动类别“参观”应是"):
        supervise.announce(s, "wang.fang", kind="参观", day="2026-01-09", now=T0)
    with pytest.raises(NotFound):
        supervise.signup(s, "feng.xia", 999, T0)


def test_the_command_line_announces_signs_up_and_confirms(ready_sqlite):
    s = ready_sqlite
    i = service.create_item(s, "wang.fang", template="special_supervision", title="大气", now=T0, group="g-env").id
    url = s.engine.url.render_as_string(hide_password=False)
    run = lambda *a: CliRunner().invoke(cli, ["--db", url, *a], obj={}, env={"WUZHUAN_CLOCK_SIMULATION": "1"})  # noqa: E731
    r = run("activities", "announce", "--kind", "列席", "--date", "2026-01-08", "--item", str(i), "--actor", "zhao.hua",
            "--now", "2026-01-06T09:00", "--json")
    assert r.exit_code == 0, r.output
    aid = json.loads(r.output)["id"]
    assert run("activities", "signup", str(aid), "--actor", "feng.xia", "--now", "2026-01-06T10:00").exit_code == 0
    r = run("activities", "confirm", str(aid), "--deputy", "feng.xia", "--actor", "zhao.hua", "--now", "2026-01-07T09:00")
    assert r.exit_code == 2 and "举行后才能确认签到" in r.output
    r = run("activities", "confirm", str(aid), "--deputy", "feng.xia", "--actor", "zhao.hua", "--now", "2026-01-08T18:00")
    assert r.exit_code == 0 and "已签到：冯霞" in r.output
    r = run("activities", "list", "--actor", "feng.xia")
    assert r.exit_code == 0 and "列席" in r.output
