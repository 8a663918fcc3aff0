"""People files (YAML or CSV) → checked entries: people, units and memberships, every problem located.

A file with any problem imports nothing: the caller gets every problem at once, as
`FILE:LINE:COL: message`, like a template's.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import deputy_file
from .deputy_file import DeputyEntry
from .errors import FileError, Problem
from .textfile import FileProblem, decode, read_bytes
from .yamltext import parse_yaml

MAX_BYTES = 5_000_000
LEVELS = ("province", "city", "district", "township")
LEVEL_CN = {"province": "省", "city": "市", "district": "县（区）", "township": "乡镇"}
UNIT_KINDS = ("group", "committee", "council", "office", "department", "district", "deputy", "other")
CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
EMPTY_HINT = "a people file is a mapping with `people` (code, name, email) and `units` (code, name, kind, members)"


@dataclass
class PersonEntry:
    code: str
    name: str
    email: str | None
    title: str | None
    admin: bool = False
    active: bool = True
    line: int = 0
    deputy: tuple[DeputyEntry, ...] | None = None  # his mandates as a deputy (None: the file says nothing of them)


@dataclass
class MemberEntry:
    person: str
    role: str
    line: int = 0


@dataclass
class UnitEntry:
    code: str
    name: str
    kind: str
    applies_to_all: bool
    members: tuple[MemberEntry, ...]
    line: int = 0
    webhook: str | None = None  # a group robot's URL: the unit's notices are also posted there as JSON
    organisation: str | None = None  # the code of the 人大 it belongs to (None: not said — a new unit is the root's,
    # a unit already in the database keeps its own)


@dataclass
class OrgEntry:
    """A People's Congress (人大常委会) of the deployment: the city's, a district's, a township's."""

    code: str
    name: str
    level: str
    parent: str | None
    slip_code: str | None = None  # 机关代字, for slip numbers
    line: int = 0


@dataclass
class PeopleFile:
    name: str
    people: tuple[PersonEntry, ...]
    units: tuple[UnitEntry, ...]
    organisations: tuple[OrgEntry, ...] = ()


def check_email(value: str) -> str | None:
    """The address as it will be used, or None when it is not a deliverable-looking e-mail address.

    email-validator checks the syntax (RFC 5322/6531, internationalised names allowed) without DNS;
    intranet domains are allowed, special-use ones (.test, .local, localhost) are not.
    """
    from email_validator import (  # only when reading people files (start-up time)
        EmailNotValidError,
        validate_email,
    )

    try:
        return validate_email(value, check_deliverability=False, globally_deliverable=False).normalized
    except EmailNotValidError:
        return None


def _email_problem(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError as e:
        return str(e).rstrip(".")
    return "not valid"


class _Checker:
    def __init__(self, name: str):
        self.name = name
        self.problems: list[Problem] = []

    def p(self, line: int, col: int, msg: str) -> None:
        self.problems.append(Problem(self.name, line or 1, col or 1, msg))

    def text(self, value: Any, line: int, col: int, what: str, *, required: bool, limit: int) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.p(line, col, f"{what} is missing")
            return None
        if not isinstance(value, str | int) or isinstance(value, bool):
            self.p(line, col, f"{what} must be text")
            return None
        if _CONTROL.search(str(value)):  # before stripping: a line break after an address is a careless file, not a blank
            self.p(line, col, f"{what} contains control or direction-override characters")
            return None
        text = str(value).strip()
        if len(text) > limit:
            self.p(line, col, f"{what} is {len(text)} characters long; at most {limit}")
            return None
        return text

    def code(self, raw: dict, line: int, col: int, what: str) -> str | None:
        """The entry's `code`: required, letters, digits, '.', '-' and '_' (None, with the problem noted, if not)."""
        code = self.text(raw.get("code"), line, col, f"{what}: code", required=True, limit=64)
        if code is not None and not CODE.match(code):
            self.p(line, col, f"{what}: code '{code}' may use letters, digits, '.', '-' and '_' only")
            return None
        return code

    def person(self, raw: dict, line: int, col: int, i: int) -> PersonEntry | None:
        code = self.code(raw, line, col, f"person {i}")
        who = f"person '{code}'" if code else f"person {i}"
        name = self.text(raw.get("name"), line, col, f"{who}: name", required=True, limit=100)
        email = self.text(raw.get("email"), line, col, f"{who}: email", required=False, limit=200)
        if email is not None:
            good = check_email(email)
            if good is None:
                self.p(line, col, f"{who}: '{email}' is not an e-mail address ({_email_problem(email)})")
            email = good
        title = self.text(raw.get("title"), line, col, f"{who}: title", required=False, limit=100)
        flags = {}
        for key in ("admin", "active"):
            v = raw.get(key, key == "active")
            if not isinstance(v, bool):
                self.p(line, col, f"{who}: `{key}` must be true or false, not {v!r}")
                v = key == "active"
            flags[key] = v
        unknown = set(raw) - {"code", "name", "email", "title", "admin", "active", "deputy"}
        for key in sorted(unknown):
            self.p(line, col, f"{who}: unknown key '{key}' (allowed: code, name, email, title, admin, active, deputy)")
        deputy = deputy_file.mandates(self, raw["deputy"], line, col, who) if raw.get("deputy") is not None else None
        if code is None or name is None:
            return None
        return PersonEntry(code, name, email, title, flags["admin"], flags["active"], line, deputy)

    def unit(self, raw: dict, line: int, col: int, i: int, members: list[tuple[Any, int, int]]) -> UnitEntry | None:
        code = self.code(raw, line, col, f"unit {i}")
        what = f"unit '{code}'" if code else f"unit {i}"
        name = self.text(raw.get("name"), line, col, f"{what}: name", required=True, limit=200)
        kind = raw.get("kind", "other")
        if kind not in UNIT_KINDS:
            self.p(line, col, f"{what}: kind '{kind}' is not one of {', '.join(UNIT_KINDS)}")
        applies = raw.get("applies_to_all", False)
        if not isinstance(applies, bool):
            self.p(line, col, f"{what}: `applies_to_all` must be true or false")
        unknown = set(raw) - {"code", "name", "kind", "applies_to_all", "members", "webhook", "organisation"}
        for key in sorted(unknown):
            self.p(line, col, f"{what}: unknown key '{key}' (allowed: code, name, kind, applies_to_all, members, webhook, "
                              f"organisation)")
        org = self.text(raw.get("organisation"), line, col, f"{what}: organisation", required=False, limit=64)
        webhook = self.text(raw.get("webhook"), line, col, f"{what}: webhook", required=False, limit=500)
        if webhook is not None and (not webhook.startswith(("http://", "https://")) or any(ch.isspace() for ch in webhook)):
            self.p(line, col, f"{what}: webhook '{webhook[:80]}' must be an http:// or https:// URL without spaces")
            webhook = None
        out: list[MemberEntry] = []
        for m, mline, mcol in members:
            if not isinstance(m, dict) or not isinstance(m.get("person"), str) or not isinstance(m.get("role"), str):
                self.p(mline, mcol, f"{what}: each member needs `person` and `role`")
                continue
            if not ROLE.match(m["role"]):
                self.p(mline, mcol, f"{what}: role '{m['role']}' is not a role name (letters, digits and _)")
                continue
            out.append(MemberEntry(m["person"].strip(), m["role"], mline))
        if code is None or name is None or kind not in UNIT_KINDS or not isinstance(applies, bool):
            return None
        return UnitEntry(code, name, kind, applies, tuple(out), line, webhook, org)

    def organisation(self, raw: dict, line: int, col: int, i: int) -> OrgEntry | None:
        code = self.code(raw, line, col, f"organisation {i}")
        what = f"organisation '{code}'" if code else f"organisation {i}"
        name = self.text(raw.get("name"), line, col, f"{what}: name", required=True, limit=200)
        level = raw.get("level")
        if level not in LEVELS:
            self.p(line, col, f"{what}: level {level!r} is not one of {', '.join(LEVELS)}")
        parent = self.text(raw.get("parent"), line, col, f"{what}: parent", required=False, limit=64)
        slip = self.text(raw.get("slip_code"), line, col, f"{what}: slip_code", required=False, limit=20)
        for key in sorted(set(raw) - {"code", "name", "level", "parent", "slip_code"}):
            self.p(line, col, f"{what}: unknown key '{key}' (allowed: code, name, level, parent, slip_code)")
        if code is None or name is None or level not in LEVELS:
            return None
        return OrgEntry(code, name, level, parent, slip, line)


def read(path: str | Path) -> PeopleFile:
    """Read and check a people file; raises FileError with every located problem."""
    name = str(path)
    try:
        text = decode(read_bytes(path, MAX_BYTES, "people file"), name)
    except FileProblem as e:
        raise FileError([Problem(name, e.line or 1, 1, e.reason)]) from None
    if Path(name).suffix.lower() == ".csv":
        return _from_csv(text, name)
    return _from_yaml(text, name)


def _from_yaml(text: str, name: str) -> PeopleFile:
    doc = parse_yaml(text, name, EMPTY_HINT)
    if doc.problems or not doc.parsed:
        raise FileError(doc.problems)
    data = doc.data
    if not isinstance(data, dict):
        raise FileError([Problem(name, 1, 1, EMPTY_HINT)])
    c = _Checker(name)
    for key in sorted(set(data) - {"people", "units", "organisations"}):
        c.p(*doc.mark((key,), at_key=True), f"unknown key '{key}' (a people file has `organisations`, `people` and `units`)")
    people, units, orgs = [], [], []
    raw_orgs = data.get("organisations") or []
    if not isinstance(raw_orgs, list):
        c.p(*doc.mark(("organisations",)), "`organisations` must be a list")
        raw_orgs = []
    for i, o in enumerate(raw_orgs):
        line, col = doc.mark(("organisations", i))
        if not isinstance(o, dict):
            c.p(line, col, f"organisation {i + 1} must be a mapping with code, name, level and parent")
            continue
        entry = c.organisation(o, line, col, i + 1)
        if entry:
            orgs.append(entry)
    raw_people = data.get("people") or []
    if not isinstance(raw_people, list):
        c.p(*doc.mark(("people",)), "`people` must be a list")
        raw_people = []
    for i, p in enumerate(raw_people):
        line, col = doc.mark(("people", i))
        if not isinstance(p, dict):
            c.p(line, col, f"person {i + 1} must be a mapping with code, name and email")
            continue
        entry = c.person(p, line, col, i + 1)
        if entry:
            people.append(entry)
    raw_units = data.get("units") or []
    if not isinstance(raw_units, list):
        c.p(*doc.mark(("units",)), "`units` must be a list")
        raw_units = []
    for i, u in enumerate(raw_units):
        line, col = doc.mark(("units", i))
        if not isinstance(u, dict):
            c.p(line, col, f"unit {i + 1} must be a mapping with code, name, kind and members")
            continue
        raw_members = u.get("members") or []
        members = [(m, *doc.mark(("units", i, "members", j))) for j, m in enumerate(raw_members)] if isinstance(raw_members, list) else []
        if not isinstance(raw_members, list):
            c.p(*doc.mark(("units", i, "members")), f"unit {i + 1}: `members` must be a list")
        entry = c.unit(u, line, col, i + 1, members)
        if entry:
            units.append(entry)
    return _finish(c, name, people, units, orgs)


CSV_COLUMNS = ("person", "name", "email", "title", "admin", "unit", "unit_name", "unit_kind", "role", "applies_to_all",
               "unit_webhook", "unit_organisation", *deputy_file.CSV_COLUMNS)


def _from_csv(text: str, name: str) -> PeopleFile:
    """One row per membership: person,name,email[,title,admin,unit,unit_name,unit_kind,role,applies_to_all]."""
    c = _Checker(name)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        rows = list(reader)
    except csv.Error as e:
        raise FileError([Problem(name, 1, 1, f"not valid CSV: {e}")]) from None
    need = {"person", "name", "email"}
    if not need <= set(header):
        raise FileError([Problem(name, 1, 1, f"the CSV header must contain {', '.join(sorted(need))} "
                                             f"(and may contain {', '.join(CSV_COLUMNS[3:])})")])
    for col in header:
        if col not in CSV_COLUMNS:
            c.p(1, 1, f"unknown column '{col}' (columns: {', '.join(CSV_COLUMNS)})")
    yes = ("1", "true", "yes", "是")
    people: dict[str, PersonEntry] = {}
    units: dict[str, dict] = {}
    for n, row in enumerate(rows, start=2):
        if None in row:
            c.p(n, 1, "this row has more cells than the header")
            continue
        raw = {"code": row.get("person"), "name": row.get("name"), "email": row.get("email") or None,
               "title": row.get("title") or None, "admin": (row.get("admin") or "").strip().lower() in yes}
        entry = people.get((raw["code"] or "").strip())  # his first row makes him; later rows add memberships
        if entry is None:
            entry = c.person(raw, n, 1, n - 1)
        if entry and entry.code not in people:
            people[entry.code] = entry
        mandate = deputy_file.from_row(c, row, n, f"person '{raw['code']}'")
        if mandate is not None and entry:  # one level a row: a deputy of several levels has several rows
            mine = people[entry.code]
            same = [m for m in mine.deputy or () if (m.level, m.term) == (mandate.level, mandate.term)]
            if same and same[0] != mandate:  # the same mandate repeated on each membership row is fine
                c.p(n, 1, f"person '{entry.code}': deputy level {mandate.level} is given twice, differently")
            elif not same:
                mine.deputy = (*(mine.deputy or ()), mandate)
        unit = (row.get("unit") or "").strip()
        if unit:
            u = units.setdefault(unit, {"raw": {"code": unit, "name": (row.get("unit_name") or unit).strip(),
                                                "kind": (row.get("unit_kind") or "other").strip(),
                                                "applies_to_all": (row.get("applies_to_all") or "").strip().lower() in yes,
                                                **({"webhook": row["unit_webhook"].strip()} if (row.get("unit_webhook") or "").strip() else {}),
                                                **({"organisation": row["unit_organisation"].strip()}
                                                   if (row.get("unit_organisation") or "").strip() else {})},
                                        "line": n, "members": []})
            if (row.get("role") or "").strip() and entry:
                u["members"].append(({"person": entry.code, "role": row["role"].strip()}, n, 1))
    out_units = []
    for i, u in enumerate(units.values(), start=1):
        entry = c.unit(u["raw"], u["line"], 1, i, u["members"])
        if entry:
            out_units.append(entry)
    return _finish(c, name, list(people.values()), out_units)


def _finish(c: _Checker, name: str, people: list[PersonEntry], units: list[UnitEntry],
            orgs: list[OrgEntry] = ()) -> PeopleFile:
    seen: dict[str, int] = {}
    for p in people:
        if p.code in seen:
            c.p(p.line, 1, f"person '{p.code}' is listed twice (first on line {seen[p.code]})")
        seen.setdefault(p.code, p.line)
    useen: dict[str, int] = {}
    for u in units:
        if u.code in useen:
            c.p(u.line, 1, f"unit '{u.code}' is listed twice (first on line {useen[u.code]})")
        useen.setdefault(u.code, u.line)
    _check_tree(c, orgs, units)
    if c.problems:
        raise FileError(c.problems)
    return PeopleFile(name, tuple(people), tuple(units), tuple(orgs))


def _check_tree(c: _Checker, orgs: list[OrgEntry], units: list[UnitEntry]) -> None:
    """One root (the organisation without a parent), every parent known and one level up, no cycle; each unit's
    organisation known."""
    by_code: dict[str, OrgEntry] = {}
    for o in orgs:
        if o.code in by_code:
            c.p(o.line, 1, f"organisation '{o.code}' is listed twice (first on line {by_code[o.code].line})")
        by_code.setdefault(o.code, o)
    roots = [o for o in by_code.values() if o.parent is None]
    if by_code and len(roots) != 1:
        c.p((roots[1] if len(roots) > 1 else orgs[0]).line, 1,
            "exactly one organisation has no `parent` (the root): " + (", ".join(o.code for o in roots) if roots else "none has"))
    for o in by_code.values():
        if o.parent is None:
            continue
        up = by_code.get(o.parent)
        if up is None:
            c.p(o.line, 1, f"organisation '{o.code}': parent '{o.parent}' is not among the organisations")
        elif LEVELS.index(up.level) >= LEVELS.index(o.level):
            c.p(o.line, 1, f"organisation '{o.code}' ({o.level}) cannot be under '{up.code}' ({up.level}): a parent is a level up")
    # a unit may name an organisation of this file or one the database holds already: the import checks the latter

