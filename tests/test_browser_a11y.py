"""Accessibility: axe-core (npm) run in Chromium on every page, as the people who open them; no critical or serious violation."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from test_browser import REQUIRED, browser_type_launch_args, live  # noqa: F401  (fixtures)
from test_browser_phone import PAGES, phone

from workflow import service

AXE = Path(os.environ.get("WUZHUAN_AXE", Path(__file__).parent.parent / "node_modules" / "axe-core" / "axe.min.js"))
SERIOUS = ("critical", "serious")


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        if REQUIRED:
            pytest.fail(f"WUZHUAN_REQUIRE_BROWSER=1 but axe-core is missing at {AXE} (npm ci, in the project's folder)")
        pytest.skip(f"the accessibility tests need axe-core at {AXE} (run npm ci in the project's folder)")
    return AXE.read_text(encoding="utf-8")


def violations(page, axe_source: str) -> list[str]:
    """axe's critical and serious findings on the page as it stands: 'rule (impact): target …' lines."""
    page.add_script_tag(content=axe_source)
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                          ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))")
    return [f"{v['id']} ({v['impact']}): {', '.join(v['nodes'][:3])}" for v in found if v["impact"] in SERIOUS]


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("code", sorted(PAGES))
def test_no_page_has_a_critical_or_serious_accessibility_violation(browser, live, axe_source, code, width):  # noqa: F811  (the fixture)
    url, _store, _clock, (a, _b) = live
    ctx, page = phone(browser, url, code, width=width, bypass_csp=True)  # axe is injected
    found = {}
    for path in PAGES[code]:
        page.goto(path.format(a=a))
        if bad := violations(page, axe_source):
            found[path] = bad
    ctx.close()
    assert found == {}, f"axe-core's critical and serious violations, page by page: {found}"


def test_the_login_page_is_accessible_and_every_page_has_a_skip_link(browser, live, axe_source):  # noqa: F811  (the fixture)
    url = live[0]
    ctx = browser.new_context(base_url=url, locale="zh-CN", bypass_csp=True)
    page = ctx.new_page()
    page.goto("/login")
    assert violations(page, axe_source) == []
    ctx.close()
    ctx, page = phone(browser, url, "wang.fang", width=1280)
    page.keyboard.press("Tab")  # the first thing a keyboard reaches is the skip link, and it leads to the content
    focused = page.evaluate("[document.activeElement.textContent.trim(), document.activeElement.getAttribute('href')]")
    assert focused == ["跳到正文", "#main"] and page.locator("#main").count() == 1
    ctx.close()


def test_a_late_items_slips_and_a_missing_page_are_accessible(browser, live, axe_source):  # noqa: F811  (the fixture)
    url, store, clock, (_a, b) = live
    service.sweep(store, clock.t + timedelta(days=60))  # 选题立项 of b was due 2026-01-26: every rung has fired
    slips = service.reads.item_slips(store, "wang.fang", b)
    assert "red" in {s.rung for s in slips}
    ctx, page = phone(browser, url, "wang.fang", width=390, bypass_csp=True)
    found = {}
    for path in [f"/items/{b}", *(f"/items/{b}/slips/{s.seq}" for s in slips), "/items/999999"]:
        page.goto(path)
        if bad := violations(page, axe_source):
            found[path] = bad
    ctx.close()
    assert found == {}, f"axe-core's critical and serious violations, page by page: {found}"
