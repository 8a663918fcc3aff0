"""Issue 27 in a real Chromium: a department uploads its 整改报告 and two photos with its move; the group lead opens
them from the item page (the photo's thumbnail drawn, the report downloaded byte for byte)."""

from __future__ import annotations

import struct
import zlib

import pytest
from test_browser import LiveServer, browser_type_launch_args  # noqa: F401  (Debian's Chromium)
from test_browser_a11y import axe_source, violations  # noqa: F401  (axe-core)
from test_documents import PDF, TEMPLATE

from conftest import ADMIN, PW, T0, Clock, at, passwords
from workflow import service
from workflow.web import create_app


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG (the browser draws it)."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture
def live_doc(ready_sqlite, tmp_path, browser_type_launch_args):  # noqa: F811
    store = ready_sqlite
    path = tmp_path / "doc_rectification.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    service.publish(store, ADMIN, path, T0)
    item = service.create_item(store, ADMIN, template="doc_rectification", title="关于水污染防治的整改", now=T0, group="g-env").id
    passwords(store)
    with LiveServer(create_app(store, Clock(at("2026-01-08 09:00")))) as server:
        yield server.url, store, item


def test_a_department_uploads_its_report_and_photos_and_the_group_lead_opens_them(browser, live_doc, axe_source, tmp_path):  # noqa: F811
    url, store, item = live_doc
    files = {"report": tmp_path / "整改报告.pdf", "a": tmp_path / "现场1.png", "b": tmp_path / "现场2.png"}
    files["report"].write_bytes(PDF)
    files["a"].write_bytes(png(120, 80, (40, 140, 90)))
    files["b"].write_bytes(png(120, 80, (40, 90, 160)))

    def open_as(code: str):
        ctx = browser.new_context(base_url=url, locale="zh-CN", viewport={"width": 390, "height": 844}, accept_downloads=True,
                                  bypass_csp=True)  # axe is injected
        page = ctx.new_page()
        page.goto("/login")
        page.get_by_label("用户名").fill(code)
        page.get_by_label("密码").fill(PW)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{url}/")
        page.goto(f"/items/{item}")
        return ctx, page

    ctx, page = open_as("huang.bo")
    assert violations(page, axe_source) == []  # the form with its file inputs
    form = page.locator("form.move:has(input[name=trigger][value=report])")
    form.locator("textarea[name='field:measures_report']").fill("已按审议意见完成整改")
    form.locator("input[name='file:report_file']").set_input_files(str(files["report"]))
    form.locator("input[name='file:evidence']").set_input_files([str(files["a"]), str(files["b"])])
    form.get_by_role("button", name="报送整改情况").click()
    page.wait_for_url(f"{url}/items/{item}?ok=moved")
    page.screenshot(path=tmp_path / "uploaded.png", full_page=True)
    ctx.close()
    assert [f.name for f in service.item_files(store, service.OPERATOR, item)] == ["整改报告.pdf", "现场1.png", "现场2.png"]

    ctx, page = open_as("zhao.hua")
    section = page.locator("#files")
    assert "文件材料（3）" in section.inner_text() and "黄波 上传于" in section.inner_text()
    thumbs = section.locator("img.thumb")
    assert thumbs.count() == 2
    thumbs.first.scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.querySelectorAll('img.thumb')].every(i => i.complete && i.naturalWidth === 120)")
    with page.expect_download() as got:
        section.get_by_role("link", name="整改报告.pdf").click()
    saved = tmp_path / "downloaded.pdf"
    got.value.save_as(saved)
    assert got.value.suggested_filename == "整改报告.pdf" and saved.read_bytes() == PDF
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone: the menu folds, the list is cards
    page.screenshot(path=tmp_path / "opened.png", full_page=True)
    assert violations(page, axe_source) == []  # the files with their thumbnails
    ctx.close()
