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
    css = c.get("/static/slip.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and "--rung" in css.text


def test_a_rung_with_attach_slip_mails_its_slip_as_a_pdf_and_the_others_attach_nothing(ready, tmp_path):
    """Issue 27 §5: `attach_slip: true` on the red rung: its e-mail carries the 红色督办单's PDF; blue and yellow do not."""
    import email
    from email import policy

    from pypdf import PdfReader

    from notifier.transports import MemoryTransport
    from workflow import templates

    s = ready
    text = templates.builtin("special_supervision").read_text("utf-8").replace(
        "notify: [owner, group_lead, committee, council], notice: duban_red}",
        "notify: [owner, group_lead, committee, council], notice: duban_red, attach_slip: true}", 1)
    assert "attach_slip: true" in text
    path = tmp_path / "special_supervision.yaml"
    path.write_text(text, encoding="utf-8")
    service.publish(s, ADMIN, path, T0)
    item = service.create_item(s, ADMIN, template="special_supervision", title="附督办单", now=T0, group="g-env").id
    for days in (22, 27, 60):  # due 2026-01-26 24:00: blue, then yellow, then red
        service.sweep(s, T0 + timedelta(days=days))
    mail = MemoryTransport()
    service.deliver(s, mail, LATE)
    mails = [email.message_from_bytes(bytes(m), policy=policy.default) for m in mail.sent]
    mine = [m for m in mails if "附督办单" in m.get_body(("plain",)).get_content()]
    by_rung = {m["Subject"]: [p for p in m.iter_attachments()] for m in mine}
    red = next(x for x in service.reads.item_slips(s, "li.ming", item) if x.rung == "red")
    (attached,) = next(a for subject, a in by_rung.items() if "红色" in subject)
    assert attached.get_content_type() == "application/pdf" and attached.get_filename() == f"红色督办单{red.no}.pdf"
    pdf = attached.get_content()
    assert pdf.startswith(b"%PDF") and red.no.replace(" ", "") in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "")
    assert all(not a for subject, a in by_rung.items() if "红色" not in subject) and len(by_rung) == 4  # 交办, 蓝, 黄, 红


def test_attach_slip_on_a_rung_that_issues_no_slip_is_refused_where_it_is_written():
    from workflow import loader, templates
    from workflow.errors import DefinitionError

    text = templates.builtin("special_supervision").read_text("utf-8").replace(
        "notify: [owner], notice: reminder}", "notify: [owner], notice: reminder, attach_slip: true}", 1)
    with pytest.raises(DefinitionError) as e:
        loader.load_text(text, "special_supervision.yaml")
    assert any("attach_slip" in str(p) and "special_supervision.yaml:" in str(p) for p in e.value.problems), e.value.problems
