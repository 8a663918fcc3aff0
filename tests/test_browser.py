"""The workbench in a real Chromium (Playwright): what a group lead and the committee's staff do with a mouse.

A uvicorn server runs the app on a loopback port over a seeded SQLite file. Playwright cannot download
its own browsers on these machines: the tests drive Debian's chromium (WUZHUAN_CHROMIUM names another);
without it they skip, unless WUZHUAN_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
import uvicorn

from conftest import PW, T0, Clock, at, passwords
from workflow import service
from workflow.web import create_app

CHROMIUM = os.environ.get("WUZHUAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
REQUIRED = os.environ.get("WUZHUAN_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch arguments: Debian's Chromium, without the sandbox (CI runs as root)."""
    if not Path(CHROMIUM).exists():
        if REQUIRED:
            pytest.fail(f"WUZHUAN_REQUIRE_BROWSER=1 but there is no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk, or set WUZHUAN_CHROMIUM)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                     "--no-first-run"]}


class LiveServer:
    """The app served by uvicorn in a thread, on a free loopback port."""

    def __init__(self, app):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:  # waiting for a port to open, not for time to pass in the domain
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def live(ready_sqlite, browser_type_launch_args):
    """(server url, store, clock, (item a, item b)): a at 列入年度监督工作计划 (g-env), b at 选题立项 (g-elderly)."""
    store = ready_sqlite
    passwords(store)
    a = service.create_item(store, "wang.fang", template="special_supervision", title="大气污染防治", now=T0, group="g-env").id
    service.advance(store, "wang.fang", a, "propose", at("2026-01-06 09:00"), fields={"topic": "大气", "source": "社会关注"})
    b = service.create_item(store, "wang.fang", template="special_supervision", title="养老服务", now=T0, group="g-elderly").id
    clock = Clock(at("2026-01-07 09:00"))
    with LiveServer(create_app(store, clock)) as server:
        yield server.url, store, clock, (a, b)


@pytest.fixture
def person(browser, live):
    """Open a fresh browser context per person (their own cookies), logged in; closed at the end."""
    url = live[0]
    contexts = []

    def open_as(code: str):
        ctx = browser.new_context(base_url=url, locale="zh-CN", viewport={"width": 1280, "height": 900})
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto("/")
        assert "/login" in page.url
        page.get_by_label("用户名").fill(code)
        page.get_by_label("密码").fill(PW)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{url}/")
        return page
    yield open_as
    for ctx in contexts:
        ctx.close()


def marked(svg: str) -> list[str]:
    """The states drawn filled (the current step) in a Graphviz SVG."""
    ns = {"s": "http://www.w3.org/2000/svg"}
    return [g.find("s:title", ns).text for g in ElementTree.fromstring(svg).iterfind(".//s:g[@class='node']", ns)
            if any(p.get("fill") == "#fde68a" for p in g)]


def move_form(page, trigger: str):
    return page.locator(f"form.move:has(input[name=trigger][value={trigger}])")


def test_log_in_see_the_inbox_open_an_item_move_it_and_log_out(person, live, tmp_path):
    url, store, clock, (a, b) = live
    page = person("li.ming")
    assert page.get_by_text("李明（li.ming）").is_visible()
    inbox = page.locator("table.list tbody")
    assert inbox.get_by_role("link", name="大气污染防治").is_visible()  # the council adopts the plan
    assert inbox.get_by_role("link", name="养老服务").is_visible()  # and may drop a topic
    assert page.locator(".count.all b").inner_text() == "2"
    page.screenshot(path=tmp_path / "inbox.png", full_page=True)

    page.get_by_role("link", name="大气污染防治").click()
    page.wait_for_url(f"{url}/items/{a}")
    assert page.locator("h1").inner_text() == "大气污染防治"
    assert "列入年度监督工作计划" in page.locator(".status .step").inner_text()
    form = move_form(page, "adopt_plan")
    form.get_by_role("button", name="主任会议通过年度计划").click()  # the date is required: the browser keeps the form
    assert page.url == f"{url}/items/{a}" and service.show_item(store, service.OPERATOR, a, clock.t).version == 2
    form.locator("input[name='field:meeting_date']").fill("2026-06-25")
    form.get_by_role("button", name="主任会议通过年度计划").click()  # a decision (or 不予立项): the tick first
    assert page.url == f"{url}/items/{a}" and service.show_item(store, service.OPERATOR, a, clock.t).version == 2
    form.get_by_label("我已阅看本事项的材料，确认主任会议通过年度计划").check()
    form.get_by_role("button", name="主任会议通过年度计划").click()
    page.wait_for_url(f"{url}/items/{a}?ok=moved")
    assert page.get_by_role("status").inner_text() == "已办理。"
    assert "制定工作方案" in page.locator(".status .step").inner_text()
    if shutil.which("dot"):  # the diagram marks the step the item is at now, not a cached earlier one
        src = page.locator("img.diagram").get_attribute("src")
        svg = page.request.get(src).text()
        assert page.locator("img.diagram").evaluate("img => img.complete && img.naturalWidth > 0")
        assert "state=work_plan" in src and marked(svg) == ["work_plan"]
    assert "办理" in page.locator("ol.timeline").inner_text() and "advanced" not in page.locator("ol.timeline").inner_text()
    page.screenshot(path=tmp_path / "item.png", full_page=True)
    d = service.show_item(store, service.OPERATOR, a, clock.t)
    assert d.state == "work_plan" and d.fields["meeting_date"] == "2026-06-25"

    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{url}/login")
    page.goto(f"/items/{a}")
    assert "/login" in page.url  # the session is gone


def test_a_refused_move_says_who_may_make_it(person, live):
    url, store, clock, (a, b) = live
    service.advance(store, "li.ming", a, "adopt_plan", clock.t, fields={"meeting_date": "2026-06-25"})
    service.advance(store, "chen.jing", a, "approve_work_plan", clock.t, fields={"plan_doc": "方案"})
    page = person("zhao.hua")  # 组长 of g-env: finishes the research
    page.goto(f"/items/{a}")
    form = move_form(page, "finish_research")
    form.locator("textarea[name='field:research_report']").fill("调研报告")
    # meanwhile the office hands the group to 周强 and keeps 赵华 on as a committee member
    service.assign(store, "wang.fang", a, "group_lead", ["zhou.qiang"], clock.t, True)
    service.assign(store, "wang.fang", a, "committee", ["zhao.hua"], clock.t)
    form.get_by_role("button", name="调研检查完成").click()
    problem = page.get_by_role("alert")
    assert "专项监督小组组长（周强）" in problem.inner_text()
    assert service.show_item(store, service.OPERATOR, a, clock.t).state == "research"  # refused: nothing moved
    assert move_form(page, "finish_research").count() == 0  # and the fresh page no longer offers it


def test_two_browsers_press_the_same_move_at_once_and_it_happens_once(person, live):
    url, store, clock, (a, b) = live
    pages = [person("li.ming"), person("zheng.yu")]
    for p in pages:
        p.goto(f"/items/{a}")
        move_form(p, "adopt_plan").locator("input[name='field:meeting_date']").fill("2026-06-25")
        move_form(p, "adopt_plan").locator("input[name=confirm_move]").check()
    for p in pages:  # both forms leave before either answer comes back
        move_form(p, "adopt_plan").get_by_role("button", name="主任会议通过年度计划").click(no_wait_after=True)
    for p in pages:
        p.wait_for_load_state()
        p.locator(".notice").wait_for()
    notices = sorted(p.locator(".notice").inner_text() for p in pages)
    assert notices[0] == "已办理。" and notices[1].startswith("已被他人更新")
    d = service.show_item(store, service.OPERATOR, a, clock.t)
    assert d.state == "work_plan" and d.version == 3 and len(d.steps) == 3


def test_an_extension_requested_and_approved_by_two_people(person, live):
    url, store, clock, (a, b) = live
    wf = person("wang.fang")  # 王芳 of the office owns 选题立项 of item b
    wf.goto(f"/items/{b}")
    wf.locator("input[name=until]").fill("2026-03-31")
    wf.locator("form[action$='/extend'] input[name=reason]").fill("需补充调研")
    wf.get_by_role("button", name="申请延期").click()
    wf.wait_for_url(f"{url}/items/{b}?ok=extension")

    li = person("li.ming")
    li.get_by_role("link", name=f"#{b} 养老服务").click()  # 待审批的延期申请 in the council's inbox
    li.wait_for_url(f"{url}/items/{b}")
    decide = li.locator("form[action$='/decide']")
    assert "需补充调研" in decide.inner_text() and "2026-03-31" in decide.inner_text()
    decide.locator("input[name=comment]").fill("同意")
    decide.get_by_role("button", name="同意", exact=True).click()
    li.wait_for_url(f"{url}/items/{b}?ok=decided")
    assert "2026-03-31 24:00" in li.locator(".status").inner_text()
    wf.reload()
    assert "2026-03-31 24:00" in wf.locator(".status").inner_text()  # the requester sees the new due time
