"""Issue 27 in the built-in chains: the report, the 审议意见书 and the 整改报告 with its 佐证材料 are documents the moves
require; each step shows its owner the documents it acts on (`shows`), a department's sub-item its parent's 审议意见书;
items started before the documents keep their values and need files only from their next such move."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from starlette.testclient import TestClient
from test_authority import _HAPPY, MOVES
from test_documents import doc  # noqa: F401  (the fixture)
from test_subitems import HANDED, handed_to_three
from test_web import signed_in

from conftest import ADMIN, PDF, ROOT, T0, Clock, chain_files, passwords
from workflow import loader, service, templates
from workflow.errors import DefinitionError, InvalidInput, NotFound
from workflow.service import reads
from workflow.web import create_app

BEFORE = ROOT / "tests" / "data" / "special_supervision_before_documents.yaml"  # the built-in as it was before issue 27


def _walk(s, item, upto: str, files: bool = True, start=T0):
    """Move `item` of special_supervision by the right people along the happy path up to (not including) `upto`."""
    when = start
    for trigger in _HAPPY[:_HAPPY.index(upto)]:
        actor, fields, comment = MOVES[trigger]
        when += timedelta(hours=1)
        service.advance(s, actor, item, trigger, when, fields=fields, comment=comment,
                        files=chain_files(trigger) if files else None)
    return when


def test_the_built_in_chain_asks_for_the_report_as_a_document_and_shows_it_at_the_next_step(ready):
    s = ready
    item = service.create_item(s, ADMIN, template="special_supervision", title="文件链", now=T0, group="g-env").id
    when = _walk(s, item, "submit_report")
    with pytest.raises(InvalidInput, match=r"“报告送审”需要填报“专项工作报告”"):
        service.advance(s, "huang.bo", item, "submit_report", when + timedelta(hours=1))
    service.advance(s, "huang.bo", item, "submit_report", when + timedelta(hours=1),
                    files={"report_file": [("关于大气污染防治工作情况的报告.pdf", io.BytesIO(PDF))]})
    page = reads.item_page(s, "huang.bo", item, when + timedelta(hours=2))
    assert page.detail.state == "report_revision"
    assert [(x.name, x.label, [f.name for f in x.files]) for x in page.shown] == [
        ("report_file", "专项工作报告", ["关于大气污染防治工作情况的报告.pdf"])]


def test_a_departments_sub_item_shows_and_serves_its_parents_opinions_and_no_one_else_gets_them(ready):
    s = ready
    parent, kids = handed_to_three(s)
    later = HANDED + timedelta(hours=1)
    (opinions,) = service.item_files(s, ADMIN, parent)
    assert opinions.field == "opinions_file"
    page = reads.item_page(s, "huang.bo", kids[0], later)
    basis = {x.name: x for x in page.shown}
    assert basis["opinions"].text == "常办〔2026〕5号"
    assert [f.id for f in basis["opinions_file"].files] == [opinions.id] and basis["opinions_file"].label == "审议意见书"
    got = io.BytesIO()
    service.download(s, "huang.bo", kids[0], opinions.id, got.write)
    assert got.getvalue() == PDF
    with pytest.raises(NotFound):  # another department's clerk: the item is not his
        service.download(s, "xu.na", kids[0], opinions.id, io.BytesIO().write)
    other = service.create_item(s, ADMIN, template="special_supervision", title="无关事项", now=T0, group="g-env").id
    with pytest.raises(NotFound):  # an item that never named the file
        service.download(s, ADMIN, other, opinions.id, io.BytesIO().write)


def test_the_workbench_page_of_a_sub_item_lists_the_opinions_under_its_basis_and_downloads_them(ready):
    s = ready
    parent, kids = handed_to_three(s)
    passwords(s)
    app = create_app(s, Clock(HANDED + timedelta(hours=1)))
    (opinions,) = service.item_files(s, ADMIN, parent)
    dept = signed_in(lambda: TestClient(app, base_url="http://testserver"), "huang.bo")
    html = dept.get(f"/items/{kids[0]}").text
    basis = html[html.index('id="basis"'):]
    basis = basis[:basis.index("</section>")]
    assert "办理依据" in html and "审议意见书" in basis and f'href="/items/{kids[0]}/files/{opinions.id}"' in basis
    assert dept.get(f"/items/{kids[0]}/files/{opinions.id}").content == PDF
    other = signed_in(lambda: TestClient(app, base_url="http://testserver"), "xu.na")
    assert other.get(f"/items/{kids[0]}/files/{opinions.id}").status_code == 404


def test_an_item_started_before_the_documents_migrates_keeping_its_values_and_needs_files_from_its_next_move(ready):
    s = ready
    old = service.publish(s, ADMIN, BEFORE, T0).version
    item = service.create_item(s, ADMIN, template="special_supervision", title="旧版事项", now=T0, group="g-env").id
    assert service.show_item(s, service.OPERATOR, item, T0).template_version == old
    when = _walk(s, item, "submit_rectification_report", files=False)  # the old chain: no document asked for
    before = service.show_item(s, service.OPERATOR, item, when).fields
    new = service.publish(s, ADMIN, templates.builtin("special_supervision"), when).version
    plan = service.migrate(s, ADMIN, "special_supervision", str(new), when + timedelta(minutes=1), items=[item], apply=True)
    assert plan.applied and [(p.from_state, p.to_state) for p in plan.items] == [("rectification_report", "rectification_report")]
    after = service.show_item(s, service.OPERATOR, item, when + timedelta(minutes=2))
    assert after.template_version == new and after.fields == before  # 审议意见 and the rest, as typed
    with pytest.raises(InvalidInput, match=r"需要填报“整改报告”、“佐证材料”"):
        service.advance(s, "huang.bo", item, "submit_rectification_report", when + timedelta(hours=1),
                        fields={"rectification_report": "整改报告"})
    r = service.advance(s, "huang.bo", item, "submit_rectification_report", when + timedelta(hours=1),
                        fields={"rectification_report": "整改报告"}, files=chain_files("submit_rectification_report"))
    assert r.to_state == "council_review" and service.verify_audit(s).ok


@pytest.mark.parametrize("shows, message", [
    ("shows: [nowhere]", "shows unknown field 'nowhere'"),
    ("shows: opinions", "expected a list, found 'opinions'"),
])
def test_the_checker_locates_a_wrong_shows(shows, message):
    text = templates.builtin("department_rectification").read_text("utf-8").replace("shows: [opinions, opinions_file]", shows)
    with pytest.raises(DefinitionError) as e:
        loader.load_text(text, "department_rectification.yaml")
    found = [str(p) for p in e.value.problems]
    assert any(message in p and "department_rectification.yaml:" in p for p in found), found


def test_the_ledger_and_the_results_report_list_each_steps_documents_with_their_links(ready, tmp_path):
    """Issue 27 §6: the 台账 (CSV, JSON, xlsx with a sheet of documents, each linked) and the 成果报告 list them."""
    import csv
    import json
    from dataclasses import replace

    from openpyxl import load_workbook

    from workflow import ledger_render, report_render

    s = ready
    s.settings = replace(s.settings, base_url="https://duban.example.gov.cn")
    item = service.create_item(s, ADMIN, template="special_supervision", title="台账文件", now=T0, group="g-env").id
    _walk(s, item, "finish_rectification")
    docs = {f.field: f for f in service.item_files(s, ADMIN, item)}
    assert set(docs) == {"report_file", "opinions_file"}
    link = f"https://duban.example.gov.cn/items/{item}/files/{docs['opinions_file'].id}"
    ledger = service.ledger(s, T0 + timedelta(days=1))
    out = io.StringIO()
    ledger_render.ledger_csv(ledger, out)
    header, *rows = list(csv.reader(io.StringIO(out.getvalue())))
    row = next(r for r in rows if r[0] == str(item))
    cell = row[header.index("文件材料")]
    assert "专项工作报告：report_file.pdf https://duban.example.gov.cn/items/" in cell and f"审议意见书：opinions_file.pdf {link}" in cell
    assert row[header.index("审议意见书")] == "opinions_file.pdf"  # the file field's cell: the name, not its record
    out = io.StringIO()
    ledger_render.ledger_json(ledger, out)
    listed = next(r for r in json.loads(out.getvalue())["rows"] if r["id"] == item)["documents"]
    assert [(d["field"], d["name"], d["round"], d["link"]) for d in listed][-1] == ("审议意见书", "opinions_file.pdf", 1, link)
    path = tmp_path / "ledger.xlsx"
    ledger_render.ledger_xlsx(ledger, path)
    sheet = load_workbook(path)["文件材料"]
    assert [c.value for c in sheet[1]][:6] == ["编号", "事项", "环节", "轮次", "材料", "文件名"]
    linked = {r[5].value: r[5].hyperlink.target for r in sheet.iter_rows(min_row=2) if r[0].value == item}
    assert linked == {"report_file.pdf": linked["report_file.pdf"], "opinions_file.pdf": link}
    html = report_render.results_html(service.results(s, 2026, T0 + timedelta(days=1)))
    assert f'<a href="{link}">opinions_file.pdf</a>' in html


def test_the_basis_lists_a_few_documents_per_field_and_counts_the_rest(doc):  # noqa: F811
    """Forty-nine photos are listed once, under 文件材料; 办理依据 names five and says how many more there are."""
    s, item = doc
    photos = [(f"现场{k}.pdf", io.BytesIO(PDF[:-6] + f"{k:02d}".encode() + b"%%EOF\n")) for k in range(12)]
    service.advance(s, "huang.bo", item, "report", T0 + timedelta(days=3), fields={"measures_report": "已整改"},
                    files={"report_file": [("整改报告.pdf", io.BytesIO(PDF))], "evidence": photos})
    page = reads.item_page(s, "chen.jing", item, T0 + timedelta(days=4))
    basis = {x.name: x for x in page.shown}
    assert len(basis["evidence"].files) == 5 and basis["evidence"].more == 7 and len(page.files) == 13
    assert basis["report_file"].more == 0 and basis["measures_report"].text == "已整改"
