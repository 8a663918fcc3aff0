"""Template loading and validation: the built-in chains, one test per kind of error, fuzzing."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.render import available
from workflow import loader
from workflow.errors import DefinitionError
from workflow.machine import ItemModel, fire, machine_for
from workflow.templates import builtin_paths, validate_paths

ROOT = Path(__file__).resolve().parent.parent
DEFS = ROOT / "definitions"
NOTICES = available()


def load(text: str):
    return loader.load_text(text, "t.yaml", notices=NOTICES)


def problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as e:
        load(text)
    return [str(p) for p in e.value.problems]


MINIMAL = """\
key: mini
title: 最小模板
roles: {office: 办公室}
initial: start
states:
  start: {label: 开始, owner: office, deadline: {amount: 3, unit: workdays}, ladder: [{rung: blue, after: {amount: 0, unit: hours}, notify: [owner], notice: duban_blue}]}
  done: {label: 完成, final: true}
transitions:
  - {trigger: finish, source: start, dest: done, roles: [office]}
"""


def test_builtin_templates_validate():
    defs = validate_paths(builtin_paths())
    assert {d.key for d in defs} == {"special_supervision", "deputy_suggestion", "audit_rectification", "opinion_handling",
                                     "department_rectification", "joint_supervision", "district_inspection"}


def walk(defn, path: list[tuple[str, dict]]) -> list[str]:
    """Fire triggers in order on one model; returns the states visited."""
    m = ItemModel(defn.initial, {}, {c: 0 for c in defn.counters})
    seen = [m.state]
    for trigger, fields in path:
        m.fields.update(fields)
        assert fire(defn, m, trigger), f"{trigger} did not fire from {m.state}"
        seen.append(m.state)
    return seen


def test_special_supervision_is_the_full_chain():
    d = loader.load_file(DEFS / "special_supervision.yaml", NOTICES)
    happy = walk(d, [("propose", {}), ("adopt_plan", {}), ("approve_work_plan", {}), ("finish_research", {}),
                     ("hand_over_views", {}), ("submit_report", {}), ("submit_revised_report", {}), ("circulate_report", {}),
                     ("deliberate", {}), ("draft_opinions", {}), ("pass_opinions", {}),
                     ("hand_over_opinions", {}), ("finish_rectification", {}), ("submit_rectification_report", {}),
                     ("refer_to_committee", {}), ("record_vote", {"vote": "基本满意"}), ("close_follow_up", {}),
                     ("notify_deputies", {}), ("publish", {})])
    assert happy == ["topic_selection", "annual_plan", "work_plan", "research", "opinions_handover", "report_review",
                     "report_revision", "report_circulation", "deliberation", "opinion_drafting", "opinion_approval",
                     "opinion_handover", "rectification", "rectification_report", "council_review", "satisfaction_vote",
                     "follow_up", "publication", "public_release", "archived"]
    # 不满意 loops back to rectification once; the second 不满意 goes to the 主任会议.
    m = ItemModel("satisfaction_vote", {"vote": "不满意"}, {"unsatisfied_rounds": 0})
    assert fire(d, m, "record_vote") and m.state == "rectification" and m.counters["unsatisfied_rounds"] == 1
    m.state = "satisfaction_vote"
    assert fire(d, m, "record_vote") and m.state == "council_measures" and m.counters["unsatisfied_rounds"] == 2
    # the 主任会议 may take the written report without a vote, or send an inadequate one back (退办)
    assert walk(d, [])[0] == "topic_selection"
    m = ItemModel("council_review", {}, {})
    assert fire(d, m, "accept_written_report") and m.state == "follow_up"
    m = ItemModel("council_review", {}, {})
    assert fire(d, m, "return_rectification_report") and m.state == "rectification_report"
    # Art.15: three deadlines before the meeting, 20, 10 and 7 days
    assert [(d.states[s].deadline.amount, d.states[s].deadline.direction) for s in
            ("report_review", "report_revision", "report_circulation")] == [(20, "before"), (10, "before"), (7, "before")]
    assert d.states["rectification"].deadline.set_by == "resolution_deadline"
    assert d.states["rectification"].cc == ("party_committee",) and d.states["publication"].cc == ("deputy",)
    assert d.fields["vote"].tally.choices() == ("满意", "基本满意", "不满意")
    assert set(d.states["research"].extension_approvers) == {"leader", "council"}
    # every step with a deadline has a ladder; the five 专 are tagged; all four units are used
    for s in d.states.values():
        assert bool(s.deadline) == bool(s.ladder), s.name
    assert set(d.tags) == {t for s in d.states.values() for t in s.tags}
    assert {s.deadline.unit for s in d.states.values() if s.deadline} == {"workdays", "days", "months"}
    assert d.states["report_review"].deadline.field == "meeting_date"
    assert d.states["report_review"].deadline.direction == "before" and d.states["report_review"].deadline.amount == 20


def test_deputy_suggestion_chain():
    d = loader.load_file(DEFS / "deputy_suggestion.yaml", NOTICES)
    assert walk(d, [("assign", {}), ("sign", {}), ("answer", {}), ("evaluate", {"satisfaction": "不满意"}),
                    ("answer_again", {})]) == ["assigned", "signing", "handling", "evaluation", "rehandling", "closed"]
    assert walk(d, [("assign", {}), ("sign_complex", {}), ("answer", {}), ("evaluate", {"satisfaction": "基本满意"})])[-1] == "closed"
    assert d.states["handling"].deadline.amount == 3 and d.states["handling_complex"].deadline.amount == 6
    assert d.states["rehandling"].deadline.amount == 1 and d.states["rehandling"].deadline.unit == "months"
    assert d.fields["outcome"].choices == ("A", "B", "C", "D")


def test_audit_rectification_chain():
    d = loader.load_file(DEFS / "audit_rectification.yaml", NOTICES)
    assert d.states["deliberation"].deadline.amount == 6  # 监督法 Art.27: heard within 6 months of the audit report
    assert d.states["deliberation"].deadline.field == "audit_report_date"
    assert d.states["re_deliberation"].deadline.field is None  # a second hearing counts from its own start
    assert d.fields["vote"].tally.choices() == ("满意", "不满意")  # this template has no 基本满意
    assert walk(d, [("hear_audit_report", {}), ("hand_over", {}), ("finish_rectification", {}), ("submit_report", {}),
                    ("record_vote", {"vote": "不满意"}), ("report_again", {}), ("record_vote", {"vote": "满意"}),
                    ("close_follow_up", {}), ("publish", {})])[-1] == "archived"


def test_machine_is_built_once_per_version():
    d1 = loader.load_file(DEFS / "special_supervision.yaml")
    d2 = loader.load_file(DEFS / "special_supervision.yaml")
    assert machine_for(d1) is machine_for(d2)
    m = ItemModel("topic_selection", {}, {})
    fire(d1, m, "propose")
    assert machine_for(d1).models == []  # attached only for the one transition


def test_schema_accepts_every_shipped_template():
    schema = json.loads((DEFS / "schema.json").read_text())
    for p in DEFS.glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(p.read_text()), schema)


def test_schema_and_loader_reject_the_same_structure():
    schema = json.loads((DEFS / "schema.json").read_text())
    bad = yaml.safe_load(MINIMAL)
    bad["states"]["start"]["dedline"] = {"amount": 1, "unit": "days"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    assert any("unknown key 'dedline'" in p for p in problems(yaml.safe_dump(bad, allow_unicode=True)))


def test_minimal_is_valid():
    assert load(MINIMAL).key == "mini"


@pytest.mark.parametrize("mutate, expected", [
    (lambda t: t.replace("owner: office, deadline", "owner: office, dedline: 1, deadline"),
     r"t.yaml:6:\d+: state 'start': unknown key 'dedline'"),
    (lambda t: t.replace("initial: start", "initial: begin"), r"t.yaml:4:10: 'initial': initial state 'begin' is not among the states"),
    (lambda t: t.replace("dest: done", "dest: nowhere"), r"transition 1 \('finish'\): destination state 'nowhere' does not exist"),
    (lambda t: t.replace("source: start", "source: nowhere"), r"transition 1 \('finish'\): source state 'nowhere' does not exist"),
    (lambda t: t.replace("roles: [office]}", "roles: [clerk]}"), r"transition 1 \('finish'\): unknown role 'clerk'"),
    (lambda t: t.replace("owner: office", "owner: clerk"), r"state 'start': unknown role 'clerk'"),
    (lambda t: t.replace("amount: 3, unit: workdays", "amount: 0, unit: workdays"), r"state 'start': amount must be at least 1, found 0"),
    (lambda t: t.replace("unit: workdays", "unit: weeks"), r"state 'start': 'weeks' is not one of: hours, days, workdays, months"),
    (lambda t: t.replace("notice: duban_blue", "notice: nothing_like_it"), r"state 'start', rung 1 \('blue'\): no notice template named 'nothing_like_it'"),
    (lambda t: t.replace("notify: [owner]", "notify: [nobody]"), r"state 'start', rung 1 \('blue'\): unknown role 'nobody'"),
    (lambda t: t + "  - {trigger: finish, source: start, dest: done, roles: [office]}\n",
     r"transition 2 \('finish'\): trigger 'finish' from state 'start' is also transition 1"),
    (lambda t: t.replace("  done: {label: 完成, final: true}", "  done: {label: 完成, final: true}\n  lost: {label: 孤岛, final: true}"),
     r"state 'lost' cannot be reached from the initial state 'start'"),
    (lambda t: t.replace("  done: {label: 完成, final: true}", "  done: {label: 完成}"), r"no state is final"),
    (lambda t: t.replace("roles: [office]}", "roles: [office], requires: [ghost]}"), r"requires unknown field 'ghost'"),
    (lambda t: t.replace("roles: [office]}", "roles: [office], increment: [ghost]}"), r"increments unknown counter 'ghost'"),
    (lambda t: t.replace("roles: [office]}", "roles: [office], guards: [{counter: ghost, op: ge, value: 1}]}"), r"guard on unknown counter 'ghost'"),
    (lambda t: t.replace("key: mini", "key: Mini-Key"), r"t.yaml:1:6: 'key': a template key uses lower-case letters"),
    (lambda t: t.replace("deadline: {amount: 3, unit: workdays}", "deadline: {amount: 3, unit: days, field: when}"),
     r"deadline counts from unknown field 'when'"),
])
def test_each_kind_of_error_is_located(mutate, expected):
    found = problems(mutate(MINIMAL))
    assert any(re.search(expected, p) for p in found), found


def test_dead_end_and_no_way_to_finish():
    text = MINIMAL.replace("  done: {label: 完成, final: true}",
                           "  done: {label: 完成, final: true}\n  stuck: {label: 卡住}\n  loop: {label: 循环}")
    text += "  - {trigger: jam, source: start, dest: stuck, roles: [office]}\n"
    text += "  - {trigger: spin, source: start, dest: loop, roles: [office]}\n  - {trigger: spin, source: loop, dest: loop, roles: [office]}\n"
    found = problems(text)
    assert any("state 'stuck' is a dead end" in p for p in found), found
    assert any("state 'loop' can never reach a final state" in p for p in found), found


def test_rungs_must_be_in_time_order():
    text = MINIMAL.replace("ladder: [{rung: blue, after: {amount: 0, unit: hours}, notify: [owner], notice: duban_blue}]",
                           "ladder: [{rung: red, after: {amount: 5, unit: days}, notify: [owner], notice: duban_red}, "
                           "{rung: blue, after: {amount: 1, unit: days}, notify: [owner], notice: duban_blue}]")
    assert any("rung 2 ('blue'): rungs must be in time order" in p for p in problems(text))


def test_guards_that_tell_transitions_apart_are_accepted():
    text = MINIMAL.replace("roles: [office]}", "roles: [office], guards: [{counter: n, op: lt, value: 1}]}")
    text = text.replace("initial: start", "counters: {n: 次数}\ninitial: start")
    text += "  - {trigger: finish, source: start, dest: done, roles: [office], guards: [{counter: n, op: ge, value: 1}]}\n"
    assert len(load(text).transitions) == 2


def test_yaml_11_booleans_stay_state_names():
    text = MINIMAL.replace("start", "on").replace("done", "off")
    d = load(text)
    assert set(d.states) == {"on", "off"} and d.initial == "on"
    assert any("expected true or false, found 'yes'" in p for p in problems(MINIMAL.replace("final: true", "final: yes")))


def test_every_problem_is_reported_at_once():
    text = MINIMAL.replace("owner: office", "owner: clerk").replace("dest: done", "dest: nowhere").replace("unit: workdays", "unit: weeks")
    assert len(problems(text)) >= 3


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8 text"),
    (b"- a\n- b\n", "a template is a mapping"),
    (b"key: [unclosed\n", "not valid YAML"),
    (b"just text", "a template is a mapping"),
    (b"a: 1\nb: \x00", "NUL"),
    (b"key: x\nkey: y\n", "duplicate key 'key'"),
    (b"a: &a [*a, *a]\n", ""),
])
def test_garbage_files_give_located_errors(tmp_path, content, message):
    p = tmp_path / "bad.yaml"
    p.write_bytes(content)
    with pytest.raises(DefinitionError) as e:
        loader.load_file(p)
    text = str(e.value)
    assert text.startswith(f"{p}:") and message in text


def test_huge_file_is_refused_quickly(tmp_path):
    p = tmp_path / "big.yaml"
    p.write_text("key: x\n" + "# padding\n" * 520_000)
    with pytest.raises(DefinitionError, match="may be at most 1.0 MB"):
        loader.load_file(p)


def test_missing_file(tmp_path):
    with pytest.raises(DefinitionError, match="no such file"):
        loader.load_file(tmp_path / "nope.yaml")


# --- property-based: mutated templates only ever give located definition errors ---------------

SOURCE = (DEFS / "special_supervision.yaml").read_text()
BASE = yaml.safe_load(SOURCE)
JUNK = [None, 0, -1, 7, 3.5, True, "", "on", "x", "unknown_state", [], {}, ["office"], {"amount": 0, "unit": "days"},
        {"amount": 2, "unit": "weeks"}, "nowhere", [{"rung": "z"}], {"field": "ghost", "op": "eq"}]


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


ALL_PATHS = [p for p in _paths(BASE) if p]


def _mutate(data, path, action, junk, rng):
    import copy

    doc = copy.deepcopy(data)
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = junk
    elif action == "rename" and isinstance(parent, dict):
        parent[f"{last}_x"] = parent.pop(last)
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(parent[last])
    else:
        parent[last] = junk
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), st.sampled_from(["delete", "replace", "rename", "duplicate"]),
                          st.sampled_from(JUNK)), min_size=1, max_size=4),
       st.randoms(use_true_random=False))
def test_mutated_templates_only_give_located_errors(mutations, rng):
    doc = BASE
    for path, action, junk in mutations:
        try:
            doc = _mutate(doc, path, action, junk, rng)
        except (KeyError, IndexError, TypeError):
            continue
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    try:
        loader.load_text(text, "m.yaml", notices=NOTICES)
    except DefinitionError as e:
        assert e.problems
        for p in e.problems:
            assert re.match(r"^m\.yaml:\d+:\d+: \S", str(p)), str(p)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_random_text_only_gives_located_errors(text):
    try:
        loader.load_text(text, "r.yaml")
    except DefinitionError as e:
        assert all(re.match(r"^r\.yaml:\d+:\d+: ", str(p)) for p in e.problems)


def test_random_line_deletions_only_give_located_errors():
    lines = SOURCE.splitlines()
    r = random.Random(7)
    for _ in range(60):
        keep = [ln for ln in lines if r.random() > 0.05]
        try:
            loader.load_text("\n".join(keep), "d.yaml", notices=NOTICES)
        except DefinitionError as e:
            assert all(re.match(r"^d\.yaml:\d+:\d+: ", str(p)) for p in e.problems)


def test_docs_describe_every_key_of_the_schema():
    doc = (ROOT / "docs" / "definitions.md").read_text()
    schema = json.loads((DEFS / "schema.json").read_text())
    keys = set(schema["properties"])
    for d in schema["$defs"].values():
        keys |= set(d.get("properties", {}))
    missing = sorted(k for k in keys if f"`{k}`" not in doc and f"{k}:" not in doc)
    assert missing == []


def test_graph_problems_come_with_every_other_problem():
    text = MINIMAL.replace("roles: {office: 办公室}", "roles: {office: 办公室}\nfields: {f: {type: colour}}")
    text = text.replace("  done: {label: 完成, final: true}", "  done: {label: 完成, final: true}\n  orphan: {label: 孤儿, owner: office}")
    found = problems(text)
    assert any("is not one of" in p for p in found) and any("'orphan' cannot be reached" in p for p in found)


def test_amounts_a_committee_could_mean():
    found = problems(MINIMAL.replace("deadline: {amount: 3, unit: workdays}", "deadline: {amount: 121, unit: months}"))
    assert any("121 months is more than a committee can mean (at most 120 months)" in p for p in found)
    load(MINIMAL.replace("deadline: {amount: 3, unit: workdays}", "deadline: {amount: 120, unit: months}"))
