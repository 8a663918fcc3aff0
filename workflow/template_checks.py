"""The reference checks of a template, one small function each: roles, fields, states, ladders, amounts, urgency.

Each takes the Template being checked and tells every problem it finds with its location (`Template.p`); the
loader runs them in order (loader.CHECKS), after the schema, so they are defensive about shapes.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from .definition import AMOUNT_LIMITS, OWNER, WATCH, Duration
from .files import ALIASES, KINDS, parse_size
from .template_schema import where
from .yamltext import Doc, Path_


def dicts(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def seq(value: Any) -> list:
    return value if isinstance(value, list) else []


class Template:
    """The template being checked: its raw parts, and where problems are told."""

    def __init__(self, doc: Doc, data: dict, notices: Collection[str] | None):
        self.doc, self.d, self.notices = doc, data, notices
        self.roles = set(dicts(data.get("roles")))
        self.fields = dicts(data.get("fields"))
        self.counters = set(dicts(data.get("counters")))
        self.tags = set(dicts(data.get("tags")))
        self.states = dicts(data.get("states"))
        self.ladders = dicts(data.get("ladders"))

    def p(self, path: Path_, msg: str, at_key: bool = False) -> None:
        self.doc.problem(path, f"{where(path, self.d)}: {msg}", at_key)

    def role(self, path: Path_, name: Any, allow_owner: bool = False) -> None:
        if not isinstance(name, str):
            return
        if allow_owner and name == OWNER:
            return
        if name not in self.roles:
            self.p(path, f"unknown role '{name}' (roles: {', '.join(sorted(self.roles)) or 'none'})")

    def field_ref(self, path: Path_, name: Any, types: tuple[str, ...], unknown: str, wrong: str) -> None:
        """A key naming a field of one of `types`: "UNKNOWN unknown field 'x'", or "WRONG, not TYPE"."""
        if not isinstance(name, str):
            return
        spec = self.fields.get(name)
        if spec is None:
            self.p(path, f"{unknown} unknown field '{name}'")
        elif isinstance(spec, dict) and spec.get("type") not in types:
            self.p(path, f"{wrong}, not {spec.get('type')}")

    def all_ladders(self) -> list[list]:
        out = [seq(v) for v in self.ladders.values()]
        out += [seq(dicts(s).get("ladder")) for s in self.states.values()]
        return out


def reserved_owner(c: Template) -> None:
    if OWNER in c.roles:
        c.doc.problem(("roles", OWNER), f"role name '{OWNER}' is reserved (it means the step's owner in a rung's notify)", at_key=True)
    if WATCH in c.roles:
        c.doc.problem(("roles", WATCH), f"角色名“{WATCH}”是系统保留的：联动子事项上，上级事项的知会人员持有它（只看、知会，不办理）",
                      at_key=True)


def initial(c: Template) -> None:
    start = c.d.get("initial")
    if isinstance(start, str) and c.states and start not in c.states:
        c.p(("initial",), f"initial state '{start}' is not among the states")


def defaults(c: Template) -> None:
    given = dicts(c.d.get("defaults"))
    for key in ("pause_roles", "extension_approvers"):
        for i, r in enumerate(seq(given.get(key))):
            c.role(("defaults", key, i), r)


def ladders(c: Template) -> None:
    for name, steps in c.ladders.items():
        one_ladder(c, ("ladders", name), steps, owner=True)


def states(c: Template) -> None:
    for name, st in c.states.items():
        if isinstance(st, dict):
            one_state(c, name, st)


def handover_notice(c: Template) -> None:
    hn = c.d.get("handover_notice")
    if isinstance(hn, str) and c.notices is not None and hn not in c.notices:
        c.p(("handover_notice",), f"no notice template named '{hn}' (available: {', '.join(sorted(c.notices))})")


def roles(c: Template) -> None:
    for name, spec in dicts(c.d.get("roles")).items():
        if isinstance(spec, dict):
            for i, r in enumerate(seq(spec.get("assignable_by"))):
                c.role(("roles", name, "assignable_by", i), r)


def fields(c: Template) -> None:
    for name, f in c.fields.items():
        if not isinstance(f, dict):
            continue
        for i, r in enumerate(seq(f.get("editable_by"))):
            c.role(("fields", name, "editable_by", i), r)
        if f.get("type") == "choice" and not f.get("choices"):
            c.p(("fields", name), "a choice field needs `choices`")
        if f.get("type") != "choice" and "choices" in f:
            c.p(("fields", name, "choices"), "only a choice field has `choices`")
        for key in ("kind", "sets"):
            if f.get("type") != "meeting" and key in f:
                c.p(("fields", name, key), f"only a meeting field has `{key}`")
        file_field(c, name, f)
        target = f.get("sets")
        if isinstance(target, str) and f.get("type") == "meeting":
            spec = c.fields.get(target)
            if not isinstance(spec, dict) or spec.get("type") != "date":
                c.p(("fields", name, "sets"), f"`sets` names the date field that follows the meeting: '{target}' "
                                                 "is not a date field of this template")
        tally = f.get("tally")
        if f.get("type") == "tally" and not isinstance(tally, dict):
            c.p(("fields", name), "a tally field needs `tally` naming its integer count fields (members, for, against)")
        if f.get("type") != "tally" and "tally" in f:
            c.p(("fields", name, "tally"), "only a tally field has `tally`")
        for k, ref in dicts(tally).items():
            spec = c.fields.get(ref) if isinstance(ref, str) else None
            if isinstance(ref, str) and not isinstance(spec, dict):
                c.p(("fields", name, "tally", k), f"counts unknown field '{ref}'")
            elif isinstance(spec, dict) and spec.get("type") != "integer":
                c.p(("fields", name, "tally", k), f"count field '{ref}' must be of type integer, not {spec.get('type')}")
            elif isinstance(spec, dict) and spec.get("keep") and k != "members":
                c.p(("fields", name, "tally", k), f"count field '{ref}' must not be `keep`: every round is counted anew")
    pattern = c.d.get("slip_pattern")
    if isinstance(pattern, str):
        try:
            pattern.format(year=2026, org="人大", n=1)
        except (KeyError, IndexError, ValueError) as e:
            c.p(("slip_pattern",), f"the pattern may use only {{year}}, {{org}} (the organisation's 代字) and {{n}} "
                                   f"({type(e).__name__}: {e})")
        else:
            if "{n}" not in pattern:
                c.p(("slip_pattern",), "the pattern needs {n}, the slip's number in its year")


def one_state(c: Template, name: str, st: dict) -> None:
    base = ("states", name)
    if "owner" in st:
        c.role(base + ("owner",), st["owner"])
    for i, tag in enumerate(seq(st.get("tags"))):
        if isinstance(tag, str) and tag not in c.tags:
            c.p(base + ("tags", i), f"unknown tag '{tag}' (declare it under `tags`)")
    for key in ("pause_roles", "extension_approvers", "cc"):
        for i, r in enumerate(seq(st.get(key))):
            c.role(base + (key, i), r)
    for i, f in enumerate(seq(st.get("shows"))):
        c.field_ref(base + ("shows", i), f, ("text", "file", "list", "date", "choice", "integer", "duration"),
                    "shows", f"field '{f}' cannot be shown at the top of the step's page")
    dl = st.get("deadline")
    if isinstance(dl, dict):
        fld = dl.get("field")
        c.field_ref(base + ("deadline", "field"), fld, ("date", "meeting"), "deadline counts from",
                       f"deadline field '{fld}' must be of type date or meeting")
        src = dl.get("amount_from")
        c.field_ref(base + ("deadline", "amount_from"), src, ("duration",), "deadline amount from",
                       f"field '{src}' gives a deadline's amount: it must be of type duration")
        fixed = dl.get("fixed")
        if isinstance(fixed, str) and "field" in dl:
            c.p(base + ("deadline", "fixed"), "a fixed day is not counted from a date field: drop `field` or `fixed`")
        if isinstance(fixed, str) and len(fixed) == 5 and fixed[2] == "-" and fixed.replace("-", "").isdigit():
            try:
                date(2024, int(fixed[:2]), int(fixed[3:]))  # a leap year: 02-29 exists
            except ValueError:
                c.p(base + ("deadline", "fixed"), f"'{fixed}' is not a day of the year (MM-DD)")
        by = dl.get("set_by")
        c.field_ref(base + ("deadline", "set_by"), by, ("date",), "deadline set by",
                       f"field '{by}' sets a due date: it must be of type date")
        if "direction" in dl and fld is None:
            c.p(base + ("deadline", "direction"), "`direction` needs a `field` to count from")
    ladder = st.get("ladder")
    if isinstance(ladder, str):
        if ladder not in c.ladders:
            c.p(base + ("ladder",), f"unknown ladder '{ladder}' (ladders: {', '.join(sorted(c.ladders)) or 'none'})")
        elif "owner" not in st and uses_owner(seq(c.ladders[ladder])):
            c.p(base + ("ladder",), f"ladder '{ladder}' notifies `owner` but the state has no owner")
    elif isinstance(ladder, list):
        one_ladder(c, base + ("ladder",), ladder, owner="owner" in st)
    if ladder is not None and "deadline" not in st:
        c.p(base + ("ladder",), "a ladder needs a deadline to count from")
    spawn = st.get("spawn")
    if isinstance(spawn, dict):
        spawn_step(c, name, st, spawn)
    if st.get("final") is True:
        for key in ("deadline", "ladder", "spawn"):
            if key in st:
                c.p(base + (key,), f"a final state has no {key}")


def spawn_step(c: Template, name: str, st: dict, spawn: dict) -> None:
    """A step that hands work out: a `units` field to go over, another template, and one plain move to go on by."""
    base = ("states", name, "spawn")
    each = spawn.get("for_each")
    c.field_ref(base + ("for_each",), each, ("units",), "spawns for each unit of",
                   f"field '{each}' lists the units to hand work to: it must be of type units")
    if spawn.get("template") == c.d.get("key"):
        c.p(base + ("template",), "a step cannot hand work to items of its own template")
    for i, r in enumerate(seq(spawn.get("watchers"))):
        c.role(base + ("watchers", i), r)
    then = spawn.get("then")
    if not isinstance(then, str):
        return
    moves = [t for t in seq(c.d.get("transitions")) if isinstance(t, dict) and t.get("trigger") == then
             and name in ([t.get("source")] if isinstance(t.get("source"), str) else seq(t.get("source")))]
    if not moves:
        c.p(base + ("then",), f"no transition '{then}' leaves state '{name}': `then` names the move the system "
                                 "makes when the sub-items are done")
    elif len(moves) > 1 or moves[0].get("guards"):
        c.p(base + ("then",), f"'{then}' from '{name}' must be one transition without guards: the system makes it")
    elif moves[0].get("requires") or moves[0].get("comment_required"):
        c.p(base + ("then",), f"'{then}' from '{name}' may not require fields or a comment: the system makes it, "
                                 "and gives neither")
    elif moves[0].get("dest") == name:
        c.p(base + ("then",), f"'{then}' leads back to '{name}' itself: the step would hand the work out again")


def file_field(c: Template, name: str, f: dict) -> None:
    """A file field's `accept` names kinds the content can be told by, its `max_size` a size up to 200 MB."""
    for key in ("accept", "max_size", "multiple"):
        if f.get("type") != "file" and key in f:
            c.p(("fields", name, key), f"只有文件字段（type: file）才有 `{key}`")
    if f.get("type") != "file":
        return
    for i, a in enumerate(seq(f.get("accept"))):
        if isinstance(a, str) and ALIASES.get(a.lower(), a.lower()) not in KINDS:
            c.p(("fields", name, "accept", i), f"不能识别的文件类型“{a}”：可用 {'、'.join(KINDS)}（按内容识别）")
    if "max_size" in f:
        try:
            parse_size(f["max_size"])
        except ValueError:
            c.p(("fields", name, "max_size"), f"文件大小“{f['max_size']}”应为字节数或如 20MB 的写法，至多 200MB")


def amounts(c: Template) -> None:
    """Amounts a committee could mean: at most 10 years in days, 2000 working days, 10 years in months, a year in hours."""
    def visit(path: Path_, d: Any) -> None:
        if isinstance(d, dict) and isinstance(d.get("amount"), int) and not isinstance(d.get("amount"), bool):
            unit = d.get("unit")
            limit = AMOUNT_LIMITS.get(unit) if isinstance(unit, str) else None
            if limit is not None and d["amount"] > limit:
                c.p(path + ("amount",), f"{d['amount']} {d['unit']} is more than a committee can mean "
                                           f"(at most {limit} {d['unit']})")
        if isinstance(d, dict):
            for k, v in d.items():
                visit(path + (k,), v)
        elif isinstance(d, list):
            for i, v in enumerate(d):
                visit(path + (i,), v)
    for key in ("states", "ladders", "defaults"):
        visit((key,), c.d.get(key))


def one_ladder(c: Template, base: Path_, ladder: Any, owner: bool) -> None:
    seen: set[str] = set()
    last: float | None = None
    for i, rung in enumerate(seq(ladder)):
        if not isinstance(rung, dict):
            continue
        here = base + (i,)
        name = rung.get("rung")
        if isinstance(name, str):
            if name in seen:
                c.p(here + ("rung",), f"rung name '{name}' is used twice in this ladder")
            seen.add(name)
        for j, r in enumerate(seq(rung.get("notify"))):
            c.role(here + ("notify", j), r, allow_owner=True)
            if r == OWNER and not owner:
                c.p(here + ("notify", j), "notifies `owner` but the state has no owner")
        notice = rung.get("notice")
        if isinstance(notice, str) and c.notices is not None and notice not in c.notices:
            c.p(here + ("notice",), f"no notice template named '{notice}' (available: {', '.join(sorted(c.notices))})")
        if rung.get("attach_slip") is True and not rung.get("slip", "after" in rung):
            c.p(here + ("attach_slip",), "attach_slip attaches the rung's 督办单, but this rung issues none "
                                         "(a rung before the due time, or slip: false)")
        t = _rung_hours(rung)
        if t is not None:
            if last is not None and t <= last:
                c.p(here, "rungs must be in time order: this one fires no later than the one before it")
            last = t


def urgency(c: Template) -> None:
    u = c.d.get("urgency")
    if not isinstance(u, dict):
        return
    fname = u.get("field")
    spec = c.fields.get(fname) if isinstance(fname, str) else None
    if isinstance(fname, str) and spec is None:
        c.p(("urgency", "field"), f"urgency field '{fname}' does not exist")
    choices = seq(dicts(spec).get("choices"))
    rungs = {r.get("rung") for lad in c.all_ladders() for r in lad if isinstance(r, dict) and isinstance(r.get("rung"), str)}
    for value, rung in dicts(u.get("start_rung")).items():
        if spec is not None and value not in choices:
            c.p(("urgency", "start_rung", value), f"'{value}' is not a choice of field '{fname}'", at_key=True)
        if isinstance(rung, str) and rung not in rungs:
            c.p(("urgency", "start_rung", value), f"no ladder has a rung named '{rung}'")


def uses_owner(steps: list) -> bool:
    return any(isinstance(r, dict) and OWNER in seq(r.get("notify")) for r in steps)


def _rung_hours(rung: dict) -> float | None:
    for direction in ("before", "after"):
        off = rung.get(direction)
        if isinstance(off, dict) and isinstance(off.get("amount"), int) and off.get("unit") in ("hours", "days", "workdays", "months"):
            h = Duration(off["amount"], off["unit"]).nominal_hours()
            return -h if direction == "before" else h
    return None
