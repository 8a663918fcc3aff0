"""The workbench on a phone (390 px): every page without sideways scrolling; 立项 in the browser, as the office would."""

from __future__ import annotations

import pytest
from test_browser import browser_type_launch_args, live  # noqa: F401  (fixtures)

from conftest import PW
from workflow import service

PAGES = {  # person → the pages he opens
    "wang.fang": ["/", "/done", "/involved", "/items/new", "/items/new?template=special_supervision", "/items/{a}",
                  "/definitions", "/board", "/orgs", "/outbox", "/activities/new"],
    "zhao.hua": ["/", "/items/{a}", "/involved", "/search?q=大气", "/news"],
    "huang.bo": ["/", "/items/new"],
    "feng.xia": ["/proposals", "/proposals/new", "/activities"],  # a deputy on his phone (issue 29)
}


def phone(browser, url: str, code: str, width: int = 390, **options):
    """A logged-in browser context for the person, 390 px wide unless told (a phone's screen)."""
    ctx = browser.new_context(base_url=url, locale="zh-CN", viewport={"width": width, "height": 844}, **options)
    page = ctx.new_page()
    page.goto("/login")
    page.get_by_label("用户名").fill(code)
    page.get_by_label("密码").fill(PW)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}/")
    return ctx, page


@pytest.mark.parametrize("code", sorted(PAGES))
def test_no_page_scrolls_sideways_on_a_390_px_phone(browser, live, code, tmp_path):  # noqa: F811  (the fixture)
    url, _store, _clock, (a, _b) = live
    ctx, page = phone(browser, url, code)
    wide = {}
    for path in PAGES[code]:
        page.goto(path.format(a=a))
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > width[1]:
            wide[path] = width
        page.screenshot(path=tmp_path / f"{path.strip('/').replace('/', '_') or 'inbox'}.png", full_page=True)
    ctx.close()
    assert wide == {}, f"pages wider than the screen (scrollWidth, innerWidth): {wide}"


def test_the_office_starts_an_item_on_a_phone_and_lands_on_its_page(browser, live):  # noqa: F811  (the fixture)
    url, store, clock, _items = live
    ctx, page = phone(browser, url, "wang.fang")
    page.get_by_role("link", name="新建事项").first.click()
    page.get_by_role("link", name="专项监督（五专全链条）").click()
    page.get_by_label("标题（必填）").fill("农村饮水安全")
    page.get_by_label("专项监督小组").select_option(label="第四专项监督小组（乡村振兴）")
    page.get_by_label("监督议题").fill("饮水安全")
    page.get_by_role("button", name="立项").click()
    page.wait_for_url(f"{url}/items/*?ok=created")
    assert page.locator("h1").inner_text() == "农村饮水安全" and "已立项" in page.get_by_role("status").inner_text()
    item_id = int(page.url.split("/items/")[1].split("?")[0])
    shown = service.show_item(store, service.OPERATOR, item_id, clock.t)
    assert shown.group == "g-rural" and shown.fields.get("topic") == "饮水安全"
    page.reload()  # a reload shows the page again and creates nothing more
    assert len([i for i in service.list_items(store, service.OPERATOR, clock.t) if i.title == "农村饮水安全"]) == 1
    ctx.close()


_SMALL_TARGETS = """() => {
  const small = [];
  const seen = new Set();
  for (const el of document.querySelectorAll('button, select, input:not([type=hidden]), header nav a, .pages a')) {
    const target = el.type === 'checkbox' || el.type === 'radio' ? (el.closest('label') || el) : el;
    if (seen.has(target)) continue;
    seen.add(target);
    const r = target.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not shown
    if (r.height < 44) small.push(`${target.tagName.toLowerCase()} ${(target.innerText || target.name || '').trim().slice(0, 20)}: ${Math.round(r.height)}px`);
  }
  return small;
}"""


@pytest.mark.parametrize("code", sorted(PAGES))
def test_every_control_on_a_phone_is_a_44_px_touch_target(browser, live, code):  # noqa: F811  (the fixture)
    """Buttons, fields, menus, page numbers and checkboxes (with their labels) are at least 44 px high at 390 px."""
    url, _store, _clock, (a, _b) = live
    ctx, page = phone(browser, url, code)
    small = {}
    for path in PAGES[code]:
        page.goto(path.format(a=a))
        if found := page.evaluate(_SMALL_TARGETS):
            small[path] = found
    ctx.close()
    assert small == {}, f"controls under 44 px: {small}"
