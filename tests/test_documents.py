"""Issue 27: documents. A file field takes files judged by their content, kept by SHA-256 in the database in chunks,
recorded in the move's audit event, listed and downloaded by who may see the item, and re-hashed by audit verify."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cli import cli
from conftest import ADMIN, ROOT, T0
from workflow import service
from workflow.errors import InvalidInput, NotFound, WuzhuanError

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"\x00" * (8 << 20))  # 8 MB of zeros: a few KB compressed
    return buf.getvalue()


TEMPLATE = (ROOT / "definitions" / "department_rectification.yaml").read_text(encoding="utf-8").replace(
    "key: department_rectification", "key: doc_rectification").replace(
    "  measures_file: {type: file, label: 整改情况报告, accept: [pdf, docx, ofd], max_size: 50MB}\n",
    "  report_file: {type: file, label: 整改报告, accept: [pdf, docx, ofd], max_size: 1MB}\n").replace(
    "  evidence: {type: file, label: 佐证材料, accept: [pdf, jpg, png, docx, xlsx, ofd], max_size: 20MB, multiple: true}\n",
    "  evidence: {type: file, label: 佐证材料, accept: [pdf, jpg, png], multiple: true, max_size: 1MB, editable_by: [department]}\n").replace(
    "requires: [measures_file, evidence]}", "requires: [measures_report, report_file]}").replace(
    "shows: [measures_file, evidence, measures_report]", "shows: [report_file, evidence, measures_report]")
assert "report_file: {type: file" in TEMPLATE and "requires: [measures_report, report_file]}" in TEMPLATE


@pytest.fixture
def doc(ready, tmp_path):
    """An item of a template whose department's report needs its 整改报告 as a file (and takes 佐证材料)."""
    path = tmp_path / "doc_rectification.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    service.publish(ready, ADMIN, path, T0)
    item = service.create_item(ready, ADMIN, template="doc_rectification", title="关于水污染防治的整改", now=T0, group="g-env").id
    return ready, item


NOW = T0 + timedelta(days=3)


def _report(store, item, files, **kw):
    return service.advance(store, "huang.bo", item, "report", NOW, fields={"measures_report": "已整改"}, files=files, **kw)


def _counts(store):
    with store.read() as tx:
        return tuple(tx.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("item_files", "blobs", "blob_chunks"))


def test_a_department_gives_its_report_and_photos_and_each_is_recorded(doc):
    s, item = doc
    r = _report(s, item, {"report_file": [("整改报告.pdf", io.BytesIO(PDF))],
                          "evidence": [("现场1.jpg", io.BytesIO(JPG)), ("现场2.png", io.BytesIO(PNG)), ("再传.pdf", io.BytesIO(PDF))]})
    assert r.to_state == "review"
    files = service.item_files(s, "huang.bo", item)
    assert [(f.name, f.type, f.field, f.round, f.size) for f in files] == [
        ("整改报告.pdf", "pdf", "report_file", 1, len(PDF)), ("现场1.jpg", "jpg", "evidence", 1, len(JPG)),
        ("现场2.png", "png", "evidence", 1, len(PNG)), ("再传.pdf", "pdf", "evidence", 1, len(PDF))]
    assert _counts(s)[:2] == (4, 3)  # the same PDF given twice is kept once
    events = service.history(s, service.OPERATOR, item)
    moved = next(e for e in events if e.kind == "advanced")
    recorded = json.dumps(moved.data, ensure_ascii=False)
    for f in files:
        assert f.sha256 in recorded and f.name in recorded
    out = io.BytesIO()
    info = service.download(s, "zhao.hua", item, files[1].id, out.write)  # the group lead opens the photo
    assert out.getvalue() == JPG and info.mime == "image/jpeg"
    assert service.verify_audit(s).ok


def test_a_required_file_must_be_uploaded_not_typed(doc):
    s, item = doc
    with pytest.raises(WuzhuanError, match="整改报告"):
        _report(s, item, None)
    with pytest.raises(InvalidInput, match="请上传文件"):
        service.advance(s, "huang.bo", item, "report", NOW, fields={"measures_report": "x", "report_file": "报告.pdf"})
    with pytest.raises(InvalidInput, match="只收一个文件"):
        _report(s, item, {"report_file": [("a.pdf", io.BytesIO(PDF)), ("b.pdf", io.BytesIO(PDF))]})
    assert _counts(s) == (0, 0, 0)


HOSTILE = [
    ("renamed executable", "整改报告.pdf", b"MZ\x90\x00" + b"\x00" * 200, "type"),
    ("png named pdf", "整改报告.pdf", PNG, "mismatch"),
    ("empty", "整改报告.pdf", b"", "empty"),
    ("over the field's size", "整改报告.pdf", PDF + b"0" * (1 << 20), "too_large"),
    ("zip bomb as docx", "整改报告.docx", None, "zip_bomb"),
    ("zip that is no document", "整改报告.docx", b"PK\x03\x04" + b"\x00" * 100, "type"),
    ("html named pdf", "整改报告.pdf", b"<html><script>alert(1)</script></html>", "type"),
    ("an image the field does not take", "整改报告.png", PNG, "type"),
]


@pytest.mark.parametrize("what, name, content, reason", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_file_is_refused_with_one_reason_and_nothing_is_kept(doc, what, name, content, reason):
    s, item = doc
    before = service.show_item(s, service.OPERATOR, item, NOW).version
    with pytest.raises(InvalidInput) as e:
        _report(s, item, {"report_file": [(name, io.BytesIO(bomb() if content is None else content))]})
    assert e.value.details.get("reason") == reason, (str(e.value), e.value.details)
    assert "\n" not in str(e.value)
    assert _counts(s) == (0, 0, 0)
    assert service.show_item(s, service.OPERATOR, item, NOW).version == before


def test_names_are_kept_as_a_safe_base_name():
    from workflow.files import safe_name
    assert safe_name("../../etc/pass\u202ewd.pdf") == "passwd.pdf"
    assert safe_name("C:\\Users\\报告\x07.docx") == "报告.docx"
    assert safe_name("照片.JPEG", "jpg") == "照片.jpeg" and safe_name("扫描件", "pdf") == "扫描件.pdf"
    long = safe_name("长" * 300 + ".pdf")
    assert len(long) == 120 and long.endswith(".pdf")
    assert safe_name("...") == "文件"


def test_only_who_may_see_the_item_downloads_its_files(doc):
    s, item = doc
    _report(s, item, {"report_file": [("整改报告.pdf", io.BytesIO(PDF))]})
    (f,) = service.item_files(s, "huang.bo", item)
    for outsider in ("xu.na", "deng.yun"):  # another department's clerk; a district congress
        with pytest.raises(NotFound):
            service.download(s, outsider, item, f.id, lambda b: None)
        with pytest.raises(NotFound):
            service.item_files(s, outsider, item)
    with pytest.raises(NotFound, match="没有编号为 999 的文件"):
        service.download(s, "huang.bo", item, 999, lambda b: None)


def test_audit_verify_names_a_document_changed_or_removed_behind_the_trail(doc):
    s, item = doc
    _report(s, item, {"report_file": [("整改报告.pdf", io.BytesIO(PDF))], "evidence": [("现场.png", io.BytesIO(PNG))]})
    assert service.verify_audit(s).ok
    with s.engine.begin() as c:  # an attacker with the database: the photo's bytes swapped
        c.execute(text("UPDATE blob_chunks SET data = :d WHERE sha256 = (SELECT sha256 FROM item_files WHERE name = '现场.png')"),
                  {"d": PNG + b"x"})
    r = service.verify_audit(s)
    assert not r.ok and "已被改动" in r.problem
    assert service.verify_audit(s, files=False).ok  # --no-files: the trail and the rows only
    with s.engine.begin() as c:  # the report's content deleted
        c.execute(text("DELETE FROM blob_chunks WHERE sha256 = (SELECT sha256 FROM item_files WHERE name = '整改报告.pdf')"))
    assert any("已被删除" in p for p in service.verify_audit(s).unexplained)
    with s.engine.begin() as c:  # a file row renamed
        c.execute(text("UPDATE item_files SET name = '假报告.pdf' WHERE name = '整改报告.pdf'"))
    assert any("与办理时记录的不符" in p for p in service.verify_audit(s).unexplained)


def test_the_command_line_gives_lists_and_downloads_files(doc, tmp_path):
    s, item = doc
    db = ["--db", str(s.engine.url)]
    run = CliRunner()
    report = tmp_path / "整改报告.pdf"
    report.write_bytes(PDF)
    photo = tmp_path / "现场.png"
    photo.write_bytes(PNG)
    r = run.invoke(cli, db + ["items", "advance", str(item), "report", "--actor", "huang.bo", "--now", "2026-01-08T09:00",
                              "--field", "measures_report=已整改", "--file", f"report_file={report}", "--file", f"evidence={photo}"])
    assert r.exit_code == 0, r.output
    listed = json.loads(run.invoke(cli, db + ["items", "files", str(item), "--json"]).output)
    assert [(f["name"], f["size"], f["type"], f["field"], f["round"]) for f in listed] == [
        ("整改报告.pdf", len(PDF), "pdf", "report_file", 1), ("现场.png", len(PNG), "png", "evidence", 1)]
    assert all(len(f["sha256"]) == 64 and isinstance(f["id"], int) for f in listed)
    out = tmp_path / "copy.png"
    r = run.invoke(cli, db + ["items", "download", str(item), str(listed[1]["id"]), "--output", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == PNG
    r = run.invoke(cli, db + ["items", "download", str(item), "999", "--output", str(tmp_path / "x")])
    assert r.exit_code == 2 and "没有编号为 999 的文件" in r.output
    r = run.invoke(cli, db + ["items", "download", str(item), str(listed[0]["id"]), "--output", "-", "--actor", "xu.na"])
    assert r.exit_code == 2 and "不存在" in r.output  # he may not see the item
    bad = tmp_path / "病毒.pdf"
    bad.write_bytes(b"MZ" + b"\x00" * 50)
    other = service.create_item(s, ADMIN, template="doc_rectification", title="另一项整改", now=T0, group="g-env").id
    r = run.invoke(cli, db + ["items", "advance", str(other), "report", "--actor", "huang.bo", "--now", "2026-01-09T09:00",
                              "--field", "measures_report=已整改", "--file", f"report_file={bad}"])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1, r.output
    r = run.invoke(cli, db + ["audit", "verify"])
    assert r.exit_code == 0 and "documents: 2 contents re-hashed" in r.output, r.output


def test_a_backup_taken_while_running_restores_every_item_and_document(doc, tmp_path):
    from workflow.store import Store
    s, item = doc
    if s.dialect != "sqlite":
        r = CliRunner().invoke(cli, ["--db", str(s.engine.url), "db", "backup", str(tmp_path / "b.db")])
        assert r.exit_code == 2 and "pg_dump" in r.output
        return
    _report(s, item, {"report_file": [("整改报告.pdf", io.BytesIO(PDF))], "evidence": [("现场.png", io.BytesIO(PNG))]})
    target = tmp_path / "backup.db"
    r = CliRunner().invoke(cli, ["--db", str(s.engine.url), "db", "backup", str(target)])
    assert r.exit_code == 0 and "2 documents" in r.output, r.output
    again = CliRunner().invoke(cli, ["--db", str(s.engine.url), "db", "backup", str(target)])
    assert again.exit_code == 2 and "已存在" in again.output  # never over an earlier backup
    service.advance(s, "chen.jing", item, "accept", NOW + timedelta(hours=1))  # the original goes on
    restored = Store(f"sqlite:///{target}", settings=s.settings)
    try:
        assert service.verify_audit(restored).ok
        files = service.item_files(restored, service.OPERATOR, item)
        got = {}
        for f in files:
            buf = io.BytesIO()
            service.download(restored, service.OPERATOR, item, f.id, buf.write)
            got[f.name] = buf.getvalue()
        assert got == {"整改报告.pdf": PDF, "现场.png": PNG}
        assert service.show_item(restored, service.OPERATOR, item, NOW).state == "review"  # as it was when copied
    finally:
        restored.dispose()
