"""Hostile and careless input, one case each: exit 2, 3 or 4 with one line, no traceback, within 10 s, and
nothing changed in the database but the audited refusal."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from conftest import PEOPLE, ROOT, at, seed
from workflow import service
from workflow.store import Store

TEMPLATE = (ROOT / "definitions" / "special_supervision.yaml").read_text("utf-8")
HUGE = "9" * 20


def files(d: Path) -> dict[str, str]:
    """Bad files of every kind, made once per test in `d`; the cases name them as @name."""
    out = {}

    def put(name: str, content: str | bytes) -> None:
        p = d / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        out[name] = str(p)

    put("huge_months.yaml", TEMPLATE.replace("deadline: {amount: 3, unit: months}", "deadline: {amount: 1000000000000, unit: months}", 1))
    put("huge_hours.yaml", TEMPLATE.replace("deadline: {amount: 3, unit: months}", "deadline: {amount: 100000000, unit: hours}", 1))
    put("unreachable.yaml", TEMPLATE.replace("  dropped:\n    label: 未予立项\n    final: true\n",
                                              "  dropped:\n    label: 未予立项\n    final: true\n  orphan:\n    label: 孤立\n    final: true\n"))
    put("binary.yaml", bytes(range(256)) * 4)
    put("text.db", "this is a text file, not a database\n" * 40)
    put("random.db", os.urandom(8192))
    for n, email in enumerate(["a,b@x.example", "a;b@x.example", "a:b@x.example", "a@x.example\n"]):
        import json

        put(f"people_email{n}.yaml", f"people:\n  - {{code: zz{n}, name: 某人, email: {json.dumps(email, ensure_ascii=False)}}}\n")
    put("people_nul.yaml", "people:\n  - {code: zz, name: \"某\\0人\", email: zz@x.example}\n")
    put("people_unknown_member.yaml", "units:\n  - {code: u1, name: 一组, kind: group, members: [{person: ghost, role: x}]}\n")
    put("people.csv", "person,name,email\nzz,某人,not-an-address\n")
    put("calendar_bad.yaml", "year: 2027\nholidays: [{name: 春节, from: 2027-02-10, to: 2027-01-01}]\n")
    put("calendar_far.yaml", "year: 9999\nholidays: [{name: 元旦, from: 9999-01-01}]\n")
    put("config_bad.toml", "[smtp]\nport = 'many'\n")
    fifo = d / "fifo.yaml"
    os.mkfifo(fifo)
    out["fifo.yaml"] = str(fifo)
    out["zero"] = "/dev/zero"
    out["dir"] = str(d)
    return out


# (name, arguments, exit code); @file names a file from files(); {db} is the case's database URL.
CASES = [
    ("validate a template asking for 10^12 months", ["definitions", "validate", "@huge_months.yaml"], 2),
    ("publish a template asking for 10^8 hours", ["definitions", "publish", "@huge_hours.yaml", "--actor", "wang.fang"], 2),
    ("validate a template with an unreachable state", ["definitions", "validate", "@unreachable.yaml"], 2),
    ("validate a binary file", ["definitions", "validate", "@binary.yaml"], 2),
    ("validate /dev/zero", ["definitions", "validate", "@zero"], 2),
    ("validate a FIFO", ["definitions", "validate", "@fifo.yaml"], 2),
    ("validate a folder", ["definitions", "validate", "@dir"], 2),
    ("publish as a non-administrator", ["definitions", "publish", str(ROOT / "definitions" / "deputy_suggestion.yaml"), "--actor", "li.ming"], 3),
    ("people: a comma in an address", ["people", "import", "@people_email0.yaml", "--actor", "wang.fang"], 2),
    ("people: a semicolon in an address", ["people", "import", "@people_email1.yaml", "--actor", "wang.fang"], 2),
    ("people: a colon in an address", ["people", "import", "@people_email2.yaml", "--actor", "wang.fang"], 2),
    ("people: an address followed by a newline", ["people", "import", "@people_email3.yaml", "--actor", "wang.fang"], 2),
    ("people: a NUL in a name", ["people", "import", "@people_nul.yaml", "--actor", "wang.fang"], 2),
    ("people: a member nobody knows", ["people", "import", "@people_unknown_member.yaml", "--actor", "wang.fang"], 2),
    ("people: a CSV with a bad address", ["people", "import", "@people.csv", "--actor", "wang.fang"], 2),
    ("people: /dev/zero", ["people", "import", "@zero", "--actor", "wang.fang"], 2),
    ("people: a FIFO", ["people", "import", "@fifo.yaml", "--actor", "wang.fang"], 2),
    ("people: by someone who is no administrator", ["people", "import", str(PEOPLE), "--actor", "huang.bo"], 3),
    ("calendar: a holiday ending before it starts", ["calendar", "import", "@calendar_bad.yaml", "--actor", "wang.fang"], 2),
    ("calendar: the year 9999", ["calendar", "import", "@calendar_far.yaml", "--actor", "wang.fang"], 2),
    ("calendar: /dev/zero", ["calendar", "import", "@zero", "--actor", "wang.fang"], 2),
    ("calendar: a FIFO", ["calendar", "import", "@fifo.yaml", "--actor", "wang.fang"], 2),
    ("--db a text file", ["--db", "sqlite:///@text.db", "items", "list"], 2),
    ("--db random bytes", ["--db", "sqlite:///@random.db", "items", "list"], 2),
    ("--db random bytes, acting", ["--db", "sqlite:///@random.db", "escalate", "--once"], 2),
    ("--db a folder", ["--db", "sqlite:///@dir", "items", "list"], 2),
    ("--db nonsense", ["--db", "nonsense://x", "items", "list"], 2),
    ("--config not TOML", ["--config", "@binary.yaml", "outbox", "deliver"], 2),
    ("--config a bad port", ["--config", "@config_bad.toml", "outbox", "deliver"], 2),
    ("items show 10^20", ["items", "show", HUGE], 2),
    ("items history 10^20", ["items", "history", HUGE], 2),
    ("items show 2^40 (PostgreSQL's integer ends at 2^31)", ["items", "show", str(2**40)], 2),
    ("items show a missing item", ["items", "show", "999999"], 2),
    ("outbox retry 10^20", ["outbox", "retry", HUGE, "--actor", "wang.fang"], 2),
    ("extensions approve 10^20", ["extensions", "approve", HUGE, "--actor", "li.ming"], 2),
    ("items list --limit 10^20", ["items", "list", "--limit", HUGE], 2),
    ("items list --limit 0", ["items", "list", "--limit", "0"], 2),
    ("items list --offset -1", ["items", "list", "--offset", "-1"], 2),
    ("outbox list --limit -5", ["outbox", "list", "--limit", "-5"], 2),
    ("items list --now 0001-01-01", ["items", "list", "--now", "0001-01-01"], 2),
    ("items list --now 9999-12-31", ["items", "list", "--now", "9999-12-31T23:59"], 2),
    ("items list --now nonsense", ["items", "list", "--now", "yesterday"], 2),
    ("items list --light purple", ["items", "list", "--light", "purple"], 2),
    ("calendar due 999999999 workdays", ["calendar", "due", "--from", "2026-01-05", "--amount", "999999999", "--unit", "workdays"], 2),
    ("calendar due 10^20 days", ["calendar", "due", "--from", "2026-01-05", "--amount", "100000000000000000000", "--unit", "days"], 2),
    ("calendar due from 9999-12-30", ["calendar", "due", "--from", "9999-12-30", "--amount", "1", "--unit", "days"], 2),
    ("calendar due back from 0001-01-01", ["calendar", "due", "--from", "0001-01-01", "--amount", "1", "--unit", "days", "--before"], 2),
    ("calendar due from a non-date", ["calendar", "due", "--from", "2026-02-30", "--amount", "1", "--unit", "days"], 2),
    ("calendar show 0", ["calendar", "show", "0"], 2),
    ("calendar show 9999", ["calendar", "show", "9999"], 2),
    ("advance dated 1900-01-01", ["items", "advance", "1", "adopt_plan", "--actor", "li.ming", "--field", "meeting_date=2026-06-25", "--now", "1900-01-01"], 2),
    ("advance dated before the item's last event", ["items", "advance", "1", "adopt_plan", "--actor", "li.ming", "--field", "meeting_date=2026-06-25", "--now", "2026-01-05T12:00"], 2),
    ("escalate at 9999-12-31", ["escalate", "--once", "--now", "9999-12-31T09:00"], 2),
    ("escalate far ahead of the clock on a real database", ["escalate", "--once", "--now", "2150-01-01T09:00"], 2),
    ("advance by someone nobody knows", ["items", "advance", "1", "adopt_plan", "--actor", "ghost", "--now", "2026-01-07T09:00"], 3),
    ("advance by an actor code holding a NUL", ["items", "advance", "1", "adopt_plan", "--actor", "li\x00ming", "--now", "2026-01-07T09:00"], 3),
    ("advance by a 10,000-character actor code", ["items", "advance", "1", "adopt_plan", "--actor", "x" * 10000, "--now", "2026-01-07T09:00"], 3),
    ("advance by the supervised department", ["items", "advance", "1", "adopt_plan", "--actor", "huang.bo", "--field", "meeting_date=2026-06-25", "--now", "2026-01-07T09:00"], 3),
    ("advance by a trigger that does not exist", ["items", "advance", "1", "fly", "--actor", "li.ming", "--now", "2026-01-07T09:00"], 3),
    ("advance with a stale version", ["items", "advance", "1", "adopt_plan", "--actor", "li.ming", "--field", "meeting_date=2026-06-25", "--expect-version", "1", "--now", "2026-01-07T09:00"], 4),
    ("advance --expect-version 0", ["items", "advance", "1", "adopt_plan", "--actor", "li.ming", "--expect-version", "0"], 2),
    ("advance with a date in the year 10000", ["items", "advance", "1", "adopt_plan", "--actor", "li.ming", "--field", "meeting_date=10000-01-01", "--now", "2026-01-07T09:00"], 2),
    ("advance with a date in 1066", ["items", "advance", "1", "adopt_plan", "--actor", "li.ming", "--field", "meeting_date=1066-10-14", "--now", "2026-01-07T09:00"], 2),
    ("advance with a field without a value", ["items", "advance", "1", "adopt_plan", "--actor", "li.ming", "--field", "meeting_date", "--now", "2026-01-07T09:00"], 2),
    ("advance with a comment of 1 MB", ["items", "advance", "1", "drop", "--actor", "li.ming", "--comment", "字" * 1_000_000, "--now", "2026-01-07T09:00"], 2),
    ("create with a title of 1 MB", ["items", "create", "--template", "special_supervision", "--title", "字" * 1_000_000, "--actor", "wang.fang", "--now", "2026-01-07T09:00"], 2),
    ("create with a NUL in the title", ["items", "create", "--template", "special_supervision", "--title", "大气\x00污染", "--actor", "wang.fang", "--now", "2026-01-07T09:00"], 2),
    ("create with a carriage return in the title", ["items", "create", "--template", "special_supervision", "--title", "大气\r污染", "--actor", "wang.fang", "--now", "2026-01-07T09:00"], 2),
    ("create with a direction override in the title", ["items", "create", "--template", "special_supervision", "--title", "大气\u202e污染", "--actor", "wang.fang", "--now", "2026-01-07T09:00"], 2),
    ("create on a template nobody published", ["items", "create", "--template", "nope", "--title", "x", "--actor", "wang.fang", "--now", "2026-01-07T09:00"], 2),
    ("create in a group that does not exist", ["items", "create", "--template", "special_supervision", "--title", "x", "--group", "g-none", "--actor", "wang.fang", "--now", "2026-01-07T09:00"], 2),
    ("create by the supervised department", ["items", "create", "--template", "special_supervision", "--title", "x", "--group", "g-env", "--actor", "huang.bo", "--now", "2026-01-07T09:00"], 3),
    ("assign oneself 主任会议", ["items", "assign", "1", "council", "huang.bo", "--actor", "huang.bo", "--now", "2026-01-07T09:00"], 3),
    ("set the meeting date as the department", ["items", "set", "1", "--field", "meeting_date=2027-12-31", "--actor", "huang.bo", "--now", "2026-01-07T09:00"], 3),
    ("pause with an empty reason", ["items", "pause", "1", "--reason", " ", "--actor", "li.ming", "--now", "2026-01-07T09:00"], 2),
    ("extend until the year 10000", ["items", "extend", "1", "--until", "10000-01-01", "--reason", "x", "--actor", "li.ming", "--now", "2026-01-07T09:00"], 2),
    ("outbox retry without ids", ["outbox", "retry", "--actor", "wang.fang"], 2),
    ("audit verify with a malformed checkpoint", ["audit", "verify", "--checkpoint", "12:xyz"], 2),
    ("audit init-key over an existing file", ["audit", "init-key", "@binary.yaml"], 2),
    ("an unknown command", ["items", "fly"], 2),
]


# Refusals recorded in the audit trail besides every exit 3: a backdated action.
AUDITED = {"advance dated before the item's last event"}


def _expand(args: list[str], made: dict[str, str]) -> list[str]:
    out = []
    for a in args:
        for name, path in made.items():
            a = a.replace(f"@{name}", path)
        out.append(a)
    return out


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """A real database (no simulation): the demo's people and templates, item 1 proposed on 2026-01-06."""
    path = tmp_path_factory.mktemp("corpus") / "base.db"
    s = Store(f"sqlite:///{path}")
    seed(s, at("2026-01-05 09:00"))
    item = service.create_item(s, "wang.fang", template="special_supervision", title="大气污染防治", now=at("2026-01-05 09:00"), group="g-env").id
    service.advance(s, "wang.fang", item, "propose", at("2026-01-06 09:00"), fields={"topic": "x", "source": "社会关注"})
    s.dispose()
    return path


def snapshot(path: Path) -> dict[str, list]:
    if not path.exists():
        return {}
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}
    except sqlite3.DatabaseError:
        return {"bytes": [path.read_bytes()]}
    finally:
        con.close()


@pytest.mark.parametrize("name, args, code", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_line_and_changes_nothing(prepared, tmp_path, monkeypatch, name, args, code):
    monkeypatch.chdir(tmp_path)
    for var in ("WUZHUAN_DATABASE_URL", "WUZHUAN_ACTOR", "WUZHUAN_CLOCK_SIMULATION", "WUZHUAN_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    db = tmp_path / "wuzhuan.db"
    shutil.copyfile(prepared, db)
    made = files(tmp_path)
    before = {**snapshot(db), **{k: [Path(v).read_bytes()] for k, v in made.items() if k.endswith(".db")}}
    argv = _expand(args, made)
    if "--db" not in argv:
        argv = ["--db", f"sqlite:///{db}"] + argv
    t = time.monotonic()
    r = CliRunner().invoke(cli, argv, catch_exceptions=True)
    took = time.monotonic() - t
    assert r.exception is None or isinstance(r.exception, SystemExit), f"{type(r.exception).__name__}: {r.exception}"
    assert r.exit_code == code, (r.exit_code, r.stderr, r.stdout[:300])
    assert "Traceback" not in r.output and "internal error" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(("Error:", "Usage:")) or _click_usage(r.stderr), r.stderr
    assert took < 10, f"took {took:.1f} s"
    after = {**snapshot(db), **{k: [Path(v).read_bytes()] for k, v in made.items() if k.endswith(".db")}}
    _only_refusals_added(before, after, audited=code == 3 or name in AUDITED)


def _click_usage(stderr: str) -> bool:
    """click's own usage errors: a usage line, a hint, and one 'Error:' line."""
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return len([ln for ln in lines if ln.startswith("Error:")]) == 1 and lines[0].startswith("Usage:")


def _only_refusals_added(before: dict, after: dict, audited: bool) -> None:
    for table in set(before) | set(after):
        if table in ("audit_events", "audit_head"):
            continue
        assert before.get(table) == after.get(table), f"table {table} changed"
    new = [row for row in after.get("audit_events", []) if row not in before.get("audit_events", [])]
    assert all("'refused'" in row for row in new), f"events other than refusals were written: {new[:2]}"
    if audited:
        assert len(new) == 1, "a refusal must be recorded in the audit trail"


def test_a_closed_pipe_ends_a_command_quietly(prepared, tmp_path):
    db = tmp_path / "w.db"
    shutil.copyfile(prepared, db)
    s = Store(f"sqlite:///{db}")
    for i in range(300):
        service.create_item(s, "wang.fang", template="special_supervision", title=f"事项{i}", now=at("2026-01-06 10:00"), group="g-env")
    s.dispose()
    exe = Path(sys.executable).parent / "wuzhuan"
    p = subprocess.run(f"'{exe}' --db sqlite:///{db} items list --limit 300 --now 2026-01-07T09:00 | head -n 2",
                       shell=True, capture_output=True, text=True, executable="/bin/bash")
    assert p.stderr == "" and len(p.stdout.splitlines()) == 2


def test_a_read_only_database_refuses_writes_with_one_line(prepared, tmp_path):
    """What a read-only file gives an acting command (root ignores file modes, so the store is opened read-only)."""
    from workflow.errors import Unavailable

    db = tmp_path / "ro.db"
    shutil.copyfile(prepared, db)
    s = Store(f"sqlite:///{db}", readonly=True)
    with pytest.raises(Unavailable, match="当前无法写入"):
        service.create_item(s, "wang.fang", template="special_supervision", title="x", now=at("2026-01-07 09:00"), group="g-env")
    s.dispose()
    assert snapshot(db) == snapshot(prepared)


@pytest.mark.postgres
def test_text_with_nul_on_postgresql_is_refused_in_one_line(pg_url, tmp_path):
    """PostgreSQL cannot store NUL in text: wherever one could reach it, it is refused as input (exit 2), never a crash."""
    from workflow.errors import InvalidInput, NotPermitted

    s = Store(pg_url)
    seed(s, at("2026-01-05 09:00"))
    now = at("2026-01-06 09:00")
    with pytest.raises(InvalidInput):
        service.create_item(s, "wang.fang", template="special\x00supervision", title="x", now=now, group="g-env")
    with pytest.raises(InvalidInput):
        service.create_item(s, "wang.fang", template="special_supervision", title="大气\x00", now=now, group="g-env")
    with pytest.raises(InvalidInput):
        service.create_item(s, "wang.fang", template="special_supervision", title="x", now=now, group="g\x00env")
    with pytest.raises(NotPermitted):
        service.create_item(s, "wang\x00fang", template="special_supervision", title="x", now=now, group="g-env")
    with pytest.raises(InvalidInput):
        service.list_items(s, service.OPERATOR, now, owner="li\x00ming")
    p = tmp_path / "p.yaml"
    p.write_text('people:\n  - {code: zz, name: "某\\0人", email: zz@x.example}\n', encoding="utf-8")
    with pytest.raises(InvalidInput):
        service.import_people(s, "wang.fang", p, now)
    assert service.verify_audit(s).ok
    s.dispose()
