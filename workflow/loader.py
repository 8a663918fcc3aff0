"""YAML text → checked Definition: keys and types (JSON Schema), references and graph; every problem located."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .definition import (
    OWNER,
    Deadline,
    Definition,
    Duration,
    FieldSpec,
    Guard,
    Rung,
    State,
    Transition,
    Urgency,
)
from .errors import DefinitionError, Problem

MAX_BYTES = 1_000_000
MAX_NODES = 100_000
RESERVED_TRIGGERS = {"trigger", "state", "fields", "counters", "machine"}

Path_ = tuple  # a path of keys and list indices into the document


# --- YAML with marks -------------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    """YAML 1.2-ish scalars: only true/false are booleans, dates stay strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _Doc:
    """Plain data converted from YAML nodes, with the line:col of every value and key."""

    def __init__(self, name: str):
        self.name = name
        self.value_marks: dict[Path_, tuple[int, int]] = {}
        self.key_marks: dict[Path_, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.nodes = 0

    def problem(self, path: Path_, message: str, at_key: bool = False) -> None:
        line, col = self.mark(path, at_key)
        self.problems.append(Problem(self.name, line, col, message))

    def mark(self, path: Path_, at_key: bool = False) -> tuple[int, int]:
        table = self.key_marks if at_key else self.value_marks
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.value_marks:
                return self.value_marks[p]
            p = p[:-1]
        return self.value_marks.get((), (1, 1))

    def convert(self, loader: _Loader, node: yaml.Node, path: Path_) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooBig
        self.value_marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            loader.flatten_mapping(node)
            out: dict[str, Any] = {}
            for knode, vnode in node.value:
                key = loader.construct_object(knode)
                kmark = (knode.start_mark.line + 1, knode.start_mark.column + 1)
                if not isinstance(key, str):
                    self.problems.append(Problem(self.name, *kmark, f"key {key!r} must be text"))
                    key = str(key)
                if key in out:
                    self.problems.append(Problem(self.name, *kmark, f"duplicate key '{key}'"))
                self.key_marks[path + (key,)] = kmark
                out[key] = self.convert(loader, vnode, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(loader, v, path + (i,)) for i, v in enumerate(node.value)]
        return loader.construct_object(node)


def read_text(path: Path, error: type[Exception]) -> str:
    """A UTF-8 text file (a BOM is allowed), or `error` with a message naming the file."""
    try:
        return path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise error(f"{path}: cannot read as UTF-8 text ({e})") from None


def safe_load(text: str):
    """Plain YAML data with this project's scalar rules (dates stay text; only true/false are booleans)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


class _TooBig(Exception):
    """Raised inside conversion to stop at MAX_NODES (alias bombs, huge files)."""


def parse_yaml(text: str, name: str) -> _Doc | None:
    """Parse text into a _Doc; returns None (with doc.problems set) when it cannot be read."""
    doc = _Doc(name)
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as e:
        return _reader_problem(doc, text, e)
    try:
        node = loader.get_single_node()
        if node is None:
            doc.problems.append(Problem(name, 1, 1, "the file is empty: a template is a mapping with key, title, roles, states, transitions"))
            return doc
        doc.data = doc.convert(loader, node, ())
    except yaml.reader.ReaderError as e:
        return _reader_problem(doc, text, e)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        doc.problems.append(Problem(name, line, col, f"not valid YAML: {e.problem or e.context}"))
    except yaml.YAMLError as e:
        doc.problems.append(Problem(name, 1, 1, f"not valid YAML: {e}"))
    except _TooBig:
        doc.problems.append(Problem(name, 1, 1, f"too many YAML nodes (more than {MAX_NODES}); is this really a template?"))
    except RecursionError:
        doc.problems.append(Problem(name, 1, 1, "the YAML is nested too deeply"))
    finally:
        loader.dispose()
    return doc


def _reader_problem(doc: _Doc, text: str, e: yaml.reader.ReaderError) -> _Doc:
    before = text[: e.position]
    line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
    doc.problems.append(Problem(doc.name, line, col, f"character U+{e.character:04X} is not allowed in YAML text"))
    return doc


# --- schema ----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(resources.files("definitions").joinpath("schema.json").read_text("utf-8"))


def where(path: Path_, data: Any) -> str:
    """Name the part of a template a path points into: state, transition, rung, field…"""
    if not path:
        return "template"
    head = path[0]
    if head == "states" and len(path) >= 2:
        text = f"state '{path[1]}'"
        if len(path) >= 4 and path[2] == "ladder" and isinstance(path[3], int):
            text += f", rung {path[3] + 1}{_rung_name(data, path[:4])}"
        return text
    if head == "transitions" and len(path) >= 2 and isinstance(path[1], int):
        trig = _get(data, path[:2] + ("trigger",))
        return f"transition {path[1] + 1}" + (f" ('{trig}')" if isinstance(trig, str) else "")
    if head == "ladders" and len(path) >= 2:
        text = f"ladder '{path[1]}'"
        if len(path) >= 3 and isinstance(path[2], int):
            text += f", rung {path[2] + 1}{_rung_name(data, path[:3])}"
        return text
    if head in ("fields", "roles", "counters") and len(path) >= 2:
        return f"{head[:-1]} '{path[1]}'"
    return f"'{head}'"


def _rung_name(data: Any, path: Path_) -> str:
    name = _get(data, path + ("rung",))
    return f" ('{name}')" if isinstance(name, str) else ""


def _get(data: Any, path: Path_) -> Any:
    for p in path:
        try:
            data = data[p]
        except (KeyError, IndexError, TypeError):
            return None
    return data


_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
               "boolean": "true or false", "null": "nothing", "number": "a number"}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"'{value}'"


def schema_problems(doc: _Doc, data: Any) -> None:
    import jsonschema  # only when validating a file: keeps every other command's start-up short

    validator = jsonschema.Draft202012Validator(schema())
    for err in validator.iter_errors(data):
        path = tuple(err.absolute_path)
        here = where(path, data)
        v, inst, sub = err.validator, err.instance, err.schema
        if v == "additionalProperties":
            allowed = sorted(sub.get("properties", {}))
            for key in sorted(set(inst) - set(allowed)):
                doc.problem(path + (key,), f"{here}: unknown key '{key}' (allowed: {', '.join(allowed)})", at_key=True)
        elif v == "required":
            missing = [k for k in err.validator_value if k not in inst]
            for key in missing:
                doc.problem(path, f"{here}: missing key '{key}'")
        elif v == "propertyNames":
            doc.problem(path, f"{here}: bad name {err.message.split(' ')[0]}: {err.schema['propertyNames'].get('errorMessage', 'not a valid name')}")
        elif v == "type":
            want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
            doc.problem(path, f"{here}: expected {' or '.join(_TYPE_NAMES.get(w, w) for w in want)}, found {_kind(inst)}")
        elif v == "enum":
            doc.problem(path, f"{here}: {_kind(inst)} is not one of: {', '.join(map(str, err.validator_value))}")
        elif v == "minimum":
            doc.problem(path, f"{here}: {path[-1]} must be at least {err.validator_value}, found {inst}")
        elif v in ("minItems", "minProperties", "minLength"):
            doc.problem(path, f"{here}: must not be empty")
        elif "errorMessage" in sub:
            doc.problem(path, f"{here}: {sub['errorMessage']}, found {_kind(inst)}")
        else:
            doc.problem(path, f"{here}: {err.message}")


# --- semantic and graph checks ---------------------------------------------------------------

def _dicts(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


class _Checker:
    """Reference and graph checks; defensive, because the schema may already have failed."""

    def __init__(self, doc: _Doc, data: dict, notices: Collection[str] | None):
        self.doc, self.d, self.notices = doc, data, notices
        self.roles = set(_dicts(data.get("roles")))
        self.fields = _dicts(data.get("fields"))
        self.counters = set(_dicts(data.get("counters")))
        self.tags = set(_dicts(data.get("tags")))
        self.states = _dicts(data.get("states"))
        self.ladders = _dicts(data.get("ladders"))

    def p(self, path: Path_, msg: str, at_key: bool = False) -> None:
        self.doc.problem(path, f"{where(path, self.d)}: {msg}", at_key)

    def role(self, path: Path_, name: Any, allow_owner: bool = False) -> None:
        if not isinstance(name, str):
            return
        if allow_owner and name == OWNER:
            return
        if name not in self.roles:
            self.p(path, f"unknown role '{name}' (roles: {', '.join(sorted(self.roles)) or 'none'})")

    def run(self) -> None:
        if OWNER in self.roles:
            self.doc.problem(("roles", OWNER), f"role name '{OWNER}' is reserved (it means the step's owner in a rung's notify)", at_key=True)
        initial = self.d.get("initial")
        if isinstance(initial, str) and self.states and initial not in self.states:
            self.p(("initial",), f"initial state '{initial}' is not among the states")
        self.check_fields()
        defaults = _dicts(self.d.get("defaults"))
        for key in ("pause_roles", "extension_approvers"):
            for i, r in enumerate(_list(defaults.get(key))):
                self.role(("defaults", key, i), r)
        for name, ladder in self.ladders.items():
            self.check_ladder(("ladders", name), ladder, owner=True)
        for name, st in self.states.items():
            if isinstance(st, dict):
                self.check_state(name, st)
        self.check_transitions()
        self.check_urgency()
        hn = self.d.get("handover_notice")
        if isinstance(hn, str) and self.notices is not None and hn not in self.notices:
            self.p(("handover_notice",), f"no notice template named '{hn}' (available: {', '.join(sorted(self.notices))})")
        if not self.doc.problems:
            self.check_graph()

    def check_fields(self) -> None:
        for name, f in self.fields.items():
            if not isinstance(f, dict):
                continue
            if f.get("type") == "choice" and not f.get("choices"):
                self.p(("fields", name), "a choice field needs `choices`")
            if f.get("type") != "choice" and "choices" in f:
                self.p(("fields", name, "choices"), "only a choice field has `choices`")

    def check_state(self, name: str, st: dict) -> None:
        base = ("states", name)
        if "owner" in st:
            self.role(base + ("owner",), st["owner"])
        for i, tag in enumerate(_list(st.get("tags"))):
            if isinstance(tag, str) and tag not in self.tags:
                self.p(base + ("tags", i), f"unknown tag '{tag}' (declare it under `tags`)")
        for key in ("pause_roles", "extension_approvers"):
            for i, r in enumerate(_list(st.get(key))):
                self.role(base + (key, i), r)
        dl = st.get("deadline")
        if isinstance(dl, dict):
            fld = dl.get("field")
            if fld is not None and isinstance(fld, str):
                spec = self.fields.get(fld)
                if spec is None:
                    self.p(base + ("deadline", "field"), f"deadline counts from unknown field '{fld}'")
                elif isinstance(spec, dict) and spec.get("type") != "date":
                    self.p(base + ("deadline", "field"), f"deadline field '{fld}' must be of type date, not {spec.get('type')}")
            if "direction" in dl and fld is None:
                self.p(base + ("deadline", "direction"), "`direction` needs a `field` to count from")
        ladder = st.get("ladder")
        if isinstance(ladder, str):
            if ladder not in self.ladders:
                self.p(base + ("ladder",), f"unknown ladder '{ladder}' (ladders: {', '.join(sorted(self.ladders)) or 'none'})")
            elif "owner" not in st and self._uses_owner(_list(self.ladders[ladder])):
                self.p(base + ("ladder",), f"ladder '{ladder}' notifies `owner` but the state has no owner")
        elif isinstance(ladder, list):
            self.check_ladder(base + ("ladder",), ladder, owner="owner" in st)
        if ladder is not None and "deadline" not in st:
            self.p(base + ("ladder",), "a ladder needs a deadline to count from")
        if st.get("final") is True:
            for key in ("deadline", "ladder"):
                if key in st:
                    self.p(base + (key,), f"a final state has no {key}")

    @staticmethod
    def _uses_owner(ladder: list) -> bool:
        return any(isinstance(r, dict) and OWNER in _list(r.get("notify")) for r in ladder)

    def check_ladder(self, base: Path_, ladder: Any, owner: bool) -> None:
        seen: set[str] = set()
        last: float | None = None
        for i, rung in enumerate(_list(ladder)):
            if not isinstance(rung, dict):
                continue
            here = base + (i,)
            name = rung.get("rung")
            if isinstance(name, str):
                if name in seen:
                    self.p(here + ("rung",), f"rung name '{name}' is used twice in this ladder")
                seen.add(name)
            for j, r in enumerate(_list(rung.get("notify"))):
                self.role(here + ("notify", j), r, allow_owner=True)
                if r == OWNER and not owner:
                    self.p(here + ("notify", j), "notifies `owner` but the state has no owner")
            notice = rung.get("notice")
            if isinstance(notice, str) and self.notices is not None and notice not in self.notices:
                self.p(here + ("notice",), f"no notice template named '{notice}' (available: {', '.join(sorted(self.notices))})")
            t = _rung_hours(rung)
            if t is not None:
                if last is not None and t <= last:
                    self.p(here, "rungs must be in time order: this one fires no later than the one before it")
                last = t

    def check_transitions(self) -> None:
        for i, t in enumerate(_list(self.d.get("transitions"))):
            if not isinstance(t, dict):
                continue
            base = ("transitions", i)
            trig = t.get("trigger")
            if isinstance(trig, str) and (trig in RESERVED_TRIGGERS or trig.startswith(("_", "may_", "to_"))):
                self.p(base + ("trigger",), f"trigger name '{trig}' is reserved")
            src = t.get("source")
            for j, s in enumerate([src] if isinstance(src, str) else _list(src)):
                path = base + (("source",) if isinstance(src, str) else ("source", j))
                if isinstance(s, str) and s not in self.states:
                    self.p(path, f"source state '{s}' does not exist")
                elif isinstance(s, str) and _dicts(self.states.get(s)).get("final") is True:
                    self.p(path, f"source state '{s}' is final: nothing leaves a final state")
            dest = t.get("dest")
            if isinstance(dest, str) and dest not in self.states:
                self.p(base + ("dest",), f"destination state '{dest}' does not exist")
            for j, r in enumerate(_list(t.get("roles"))):
                self.role(base + ("roles", j), r)
            for j, f in enumerate(_list(t.get("requires"))):
                if isinstance(f, str) and f not in self.fields:
                    self.p(base + ("requires", j), f"requires unknown field '{f}'")
            for j, c in enumerate(_list(t.get("increment"))):
                if isinstance(c, str) and c not in self.counters:
                    self.p(base + ("increment", j), f"increments unknown counter '{c}' (declare it under `counters`)")
            for j, g in enumerate(_list(t.get("guards"))):
                if isinstance(g, dict):
                    self.check_guard(base + ("guards", j), g)
        self.check_ambiguous()

    def check_guard(self, base: Path_, g: dict) -> None:
        op, value = g.get("op"), g.get("value")
        if isinstance(g.get("field"), str):
            name = g["field"]
            spec = self.fields.get(name)
            if spec is None:
                self.p(base + ("field",), f"guard on unknown field '{name}'")
            elif isinstance(spec, dict) and spec.get("type") == "choice" and op in ("eq", "ne", "in", "not_in"):
                values = value if isinstance(value, list) else [value]
                for v in values:
                    if v not in _list(spec.get("choices")):
                        self.p(base + ("value",), f"'{v}' is not a choice of field '{name}' ({', '.join(map(str, _list(spec.get('choices'))))})")
        elif isinstance(g.get("counter"), str) and g["counter"] not in self.counters:
            self.p(base + ("counter",), f"guard on unknown counter '{g['counter']}'")
        if op in ("set", "unset") and "value" in g:
            self.p(base + ("value",), f"op '{op}' takes no value")
        elif op in ("in", "not_in") and not isinstance(value, list):
            self.p(base + ("value",), f"op '{op}' needs a list value")
        elif op in ("lt", "le", "gt", "ge") and (isinstance(value, bool) or not isinstance(value, int | float | str)):
            self.p(base + ("value",), f"op '{op}' needs a number or a date value")
        elif op in ("eq", "ne") and "value" not in g:
            self.p(base + ("value",), f"op '{op}' needs a value")

    def check_ambiguous(self) -> None:
        by_key: dict[tuple[str, str], list[tuple[int, list]]] = {}
        for i, t in enumerate(_list(self.d.get("transitions"))):
            if not isinstance(t, dict) or not isinstance(t.get("trigger"), str):
                continue
            src = t.get("source")
            for s in [src] if isinstance(src, str) else _list(src):
                if isinstance(s, str):
                    by_key.setdefault((s, t["trigger"]), []).append((i, _list(t.get("guards"))))
        for (state, trig), group in by_key.items():
            for a in range(len(group)):
                for b in range(a + 1, len(group)):
                    if not guards_exclusive(group[a][1], group[b][1]):
                        self.p(("transitions", group[b][0], "trigger"),
                               f"trigger '{trig}' from state '{state}' is also transition {group[a][0] + 1}, "
                               "and their guards do not tell them apart")

    def check_urgency(self) -> None:
        u = self.d.get("urgency")
        if not isinstance(u, dict):
            return
        fname = u.get("field")
        spec = self.fields.get(fname) if isinstance(fname, str) else None
        if isinstance(fname, str) and spec is None:
            self.p(("urgency", "field"), f"urgency field '{fname}' does not exist")
        choices = _list(_dicts(spec).get("choices"))
        rungs = {r.get("rung") for lad in self._all_ladders() for r in lad if isinstance(r, dict) and isinstance(r.get("rung"), str)}
        for value, rung in _dicts(u.get("start_rung")).items():
            if spec is not None and value not in choices:
                self.p(("urgency", "start_rung", value), f"'{value}' is not a choice of field '{fname}'", at_key=True)
            if isinstance(rung, str) and rung not in rungs:
                self.p(("urgency", "start_rung", value), f"no ladder has a rung named '{rung}'")

    def _all_ladders(self) -> list[list]:
        out = [_list(v) for v in self.ladders.values()]
        out += [_list(_dicts(s).get("ladder")) for s in self.states.values()]
        return out

    def check_graph(self) -> None:
        edges: dict[str, set[str]] = {s: set() for s in self.states}
        for t in _list(self.d.get("transitions")):
            src = t["source"]
            for s in [src] if isinstance(src, str) else src:
                edges[s].add(t["dest"])
        finals = {s for s, st in self.states.items() if st.get("final") is True}
        if not finals:
            self.doc.problem(("states",), "no state is final: mark the end of the chain with `final: true`", at_key=True)
            return
        reach = _closure({self.d["initial"]}, edges)
        reverse: dict[str, set[str]] = {s: set() for s in self.states}
        for s, dests in edges.items():
            for d in dests:
                reverse[d].add(s)
        can_finish = _closure(finals, reverse)
        for s, st in self.states.items():
            path = ("states", s)
            if s not in reach:
                self.doc.problem(path, f"state '{s}' cannot be reached from the initial state '{self.d['initial']}'", at_key=True)
            if not st.get("final") and not edges[s]:
                self.doc.problem(path, f"state '{s}' is a dead end: it is not final and no transition leaves it", at_key=True)
            elif s not in can_finish:
                self.doc.problem(path, f"state '{s}' can never reach a final state", at_key=True)


def _closure(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for n in edges.get(todo.pop(), ()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


def _rung_hours(rung: dict) -> float | None:
    for direction in ("before", "after"):
        off = rung.get(direction)
        if isinstance(off, dict) and isinstance(off.get("amount"), int) and off.get("unit") in ("hours", "days", "workdays", "months"):
            h = Duration(off["amount"], off["unit"]).nominal_hours()
            return -h if direction == "before" else h
    return None


# --- guard exclusivity -----------------------------------------------------------------------

_MISSING = object()


def guard_holds(op: str, actual: Any, value: Any) -> bool:
    """Evaluate one guard comparison; a missing value fails every comparison but `unset`/`ne`."""
    if op == "set":
        return actual is not None and actual is not _MISSING
    if op == "unset":
        return actual is None or actual is _MISSING
    if actual is None or actual is _MISSING:
        return op in ("ne", "not_in")
    try:
        if op == "eq":
            return actual == value
        if op == "ne":
            return actual != value
        if op == "in":
            return actual in value
        if op == "not_in":
            return actual not in value
        if op == "lt":
            return actual < value
        if op == "le":
            return actual <= value
        if op == "gt":
            return actual > value
        if op == "ge":
            return actual >= value
    except TypeError:
        return False
    return False


def guards_exclusive(a: list, b: list) -> bool:
    """True when no value of any guarded subject satisfies both guard lists at once."""
    subjects: dict[tuple[str, str], list[dict]] = {}
    for g in a + b:
        if isinstance(g, dict):
            kind = "field" if "field" in g else "counter"
            subjects.setdefault((kind, str(g.get(kind))), []).append(g)
    for key in subjects:
        ga = [g for g in a if isinstance(g, dict) and ("field" if "field" in g else "counter", str(g.get("field", g.get("counter")))) == key]
        gb = [g for g in b if isinstance(g, dict) and ("field" if "field" in g else "counter", str(g.get("field", g.get("counter")))) == key]
        if not ga or not gb:
            continue
        candidates: list[Any] = [None, "\x00other"]
        for g in ga + gb:
            vals = g.get("value") if isinstance(g.get("value"), list) else [g.get("value")]
            for v in vals:
                candidates.append(v)
                if isinstance(v, int | float) and not isinstance(v, bool):
                    candidates += [v - 1, v - 0.5, v + 0.5, v + 1]
        if not any(all(guard_holds(g.get("op"), c, g.get("value")) for g in ga + gb) for c in candidates):
            return True
    return False


# --- building the Definition -----------------------------------------------------------------

def _duration(d: dict | None, default: Duration | None = None) -> Duration | None:
    return Duration(d["amount"], d["unit"]) if d else default


def _rungs(raw: list) -> tuple[Rung, ...]:
    out = []
    for r in raw:
        direction = "before" if "before" in r else "after"
        out.append(Rung(r["rung"], r.get("label", r["rung"]), _duration(r[direction]), direction,
                        tuple(r["notify"]), r["notice"]))
    return tuple(out)


def build(data: dict, content_hash: str, name: str, text: str) -> Definition:
    defaults = data.get("defaults", {})
    ladders = data.get("ladders", {})
    default_yellow = _duration(defaults.get("yellow"), Duration(3, "workdays"))
    states = {}
    for sname, st in data["states"].items():
        ladder = st.get("ladder")
        raw = ladders[ladder] if isinstance(ladder, str) else (ladder or [])
        dl = st.get("deadline")
        states[sname] = State(
            name=sname, label=st["label"], owner=st.get("owner"), tags=tuple(st.get("tags", ())),
            deadline=Deadline(dl["amount"], dl["unit"], dl.get("field"), dl.get("direction", "after")) if dl else None,
            yellow=_duration(st.get("yellow"), default_yellow), ladder=_rungs(raw), final=bool(st.get("final", False)),
            pause_roles=tuple(st.get("pause_roles", defaults.get("pause_roles", ()))),
            extension_approvers=tuple(st.get("extension_approvers", defaults.get("extension_approvers", ()))),
        )
    transitions = tuple(
        Transition(
            trigger=t["trigger"], label=t.get("label", t["trigger"]),
            sources=(t["source"],) if isinstance(t["source"], str) else tuple(t["source"]),
            dest=t["dest"], roles=tuple(t["roles"]), requires=tuple(t.get("requires", ())),
            comment_required=bool(t.get("comment_required", False)),
            guards=tuple(Guard("field" if "field" in g else "counter", g.get("field", g.get("counter")), g["op"], g.get("value"))
                         for g in t.get("guards", ())),
            increments=tuple(t.get("increment", ())),
        )
        for t in data["transitions"]
    )
    fields = {n: FieldSpec(n, f["type"], f.get("label", n), tuple(f.get("choices", ()))) for n, f in data.get("fields", {}).items()}
    u = data.get("urgency")
    return Definition(
        key=data["key"], title=data["title"], description=data.get("description", ""),
        calendar=data.get("calendar", "cn"), roles=dict(data["roles"]), fields=fields,
        counters=dict(data.get("counters", {})), tags=dict(data.get("tags", {})), initial=data["initial"],
        states=states, transitions=transitions,
        urgency=Urgency(u["field"], dict(u["start_rung"])) if u else None,
        handover_notice=data.get("handover_notice"), content_hash=content_hash, source_name=name, source_text=text,
    )


def content_hash(data: Any) -> str:
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_text(text: str, name: str = "<template>", notices: Collection[str] | None = None) -> Definition:
    """Validate template text and build its Definition.

    Raises DefinitionError listing every problem as FILE:LINE:COL: message.
    `notices`, when given, is the set of notice template names that rungs may name.
    """
    doc = parse_yaml(text, name)
    if doc.problems or not hasattr(doc, "data"):
        raise DefinitionError(doc.problems)
    data = doc.data
    if not isinstance(data, dict):
        raise DefinitionError([Problem(name, 1, 1, f"a template is a mapping (key: value), found {_kind(data)}")])
    schema_problems(doc, data)
    _Checker(doc, data, notices).run()
    if doc.problems:
        raise DefinitionError(doc.problems)
    return build(data, content_hash(data), name, text)


def load_trusted(text: str, name: str) -> Definition:
    """Build a Definition from text that was validated before (a stored, hash-checked version)."""
    doc = parse_yaml(text, name)
    if doc.problems or not isinstance(getattr(doc, "data", None), dict):
        raise DefinitionError(doc.problems or [Problem(name, 1, 1, "stored template is not a mapping")])
    return build(doc.data, content_hash(doc.data), name, text)


def load_file(path: str | Path, notices: Collection[str] | None = None) -> Definition:
    """Read and validate one template file; raises DefinitionError (never anything else for bad content)."""
    p = Path(path)
    name = str(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise DefinitionError([Problem(name, 0, 0, "no such file")]) from None
    except IsADirectoryError:
        raise DefinitionError([Problem(name, 0, 0, "is a directory, not a template file")]) from None
    except OSError as e:
        raise DefinitionError([Problem(name, 0, 0, f"cannot read: {e.strerror}")]) from None
    if len(raw) > MAX_BYTES:
        raise DefinitionError([Problem(name, 1, 1, f"the file is {len(raw) / 1e6:.1f} MB; a template may be at most {MAX_BYTES // 1_000_000} MB")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DefinitionError([Problem(name, line, 1, "not UTF-8 text (is this a binary file?)")]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise DefinitionError([Problem(name, line, 1, "contains NUL bytes: not a text file")])
    return load_text(text, name, notices)
