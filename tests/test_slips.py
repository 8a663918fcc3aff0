"""Issue 27 §5: each 督办单 the ladder issues opens on the workbench as a document — 发文字号, 标题, 主送, 抄送, 事由,
限期, 落款, 日期 — to print, or as a PDF, for whoever may see the item."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from conftest import ADMIN, PW, T0, Clock, passwords
from workflow import service
from workflow.errors import NotFound
from workflow.web import create_app

LATE = T0 + timedelta(days=60)  # 选题立项 was due 2026-01-26: the red rung has fired


@pytest.fixture
def late(ready):
    item = service.create_item(ready, ADMIN, template="special_supervision", title="《大气污染防治法》实施情况", now=T0,
                               group="g-env").id
    service.sweep(ready, LATE)
    return ready, item


def test_the_red_slip_reads_as_a_document_with_its_number_readers_reason_and_limit(late):
    s, item = late
    slips = service.reads.item_slips(s, "li.ming", item)
    red = next(x for x in slips if x.rung == "red")
    assert re.fullmatch(r".*〔2026〕.*\d+号", red.no), red.no
    assert red.title == "红色督办单" and red.issuer == s.settings.org_name and red.date == "2026年3月6日"
    assert red.to and all("（" in t for t in red.to)  # 主送: names with their roles
    assert "《大气污染防治法》实施情况" in red.reason and "选题立项" in red.reason or red.step_label in red.reason
    assert red.limit  # the new 限期 the red rung sets
    with pytest.raises(NotFound):
        service.reads.slip(s, "xu.na", item, red.seq)  # a department that holds no role on the item
    with pytest.raises(NotFound, match="督办单"):
        service.reads.slip(s, "li.ming", item, 999999)


def test_the_council_opens_prints_and_downloads_the_red_slip_as_a_pdf(late):
    from pypdf import PdfReader
    s, item = late
    passwords(s)
    app = create_app(s, Clock(LATE))
    c = TestClient(app, base_url="http://testserver")
    csrf = re.search(r'name="csrf" value="([^"]*)"', c.get("/login").text).group(1)
    assert c.post("/login", data={"username": "li.ming", "password": PW, "csrf": csrf}, follow_redirects=False).status_code == 303
    page = c.get(f"/items/{item}").text
    link = re.search(rf'href="(/items/{item}/slips/(\d+))">红色督办单', page)
    assert link, page[:2000]
    doc = c.get(link.group(1))
    red = next(x for x in service.reads.item_slips(s, "li.ming", item) if x.rung == "red")
    assert doc.status_code == 200 and "红色督办单" in doc.text and red.no in doc.text and "主送" in doc.text
    assert "data-print" in doc.text and 'href="/static/slip.css"' in doc.text
    pdf = c.get(link.group(1) + ".pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "红色督办单" in text.replace(" ", "") and red.no.replace(" ", "") in text.replace(" ", "")
    assert c.get(f"/items/{item}/slips/999999").status_code == 404
