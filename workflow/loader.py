"""YAML text → checked Definition: parse, the schema, the checks (template_checks, template_flow), the build."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

from . import template_checks as checks
from . import template_flow as flow
from .calendar import EVERY_DAY, build_calendar
from .deadlines import step_times
from .definition import Definition
from .errors import DefinitionError, Problem, WuzhuanError
from .escalation import plan
from .template_build import build, content_hash
from .template_schema import kind_of, schema, schema_problems, where
from .textfile import FileProblem, decode, read_bytes
from .yamltext import Doc, parse_yaml

__all__ = ["CHECKS", "MAX_BYTES", "content_hash", "load_file", "load_text", "load_trusted", "schema", "schema_problems",
           "where"]

MAX_BYTES = 1_000_000

# The checks after the schema, in the order their problems are told; a new check is a function and a line here.
CHECKS = (checks.reserved_owner, checks.initial, checks.roles, checks.fields, checks.defaults, checks.ladders,
          checks.states, flow.transitions, checks.urgency, checks.handover_notice, flow.graph, checks.amounts)


def check(doc: Doc, data: dict, notices: Collection[str] | None) -> None:
    """Every check over the template, each telling its problems to `doc`."""
    template = checks.Template(doc, data, notices)
    for each in CHECKS:
        each(template)


EMPTY_HINT = "a template is a mapping with key, title, roles, states, transitions"


def load_text(text: str, name: str = "<template>", notices: Collection[str] | None = None) -> Definition:
    """Validate template text and build its Definition.

    Raises DefinitionError listing every problem as FILE:LINE:COL: message.
    `notices`, when given, is the set of notice template names that rungs may name.
    """
    doc = parse_yaml(text, name, EMPTY_HINT)
    if doc.problems or not doc.parsed:
        raise DefinitionError(doc.problems)
    data = doc.data
    if not isinstance(data, dict):
        raise DefinitionError([Problem(name, 1, 1, f"a template is a mapping (key: value), found {kind_of(data)}")])
    schema_problems(doc, data)
    check(doc, data, notices)
    if doc.problems:
        raise DefinitionError(doc.problems)
    defn = build(data, content_hash(data), name, text)
    sample_deadlines(doc, defn)
    if doc.problems:
        raise DefinitionError(doc.problems)
    return defn


# Items entered at both ends of the years wuzhuan works with: a published template must be able to
# compute every deadline, yellow threshold and rung of every step for them.
SAMPLE_ENTRIES = (datetime(1970, 1, 2, 1, 0, tzinfo=UTC), datetime(2199, 11, 30, 1, 0, tzinfo=UTC))


def sample_deadlines(doc: Doc, defn: Definition) -> None:
    cal = EVERY_DAY if defn.calendar == "none" else build_calendar()
    for state in defn.states.values():
        if state.deadline is None:
            continue
        for entered in SAMPLE_ENTRIES:
            fields = {state.deadline.field: entered.date().isoformat()} if state.deadline.field else {}
            try:
                t = step_times(cal, defn, state, fields, entered_at=entered)
                plan(cal, state, t.due_at)
            except (OverflowError, ValueError, ArithmeticError, WuzhuanError) as e:
                doc.problem(("states", state.name, "deadline"),
                            f"state '{state.name}': its deadline or escalation cannot be computed for an item entered on "
                            f"{entered.date()} ({type(e).__name__}: {e}); use smaller amounts")


def load_trusted(text: str, name: str) -> Definition:
    """Build a Definition from text that was validated before (a stored, hash-checked version)."""
    doc = parse_yaml(text, name)
    if doc.problems or not isinstance(doc.data, dict):
        raise DefinitionError(doc.problems or [Problem(name, 1, 1, "stored template is not a mapping")])
    return build(doc.data, content_hash(doc.data), name, text)


def load_file(path: str | Path, notices: Collection[str] | None = None) -> Definition:
    """Read and validate one template file; raises DefinitionError (never anything else for bad content)."""
    name = str(path)
    try:
        text = decode(read_bytes(path, MAX_BYTES, "template"), name)
    except FileProblem as e:
        raise DefinitionError([Problem(name, e.line or 1, 1, e.reason)]) from None
    return load_text(text, name, notices)
