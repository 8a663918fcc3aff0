"""YAML text → checked Definition: keys and types (JSON Schema), references and graph; every problem located."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from . import caches
from .calendar import EVERY_DAY, build_calendar
from .deadlines import step_times
from .definition import (
    AMOUNT_LIMITS,
    DEFAULT_EXTENSION_APPROVERS,
    DEFAULT_PAUSE_ROLES,
    OWNER,
    SLIP_PATTERN,
    Deadline,
    Definition,
    Duration,
    FieldSpec,
    Guard,
    Rung,
    Spawn,
    State,
    Tally,
    Transition,
    Urgency,
    guard_holds,
)
from .errors import DefinitionError, Problem, WuzhuanError
from .escalation import plan
from .textfile import FileProblem, decode, read_bytes
from .yamltext import Doc, Path_, parse_yaml

MAX_BYTES = 1_000_000
RESERVED_TRIGGERS = {"trigger", "state", "fields", "counters", "machine"}


# --- schema ----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(resources.files("definitions").joinpath("schema.json").read_text("utf-8"))


caches.register("template_schema", schema)


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


def schema_problems(doc: Doc, data: Any, against: dict | None = None) -> None:
    """Every way `data` breaks the template schema (or the schema `against`), located, in words."""
    import jsonschema  # only when validating a file: keeps every other command's start-up short

    validator = jsonschema.Draft202012Validator(against or schema())
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
        elif v == "maximum" and path and path[-1] == "amount":
            continue  # the checker says it with the unit (check_amounts)
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

    def __init__(self, doc: Doc, data: dict, notices: Collection[str] | None):
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
        self.check_roles()
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
        self.check_graph()
        self.check_amounts()

    def check_roles(self) -> None:
        for name, spec in _dicts(self.d.get("roles")).items():
            if isinstance(spec, dict):
                for i, r in enumerate(_list(spec.get("assignable_by"))):
                    self.role(("roles", name, "assignable_by", i), r)

    def check_fields(self) -> None:
        for name, f in self.fields.items():
            if not isinstance(f, dict):
                continue
            for i, r in enumerate(_list(f.get("editable_by"))):
                self.role(("fields", name, "editable_by", i), r)
            if f.get("type") == "choice" and not f.get("choices"):
                self.p(("fields", name), "a choice field needs `choices`")
            if f.get("type") != "choice" and "choices" in f:
                self.p(("fields", name, "choices"), "only a choice field has `choices`")
            for key in ("kind", "sets"):
                if f.get("type") != "meeting" and key in f:
                    self.p(("fields", name, key), f"only a meeting field has `{key}`")
            target = f.get("sets")
            if isinstance(target, str) and f.get("type") == "meeting":
                spec = self.fields.get(target)
                if not isinstance(spec, dict) or spec.get("type") != "date":
                    self.p(("fields", name, "sets"), f"`sets` names the date field that follows the meeting: '{target}' "
                                                     "is not a date field of this template")
            tally = f.get("tally")
            if f.get("type") == "tally" and not isinstance(tally, dict):
                self.p(("fields", name), "a tally field needs `tally` naming its integer count fields (members, for, against)")
            if f.get("type") != "tally" and "tally" in f:
                self.p(("fields", name, "tally"), "only a tally field has `tally`")
            for k, ref in _dicts(tally).items():
                spec = self.fields.get(ref) if isinstance(ref, str) else None
                if isinstance(ref, str) and not isinstance(spec, dict):
                    self.p(("fields", name, "tally", k), f"counts unknown field '{ref}'")
                elif isinstance(spec, dict) and spec.get("type") != "integer":
                    self.p(("fields", name, "tally", k), f"count field '{ref}' must be of type integer, not {spec.get('type')}")
                elif isinstance(spec, dict) and spec.get("keep") and k != "members":
                    self.p(("fields", name, "tally", k), f"count field '{ref}' must not be `keep`: every round is counted anew")
        pattern = self.d.get("slip_pattern")
        if isinstance(pattern, str):
            try:
                pattern.format(year=2026, n=1)
            except (KeyError, IndexError, ValueError) as e:
                self.p(("slip_pattern",), f"the pattern may use only {{year}} and {{n}} ({type(e).__name__}: {e})")
            else:
                if "{n}" not in pattern:
                    self.p(("slip_pattern",), "the pattern needs {n}, the slip's number in its year")

    def check_state(self, name: str, st: dict) -> None:
        base = ("states", name)
        if "owner" in st:
            self.role(base + ("owner",), st["owner"])
        for i, tag in enumerate(_list(st.get("tags"))):
            if isinstance(tag, str) and tag not in self.tags:
                self.p(base + ("tags", i), f"unknown tag '{tag}' (declare it under `tags`)")
        for key in ("pause_roles", "extension_approvers", "cc"):
            for i, r in enumerate(_list(st.get(key))):
                self.role(base + (key, i), r)
        dl = st.get("deadline")
        if isinstance(dl, dict):
            fld = dl.get("field")
            self.field_ref(base + ("deadline", "field"), fld, ("date", "meeting"), "deadline counts from",
                           f"deadline field '{fld}' must be of type date or meeting")
            src = dl.get("amount_from")
            self.field_ref(base + ("deadline", "amount_from"), src, ("duration",), "deadline amount from",
                           f"field '{src}' gives a deadline's amount: it must be of type duration")
            fixed = dl.get("fixed")
            if isinstance(fixed, str) and "field" in dl:
                self.p(base + ("deadline", "fixed"), "a fixed day is not counted from a date field: drop `field` or `fixed`")
            if isinstance(fixed, str) and len(fixed) == 5 and fixed[2] == "-" and fixed.replace("-", "").isdigit():
                try:
                    date(2024, int(fixed[:2]), int(fixed[3:]))  # a leap year: 02-29 exists
                except ValueError:
                    self.p(base + ("deadline", "fixed"), f"'{fixed}' is not a day of the year (MM-DD)")
            by = dl.get("set_by")
            self.field_ref(base + ("deadline", "set_by"), by, ("date",), "deadline set by",
                           f"field '{by}' sets a due date: it must be of type date")
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
        spawn = st.get("spawn")
        if isinstance(spawn, dict):
            self.check_spawn(name, st, spawn)
        if st.get("final") is True:
            for key in ("deadline", "ladder", "spawn"):
                if key in st:
                    self.p(base + (key,), f"a final state has no {key}")

    def check_spawn(self, name: str, st: dict, spawn: dict) -> None:
        """A step that hands work out: a `units` field to go over, another template, and one plain move to go on by."""
        base = ("states", name, "spawn")
        each = spawn.get("for_each")
        self.field_ref(base + ("for_each",), each, ("units",), "spawns for each unit of",
                       f"field '{each}' lists the units to hand work to: it must be of type units")
        if spawn.get("template") == self.d.get("key"):
            self.p(base + ("template",), "a step cannot hand work to items of its own template")
        then = spawn.get("then")
        if not isinstance(then, str):
            return
        moves = [t for t in _list(self.d.get("transitions")) if isinstance(t, dict) and t.get("trigger") == then
                 and name in ([t.get("source")] if isinstance(t.get("source"), str) else _list(t.get("source")))]
        if not moves:
            self.p(base + ("then",), f"no transition '{then}' leaves state '{name}': `then` names the move the system "
                                     "makes when the sub-items are done")
        elif len(moves) > 1 or moves[0].get("guards"):
            self.p(base + ("then",), f"'{then}' from '{name}' must be one transition without guards: the system makes it")
        elif moves[0].get("requires") or moves[0].get("comment_required"):
            self.p(base + ("then",), f"'{then}' from '{name}' may not require fields or a comment: the system makes it, "
                                     "and gives neither")
        elif moves[0].get("dest") == name:
            self.p(base + ("then",), f"'{then}' leads back to '{name}' itself: the step would hand the work out again")

    def field_ref(self, path: Path_, name: Any, types: tuple[str, ...], unknown: str, wrong: str) -> None:
        """A key naming a field of one of `types`: "UNKNOWN unknown field 'x'", or "WRONG, not TYPE"."""
        if not isinstance(name, str):
            return
        spec = self.fields.get(name)
        if spec is None:
            self.p(path, f"{unknown} unknown field '{name}'")
        elif isinstance(spec, dict) and spec.get("type") not in types:
            self.p(path, f"{wrong}, not {spec.get('type')}")

    def check_amounts(self) -> None:
        """Amounts a committee could mean: at most 10 years in days, 2000 working days, 10 years in months, a year in hours."""
        def visit(path: Path_, d: Any) -> None:
            if isinstance(d, dict) and isinstance(d.get("amount"), int) and not isinstance(d.get("amount"), bool):
                unit = d.get("unit")
                limit = AMOUNT_LIMITS.get(unit) if isinstance(unit, str) else None
                if limit is not None and d["amount"] > limit:
                    self.p(path + ("amount",), f"{d['amount']} {d['unit']} is more than a committee can mean "
                                               f"(at most {limit} {d['unit']})")
            if isinstance(d, dict):
                for k, v in d.items():
                    visit(path + (k,), v)
            elif isinstance(d, list):
                for i, v in enumerate(d):
                    visit(path + (i,), v)
        for key in ("states", "ladders", "defaults"):
            visit((key,), self.d.get(key))

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
        """Reachability, dead ends, a way to finish: over whatever transitions are well formed, so that graph
        problems are reported together with every other problem."""
        edges: dict[str, set[str]] = {s: set() for s in self.states}
        for t in _list(self.d.get("transitions")):
            if not isinstance(t, dict) or not isinstance(t.get("dest"), str) or t["dest"] not in self.states:
                continue
            src = t.get("source")
            for s in [src] if isinstance(src, str) else _list(src):
                if isinstance(s, str) and s in edges:
                    edges[s].add(t["dest"])
        finals = {s for s, st in self.states.items() if isinstance(st, dict) and st.get("final") is True}
        if not self.states:
            return
        if not finals:
            self.doc.problem(("states",), "no state is final: mark the end of the chain with `final: true`", at_key=True)
            return
        initial = self.d.get("initial")
        if not isinstance(initial, str) or initial not in self.states:
            return  # reported already; reachability needs a starting point
        reach = _closure({initial}, edges)
        reverse: dict[str, set[str]] = {s: set() for s in self.states}
        for s, dests in edges.items():
            for d in dests:
                reverse[d].add(s)
        can_finish = _closure(finals, reverse)
        for s, st in self.states.items():
            path = ("states", s)
            if not isinstance(st, dict):
                continue
            if s not in reach:
                self.doc.problem(path, f"state '{s}' cannot be reached from the initial state '{initial}'", at_key=True)
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
                        tuple(r["notify"]), r["notice"], r.get("meaning", ""), _duration(r.get("limit")),
                        bool(r.get("slip", direction == "after"))))
    return tuple(out)


def _spawn(s: dict | None) -> Spawn | None:
    if not s:
        return None
    return Spawn(s["template"], s["for_each"], s["then"], s.get("join", "all"), s.get("lead", "主办"), s.get("others", "协办"))


def _tally(t: dict | None) -> Tally | None:
    return Tally(t["members"], t["for"], t["against"], t.get("abstain"), t.get("basic")) if t else None


def _role_labels(roles: dict) -> dict[str, str]:
    return {r: (v["label"] if isinstance(v, dict) else v) for r, v in roles.items()}


def build(data: dict, content_hash: str, name: str, text: str) -> Definition:
    defaults = data.get("defaults", {})
    ladders = data.get("ladders", {})
    roles = _role_labels(data["roles"])
    default_yellow = _duration(defaults.get("yellow"), Duration(3, "workdays"))
    default_pause = tuple(defaults.get("pause_roles", [r for r in DEFAULT_PAUSE_ROLES if r in roles]))
    default_approvers = tuple(defaults.get("extension_approvers", [r for r in DEFAULT_EXTENSION_APPROVERS if r in roles]))
    states = {}
    for sname, st in data["states"].items():
        ladder = st.get("ladder")
        raw = ladders[ladder] if isinstance(ladder, str) else (ladder or [])
        dl = st.get("deadline")
        states[sname] = State(
            name=sname, label=st["label"], owner=st.get("owner"), tags=tuple(st.get("tags", ())),
            deadline=Deadline(dl.get("amount", 0), dl.get("unit", "days"), dl.get("field"), dl.get("direction", "after"),
                              dl.get("set_by"), dl.get("amount_from"), dl.get("fixed")) if dl else None,
            yellow=_duration(st.get("yellow"), default_yellow), ladder=_rungs(raw), final=bool(st.get("final", False)),
            pause_roles=tuple(st.get("pause_roles", default_pause)),
            extension_approvers=tuple(st.get("extension_approvers", default_approvers)),
            cc=tuple(st.get("cc", ())), description=st.get("description", ""),
            spawn=_spawn(st.get("spawn")),
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
    fields = {n: FieldSpec(n, f["type"], f.get("label", n), tuple(f.get("choices", ())), bool(f.get("keep", False)),
                           tuple(f["editable_by"]) if "editable_by" in f else None, _tally(f.get("tally")), f.get("kind"),
                           f.get("sets"))
              for n, f in data.get("fields", {}).items()}
    assignable = {r: tuple(v["assignable_by"]) for r, v in data["roles"].items() if isinstance(v, dict) and "assignable_by" in v}
    u = data.get("urgency")
    return Definition(
        key=data["key"], title=data["title"], description=data.get("description", ""),
        calendar=data.get("calendar", "cn"), roles=roles, fields=fields,
        counters=dict(data.get("counters", {})), tags=dict(data.get("tags", {})), initial=data["initial"],
        states=states, transitions=transitions,
        urgency=Urgency(u["field"], dict(u["start_rung"])) if u else None,
        handover_notice=data.get("handover_notice"), assignable_by=assignable,
        slip_pattern=data.get("slip_pattern", SLIP_PATTERN),
        content_hash=content_hash, source_name=name, source_text=text,
    )


def content_hash(data: Any) -> str:
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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
        raise DefinitionError([Problem(name, 1, 1, f"a template is a mapping (key: value), found {_kind(data)}")])
    schema_problems(doc, data)
    _Checker(doc, data, notices).run()
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
