"""Issue 27 on the workbench and the API: a department uploads its 整改报告 and photos with its move, the group lead
opens them from the item page; downloads are attachments with a safe name, only for who may see the item."""

from __future__ import annotations

import re

from starlette.testclient import TestClient
from test_documents import JPG, NOW, PDF, PNG, _counts, doc  # noqa: F401  (doc: the fixture)

from conftest import PW, Clock, passwords
from workflow import service
from workflow.service import accounts
from workflow.web import create_app


def _signed_in(app, code: str) -> TestClient:
    c = TestClient(app, base_url="http://testserver")
    csrf = re.search(r'name="csrf" value="([^"]*)"', c.get("/login").text).group(1)
    assert c.post("/login", data={"username": code, "password": PW, "csrf": csrf}, follow_redirects=False).status_code == 303
    return c


def _form(c: TestClient, item: int) -> dict:
    html = c.get(f"/items/{item}").text
    assert 'type="file" name="file:report_file"' in html and 'enctype="multipart/form-data"' in html
    return {"csrf": re.search(r'name="csrf" value="([^"]*)"', html).group(1),
            "version": re.search(r'name="version" value="(\d+)"', html).group(1), "trigger": "report",
            "field:measures_report": "已整改"}


def test_a_department_uploads_in_the_browser_and_the_group_lead_opens_the_files(doc):  # noqa: F811
    s, item = doc
    passwords(s)
    app = create_app(s, Clock(NOW))
    dept = _signed_in(app, "huang.bo")
    r = dept.post(f"/items/{item}/advance", data=_form(dept, item), follow_redirects=False,
                  files=[("file:report_file", ("整改报告.pdf", PDF, "application/pdf")),
                         ("file:evidence", ("现场1.jpg", JPG, "image/jpeg")), ("file:evidence", ("现场2.png", PNG, "image/png"))])
    assert r.status_code == 303, r.text[:300]
    lead = _signed_in(app, "zhao.hua")
    page = lead.get(f"/items/{item}").text
    assert "文件材料（3）" in page and "整改报告.pdf" in page and "现场2.png" in page and 'class="thumb"' in page
    ids = [int(x) for x in re.findall(rf'href="/items/{item}/files/(\d+)" download', page)]
    got = lead.get(f"/items/{item}/files/{ids[0]}")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-disposition"].startswith("attachment;") and "UTF-8''" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff" and got.headers["content-type"] == "application/octet-stream"
    shown = lead.get(f"/items/{item}/files/{ids[2]}?view=1")
    assert shown.headers["content-type"] == "image/png" and shown.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in shown.headers["content-security-policy"]
    outsider = _signed_in(app, "xu.na")  # another department's clerk
    assert outsider.get(f"/items/{item}/files/{ids[0]}").status_code == 404
    assert lead.get(f"/items/{item}/files/99999").status_code == 404


def test_a_hostile_file_in_the_browser_is_refused_with_its_reason_and_nothing_is_kept(doc):  # noqa: F811
    s, item = doc
    passwords(s)
    app = create_app(s, Clock(NOW))
    dept = _signed_in(app, "huang.bo")
    r = dept.post(f"/items/{item}/advance", data=_form(dept, item),
                  files=[("file:report_file", ("整改报告.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf"))])
    assert r.status_code == 400 and "内容不是可接收的文件类型" in r.text
    assert _counts(s) == (0, 0, 0) and service.show_item(s, service.OPERATOR, item, NOW).state == "rectifying"


def test_the_api_takes_a_move_with_files_as_multipart_and_serves_them(doc):  # noqa: F811
    import json
    s, item = doc
    app = create_app(s, Clock(NOW))
    api = TestClient(app, base_url="http://testserver")
    token = {"Authorization": f"Bearer {accounts.issue_token(s, 'huang.bo', NOW, by='operator:test').token}"}
    r = api.post(f"/api/items/{item}/advance", headers=token,
                 data={"trigger": "report", "expect_version": "1", "fields": json.dumps({"measures_report": "已整改"})},
                 files=[("report_file", ("整改报告.pdf", PDF, "application/pdf")), ("evidence", ("现场.png", PNG, "image/png"))])
    assert r.status_code == 200, r.text
    listed = api.get(f"/api/items/{item}/files", headers=token).json()
    assert [(f["name"], f["type"], f["field"]) for f in listed] == [("整改报告.pdf", "pdf", "report_file"), ("现场.png", "png", "evidence")]
    got = api.get(f"/api/items/{item}/files/{listed[1]['id']}", headers=token)
    assert got.status_code == 200 and got.content == PNG
    other = {"Authorization": f"Bearer {accounts.issue_token(s, 'xu.na', NOW, by='operator:test').token}"}
    assert api.get(f"/api/items/{item}/files/{listed[1]['id']}", headers=other).status_code == 404
    bad = api.post(f"/api/items/{item}/advance", headers=token, data={"trigger": "accept"},
                   files=[("report_file", ("x.pdf", b"<html>", "application/pdf"))])
    assert bad.status_code in (400, 403, 409), bad.text
