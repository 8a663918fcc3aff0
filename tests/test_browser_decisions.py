"""Decisions on the workbench (approve or send back, pass or reject, a vote) are confirmed before they are made, the
move that sends back looks unlike the one that takes the item on, and the material under review sits above them."""

from __future__ import annotations

from test_browser import browser_type_launch_args, live, person  # noqa: F401  (fixtures)

from workflow import service


def test_a_decision_asks_for_a_tick_and_the_way_back_looks_different(person, live):  # noqa: F811  (the fixtures)
    url, store, clock, (a, _b) = live  # a waits at 列入年度监督工作计划: the 主任会议 adopts it or drops it
    page = person("li.ming")
    page.goto(f"/items/{a}")
    adopt = page.locator("form.move", has=page.locator("input[name=trigger][value=adopt_plan]"))
    drop = page.locator("form.move", has=page.locator("input[name=trigger][value=drop]"))
    assert adopt.get_by_label("我已阅看本事项的材料，确认主任会议通过年度计划").count() == 1
    assert drop.get_by_role("button", name="不予立项").get_attribute("class") == "back"
    assert adopt.get_by_role("button", name="主任会议通过年度计划").get_attribute("class") == "primary"
    # a browser that ignores `required` (or a script) still cannot decide without the tick: held back, nothing moved
    drop.get_by_label("意见（必填）").fill("不予立项的理由")
    page.evaluate("document.querySelectorAll('input[name=confirm_move]').forEach(e => e.required = false)")
    drop.get_by_role("button", name="不予立项").click()
    assert "这是一项决定：请先勾选" in page.get_by_role("alert").inner_text()
    assert service.show_item(store, service.OPERATOR, a, clock.t).state == "annual_plan"
    drop = page.locator("form.move", has=page.locator("input[name=trigger][value=drop]"))
    assert drop.get_by_label("意见（必填）").input_value() == "不予立项的理由"  # what he typed is kept
    drop.get_by_label("我已阅看本事项的材料，确认不予立项").check()
    drop.get_by_role("button", name="不予立项").click()
    page.wait_for_url(f"{url}/items/{a}?ok=moved")
    assert service.show_item(store, service.OPERATOR, a, clock.t).state == "dropped"


def test_a_single_move_asks_for_no_tick(person, live):  # noqa: F811  (the fixtures)
    _url, _store, _clock, (_a, b) = live  # b waits at 选题立项: the office proposes (the 主任会议 alone may drop)
    page = person("wang.fang")
    page.goto(f"/items/{b}")
    assert page.locator("form.move").count() == 1 and page.locator("input[name=confirm_move]").count() == 0
