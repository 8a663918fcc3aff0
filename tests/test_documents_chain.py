"""Issue 27 in the built-in chains: the report, the 审议意见书 and the 整改报告 with its 佐证材料 are documents the moves
require; each step shows its owner the documents it acts on (`shows`), a department's sub-item its parent's 审议意见书;
items started before the documents keep their values and need files only from their next such move."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from starlette.testclient import TestClient
from test_authority import _HAPPY, MOVES
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
    with pytest.raises(InvalidInput, match=r"report_file \(专项工作报告\)"):
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
    with pytest.raises(InvalidInput, match=r"rectification_file \(整改报告\)"):
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
