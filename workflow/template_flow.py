"""The flow checks of a template: each transition's references and guards, ambiguous triggers, and the graph
(every state reachable, none a dead end, a way to finish)."""

from __future__ import annotations

from typing import Any

from .definition import guard_holds
from .template_checks import Template, dicts, seq
from .yamltext import Path_

RESERVED_TRIGGERS = {"trigger", "state", "fields", "counters", "machine"}


def transitions(c: Template) -> None:
    for i, t in enumerate(seq(c.d.get("transitions"))):
        if not isinstance(t, dict):
            continue
        base = ("transitions", i)
        trig = t.get("trigger")
        if isinstance(trig, str) and (trig in RESERVED_TRIGGERS or trig.startswith(("_", "may_", "to_"))):
            c.p(base + ("trigger",), f"trigger name '{trig}' is reserved")
        src = t.get("source")
        for j, s in enumerate([src] if isinstance(src, str) else seq(src)):
            path = base + (("source",) if isinstance(src, str) else ("source", j))
            if isinstance(s, str) and s not in c.states:
                c.p(path, f"source state '{s}' does not exist")
            elif isinstance(s, str) and dicts(c.states.get(s)).get("final") is True:
                c.p(path, f"source state '{s}' is final: nothing leaves a final state")
        dest = t.get("dest")
        if isinstance(dest, str) and dest not in c.states:
            c.p(base + ("dest",), f"destination state '{dest}' does not exist")
        for j, r in enumerate(seq(t.get("roles"))):
            c.role(base + ("roles", j), r)
        for j, f in enumerate(seq(t.get("requires"))):
            if isinstance(f, str) and f not in c.fields:
                c.p(base + ("requires", j), f"requires unknown field '{f}'")
        for j, counter in enumerate(seq(t.get("increment"))):
            if isinstance(counter, str) and counter not in c.counters:
                c.p(base + ("increment", j), f"increments unknown counter '{counter}' (declare it under `counters`)")
        for j, g in enumerate(seq(t.get("guards"))):
            if isinstance(g, dict):
                one_guard(c, base + ("guards", j), g)
    ambiguous(c)


def one_guard(c: Template, base: Path_, g: dict) -> None:
    op, value = g.get("op"), g.get("value")
    if isinstance(g.get("field"), str):
        name = g["field"]
        spec = c.fields.get(name)
        if spec is None:
            c.p(base + ("field",), f"guard on unknown field '{name}'")
        elif isinstance(spec, dict) and spec.get("type") == "choice" and op in ("eq", "ne", "in", "not_in"):
            values = value if isinstance(value, list) else [value]
            for v in values:
                if v not in seq(spec.get("choices")):
                    c.p(base + ("value",), f"'{v}' is not a choice of field '{name}' ({', '.join(map(str, seq(spec.get('choices'))))})")
    elif isinstance(g.get("counter"), str) and g["counter"] not in c.counters:
        c.p(base + ("counter",), f"guard on unknown counter '{g['counter']}'")
    if op in ("set", "unset") and "value" in g:
        c.p(base + ("value",), f"op '{op}' takes no value")
    elif op in ("in", "not_in") and not isinstance(value, list):
        c.p(base + ("value",), f"op '{op}' needs a list value")
    elif op in ("lt", "le", "gt", "ge") and (isinstance(value, bool) or not isinstance(value, int | float | str)):
        c.p(base + ("value",), f"op '{op}' needs a number or a date value")
    elif op in ("eq", "ne") and "value" not in g:
        c.p(base + ("value",), f"op '{op}' needs a value")


def ambiguous(c: Template) -> None:
    by_key: dict[tuple[str, str], list[tuple[int, list]]] = {}
    for i, t in enumerate(seq(c.d.get("transitions"))):
        if not isinstance(t, dict) or not isinstance(t.get("trigger"), str):
            continue
        src = t.get("source")
        for s in [src] if isinstance(src, str) else seq(src):
            if isinstance(s, str):
                by_key.setdefault((s, t["trigger"]), []).append((i, seq(t.get("guards"))))
    for (state, trig), group in by_key.items():
        for a in range(len(group)):
            for b in range(a + 1, len(group)):
                if not guards_exclusive(group[a][1], group[b][1]):
                    c.p(("transitions", group[b][0], "trigger"),
                           f"trigger '{trig}' from state '{state}' is also transition {group[a][0] + 1}, "
                           "and their guards do not tell them apart")


def graph(c: Template) -> None:
    """Reachability, dead ends, a way to finish: over whatever transitions are well formed, so that graph
    problems are reported together with every other problem."""
    edges: dict[str, set[str]] = {s: set() for s in c.states}
    for t in seq(c.d.get("transitions")):
        if not isinstance(t, dict) or not isinstance(t.get("dest"), str) or t["dest"] not in c.states:
            continue
        src = t.get("source")
        for s in [src] if isinstance(src, str) else seq(src):
            if isinstance(s, str) and s in edges:
                edges[s].add(t["dest"])
    finals = {s for s, st in c.states.items() if isinstance(st, dict) and st.get("final") is True}
    if not c.states:
        return
    if not finals:
        c.doc.problem(("states",), "no state is final: mark the end of the chain with `final: true`", at_key=True)
        return
    initial = c.d.get("initial")
    if not isinstance(initial, str) or initial not in c.states:
        return  # reported already; reachability needs a starting point
    reach = _closure({initial}, edges)
    reverse: dict[str, set[str]] = {s: set() for s in c.states}
    for s, dests in edges.items():
        for d in dests:
            reverse[d].add(s)
    can_finish = _closure(finals, reverse)
    for s, st in c.states.items():
        path = ("states", s)
        if not isinstance(st, dict):
            continue
        if s not in reach:
            c.doc.problem(path, f"state '{s}' cannot be reached from the initial state '{initial}'", at_key=True)
        if not st.get("final") and not edges[s]:
            c.doc.problem(path, f"state '{s}' is a dead end: it is not final and no transition leaves it", at_key=True)
        elif s not in can_finish:
            c.doc.problem(path, f"state '{s}' can never reach a final state", at_key=True)


def _closure(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for n in edges.get(todo.pop(), ()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


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
