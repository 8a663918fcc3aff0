"""The command line through click's runner: exit codes, exact error lines, no tracebacks; state checked via the library."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

import cli as entry
from cli import cli
from conftest import ROOT
from workflow import service
from workflow.errors import NotPermitted
from workflow.present import safe, width
from workflow.service import accounts
from workflow.store import Store

DEFS = ROOT / "definitions"
PEOPLE = ROOT / "workflow" / "demo_people.yaml"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WUZHUAN_DATABASE_URL", raising=False)
    monkeypatch.delenv("WUZHUAN_ACTOR", raising=False)
    monkeypatch.setenv("WUZHUAN_CLOCK_SIMULATION", "true")  # the tests act on 2026 dates, some ahead of today
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    def invoke(*args, db=True, env=None):
        full = (["--db", url] if db else []) + [str(a) for a in args]
        return runner.invoke(cli, full, env=env, catch_exceptions=False)

    invoke.url = url
    return invoke


@pytest.fixture
def ready_cli(run):
    assert run("people", "import", PEOPLE, "--now", "2026-01-05T09:00").exit_code == 0
    r = run("definitions", "publish", *sorted(DEFS.glob("*.yaml")), "--actor", "wang.fang", "--now", "2026-01-05T09:00")
    assert r.exit_code == 0, r.output
    r = run("items", "create", "--template", "special_supervision", "--title", "大气污染防治", "--group", "g-env",
            "--actor", "wang.fang", "--now", "2026-01-05T09:00")
    assert r.exit_code == 0, r.output
    return run


def test_every_command_has_help_text():
    def walk(cmd, path):
        assert cmd.help or cmd.short_help, f"`{' '.join(path)}` has no help text"
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, path + [name])
    walk(cli, ["wuzhuan"])


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = []

    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, path + [name])
        elif " ".join(path) not in readme:
            missing.append(" ".join(path))
    walk(cli, ["wuzhuan"])
    assert missing == []


def test_validate_ok_and_errors(run, tmp_path):
    r = run("definitions", "validate", *sorted(DEFS.glob("*.yaml")), db=False)
    assert r.exit_code == 0 and r.output.count(": ok") == 7
    bad = tmp_path / "bad.yaml"
    bad.write_text((DEFS / "special_supervision.yaml").read_text().replace("owner: office\n", "owner: offce\n", 1))
    r = run("definitions", "validate", bad, db=False)
    assert r.exit_code == 2
    assert f"{bad}:" in r.stderr and "unknown role 'offce'" in r.stderr and "Traceback" not in r.output


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00binary", b"- just\n- a list\n", b"key: [oops", b"x" * 2_000_000])
def test_validate_never_shows_a_traceback(run, tmp_path, content):
    p = tmp_path / "t.yaml"
    p.write_bytes(content)
    r = run("definitions", "validate", p, db=False)
    assert r.exit_code == 2 and "Traceback" not in r.output and r.stderr.startswith("Error:")
    assert f"{p}:" in r.stderr


def test_show_and_diagram(run, tmp_path):
    r = run("definitions", "show", DEFS / "special_supervision.yaml", db=False)
    assert r.exit_code == 0 and "满意度测评" in r.output and "record_vote" in r.output
    r = run("definitions", "show", DEFS / "deputy_suggestion.yaml", "--json", db=False)
    assert json.loads(r.output)["key"] == "deputy_suggestion"
    r = run("definitions", "diagram", DEFS / "special_supervision.yaml", db=False)
    assert r.output.startswith("stateDiagram-v2") and "satisfaction_vote --> council_measures" in r.output
    r = run("definitions", "diagram", DEFS / "special_supervision.yaml", "--format", "dot", db=False)
    assert r.output.startswith('digraph "special_supervision"') and "->" in r.output


def test_diagram_render_without_graphviz_says_how(run, tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    r = run("definitions", "diagram", DEFS / "special_supervision.yaml", "--output", tmp_path / "d.svg", db=False)
    assert r.exit_code == 2 and "apt-get install graphviz" in r.stderr


def test_publish_needs_an_administrator_and_twice_is_unchanged(run):
    r = run("definitions", "publish", DEFS / "special_supervision.yaml")
    assert r.exit_code == 2 and "请先导入人员文件" in r.stderr and "wuzhuan people import FILE" in r.stderr
    assert run("people", "import", PEOPLE).exit_code == 0
    r = run("definitions", "publish", DEFS / "special_supervision.yaml", "--actor", "li.ming")
    assert r.exit_code == 3 and "需要管理员" in r.stderr
    r = run("definitions", "publish", DEFS / "special_supervision.yaml", "--actor", "wang.fang", "--json")
    d = json.loads(r.output)["published"][0]
    assert d["key"] == "special_supervision" and d["version"] == 1 and len(d["hash"]) == 64 and d["created"]
    r = run("definitions", "publish", DEFS / "special_supervision.yaml", "--actor", "wang.fang")
    assert "unchanged special_supervision version 1" in r.output
    r = run("definitions", "show", "special_supervision")  # by key, from the store
    assert r.exit_code == 0 and "选题立项" in r.output


def test_advance_exit_codes(ready_cli):
    r = ready_cli("items", "advance", 1, "propose", "--actor", "huang.bo", "--field", "topic=x", "--field", "source=社会关注")
    assert r.exit_code == 3
    assert r.stderr == ("Error: 黄波（huang.bo）不能在事项 1 的「选题立项」环节“提出选题”：应由常委会办公室（王芳）或"
                        "工作委员会（陈静）或专门委员会（本事项暂无人担任）办理；黄波在本事项中是承办部门\n")
    r = ready_cli("items", "advance", 1, "publish", "--actor", "wang.fang")
    assert r.exit_code == 3 and "possible: propose, drop" in r.stderr
    r = ready_cli("items", "advance", 1, "propose", "--actor", "wang.fang")
    assert r.exit_code == 2 and "需要填报“监督议题”" in r.stderr and "— give --field topic=VALUE --field source=VALUE" in r.stderr
    r = ready_cli("items", "advance", 1, "propose", "--actor", "wang.fang", "--field", "topic=x", "--field", "source=社会关注",
                  "--expect-version", 7)
    assert r.exit_code == 4 and "已被他人更新" in r.stderr and "— look again with `wuzhuan items show 1`" in r.stderr
    r = ready_cli("items", "advance", 1, "propose", "--actor", "wang.fang", "--field", "topic=x", "--field", "source=社会关注",
                  "--now", "2026-01-06T10:00")
    assert r.exit_code == 0 and r.output.startswith("1 提出选题：「选题立项」(topic_selection) → 「列入年度监督工作计划」(annual_plan)，时限 ")
    r = ready_cli("items", "advance", 99, "propose", "--actor", "wang.fang")
    assert r.exit_code == 2 and r.stderr == "Error: 事项 99 不存在\n"
    store = Store(ready_cli.url)
    from conftest import at
    assert service.show_item(store, service.OPERATOR, 1, at("2026-01-06 10:00")).state == "annual_plan"
    store.dispose()


def test_actor_from_environment(ready_cli):
    r = ready_cli("items", "advance", 1, "propose", "--field", "topic=x", "--field", "source=社会关注",
                  env={"WUZHUAN_ACTOR": "wang.fang"})
    assert r.exit_code == 0, r.stderr
    r = ready_cli("items", "advance", 1, "adopt_plan")
    assert r.exit_code == 2 and "--actor" in r.stderr
    r = ready_cli("items", "advance", 1, "adopt_plan", "--actor", "ghost")
    assert r.exit_code == 3 and "“ghost”不是本系统登记的人员" in r.stderr


def test_list_show_history_json(ready_cli):
    r = ready_cli("items", "list", "--json", "--now", "2026-01-27T09:00")
    rows = json.loads(r.output)
    assert rows[0]["light"] == "red" and rows[0]["state"] == "topic_selection"
    r = ready_cli("items", "list", "--light", "red", "--now", "2026-01-27T09:00")
    assert "大气污染防治" in r.output and "红" in r.output
    assert "大气污染防治" not in ready_cli("items", "list", "--light", "red", "--now", "2026-01-10T09:00").output
    r = ready_cli("items", "show", 1, "--actor", "wang.fang", "--now", "2026-01-10T09:00")
    assert "选题立项" in r.output and "propose" in r.output and "2026-01-26 24:00" in r.output
    d = json.loads(ready_cli("items", "show", 1, "--json").output)
    assert d["next"][0]["trigger"] == "propose"
    hist = json.loads(ready_cli("items", "history", 1, "--json").output)
    assert hist[0]["kind"] == "created"
    assert "立项" in ready_cli("items", "history", 1).output


def test_assign_set_pause_extend(ready_cli):
    r = ready_cli("items", "assign", 1, "department", "song.kai", "--actor", "wang.fang", "--json", "--now", "2026-01-06T09:00")
    assert r.exit_code == 0 and json.loads(r.output)["holders"] == ["huang.bo", "song.kai"]
    r = ready_cli("items", "pause", 1, "--reason", "调整", "--actor", "li.ming", "--now", "2026-01-12T09:00")
    assert r.exit_code == 0 and r.output.startswith("1 「选题立项」已于 2026-01-12 09:00 挂起")  # the item's number first
    r = ready_cli("items", "resume", 1, "--actor", "li.ming", "--now", "2026-01-19T09:00")
    assert "2026-01-26 24:00 → 2026-02-02 24:00" in r.output
    r = ready_cli("items", "extend", 1, "--until", "2026-03-01", "--reason", "补充调研", "--actor", "wang.fang", "--now", "2026-01-20T09:00",
                  "--json")
    assert r.exit_code == 0 and json.loads(r.output)["id"] == 1
    r = ready_cli("extensions", "approve", 1, "--actor", "zhao.hua", "--now", "2026-01-20T10:00")
    assert r.exit_code == 3
    r = ready_cli("extensions", "approve", 1, "--actor", "li.ming", "--now", "2026-01-20T10:00")
    assert r.exit_code == 0 and r.output.startswith("1 延期申请已批准：事项 1 时限 2026-03-01 24:00")  # the last day as given
    r = ready_cli("items", "set", 1, "--field", "urgency=急", "--actor", "wang.fang", "--now", "2026-01-20T11:00")
    assert r.exit_code == 0 and r.output.startswith("1 字段已更新：urgency=急"), r.stderr
    r = ready_cli("items", "unassign", 1, "department", "song.kai", "--actor", "wang.fang", "--now", "2026-01-20T12:00")
    assert r.output == "1 承办部门（department）：huang.bo\n"


def test_audit_verify(ready_cli, tmp_path):
    r = ready_cli("audit", "verify")
    assert r.exit_code == 0 and "intact" in r.output
    import sqlite3

    con = sqlite3.connect(ready_cli.url.removeprefix("sqlite:///"))
    con.execute("UPDATE audit_events SET actor = 'x' WHERE seq = 2")
    con.commit()
    con.close()
    r = ready_cli("audit", "verify")
    assert r.exit_code == 2 and "event 2" in r.stderr and "modified" in r.stderr


def test_calendar_commands(run, tmp_path):
    r = run("calendar", "due", "--from", "2026-02-12", "--amount", 5, "--unit", "workdays")
    assert r.exit_code == 0 and r.output.startswith("2026-02-26 24:00")
    r = run("calendar", "due", "--from", "2026-03-25", "--amount", 20, "--unit", "days", "--before", "--json")
    assert json.loads(r.output)["due"] == "2026-03-05 24:00"
    r = run("calendar", "due", "--from", "2026-12-20", "--amount", 20, "--unit", "workdays")
    assert "暂定" in r.output
    r = run("calendar", "show", 2026)
    assert "2026-02-14" in r.output and "上班" in r.output and "春节" in r.output
    provisional = run("calendar", "show", 2027).output
    assert "暂定" in provisional and "农历除夕" in provisional and "Chinese" not in provisional  # rule-based names in Chinese
    notice = tmp_path / "2027.yaml"
    notice.write_text("year: 2027\nsource: 测试\nholidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\n", encoding="utf-8")
    assert run("people", "import", PEOPLE).exit_code == 0
    r = run("calendar", "import", notice)
    assert r.exit_code == 3 and "需要管理员" in r.stderr
    r = run("calendar", "import", notice, "--actor", "wang.fang")
    assert r.exit_code == 0 and "2027: 3 holidays" in r.output
    assert "暂定" not in run("calendar", "show", 2027).output
    r = run("calendar", "due", "--from", "bad", "--amount", 1, "--unit", "days")
    assert r.exit_code == 2 and "不是日期" in r.stderr


def test_escalate_deliver_outbox(ready_cli, tmp_path):
    r = ready_cli("escalate", "--once", "--now", "2026-01-27T09:00")
    assert r.exit_code == 0 and "1 rungs fired, 1 skipped, 1 notices queued" in r.output
    r = ready_cli("escalate", "--once", "--now", "2026-01-27T09:00")
    assert "0 rungs fired" in r.output
    r = ready_cli("outbox", "deliver", "--now", "2026-01-27T09:01", env={"WUZHUAN_OUTBOX_DIR": str(tmp_path / "mail")})
    assert r.exit_code == 0 and r.output.startswith("delivered 2")  # the handover, and one 督办单 To the owner, Cc the lead
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 2
    rows = json.loads(ready_cli("outbox", "list", "--json").output)
    assert {x["status"] for x in rows} == {"sent"}
    r = ready_cli("outbox", "retry")
    assert r.exit_code == 2
    r = ready_cli("outbox", "retry", 1, "--actor", "wang.fang")
    assert r.exit_code == 2 and "并未发送失败" in r.stderr
    r = ready_cli("outbox", "retry", 1, "--actor", "huang.bo")
    assert r.exit_code == 3 and "需要管理员" in r.stderr


def test_config_errors_are_clear(run, tmp_path):
    cfg = tmp_path / "w.toml"
    cfg.write_text("[smtp]\nhots = 'x'\n")
    r = run("--config", cfg, "outbox", "deliver", db=True)
    assert r.exit_code == 2 and "unknown setting '[smtp] hots'" in r.stderr


def test_bad_database_url(run):
    r = run("--db", "nonsense://", "items", "list", db=False)
    assert r.exit_code == 2 and "Error:" in r.stderr
    r = run("--db", "sqlite:////no/such/folder/x.db", "items", "list", db=False)
    assert r.exit_code == 2 and "does not exist" in r.stderr


def test_people_import_errors(run, tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("people:\n  - {code: a, name: 甲, email: not-an-email, admin: true}\n")
    r = run("people", "import", p)
    assert r.exit_code == 2 and "p.yaml:2:5: person 'a': 'not-an-email' is not an e-mail address" in r.stderr
    p.write_text("people:\n  - {code: a, name: 甲, email: a@x.example}\n")
    r = run("people", "import", p)
    assert r.exit_code == 2 and "must mark at least one administrator" in r.stderr
    csv = tmp_path / "p.csv"
    csv.write_text("person,name,email,admin,unit,unit_name,unit_kind,role\nzhang,张三,zhang@x.example,yes,g1,一组,group,group_lead\n", encoding="utf-8")
    r = run("people", "import", csv)
    assert r.exit_code == 0 and "imported 1 people, 1 units, 1 memberships" in r.output
    assert "group_lead@g1" in run("people", "list").output


def test_read_commands_never_create_or_migrate_a_database(run, tmp_path):
    r = run("items", "list")
    assert r.exit_code == 2 and "处还没有数据库" in r.stderr and "wuzhuan db upgrade" in r.stderr
    assert not (tmp_path / "cli.db").exists()
    assert run("db", "upgrade").exit_code == 0
    assert run("items", "list", "--json").output.strip() == "[]"


def test_db_upgrade(run):
    from workflow.store.schema import HEAD

    r = run("db", "upgrade")
    assert r.exit_code == 0 and f"schema at {HEAD}" in r.output and HEAD >= "0021"
    assert "already current" in run("db", "upgrade").output


def test_internal_errors_are_one_line(run, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("kaboom")
    assert run("db", "upgrade").exit_code == 0
    monkeypatch.setattr("workflow.service.list_items", boom)
    r = run("items", "list")
    assert r.exit_code == 1 and "internal error" in r.stderr and "Traceback" not in r.output


def test_demo_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("WUZHUAN_CLOCK_SIMULATION", raising=False)
    runner = CliRunner()
    r = runner.invoke(cli, ["demo", "--dir", str(tmp_path / "demo")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "conflict (exit 4)" in r.output and "refused (exit 3)" in r.output
    assert "audit trail: intact" in r.output
    assert list((tmp_path / "demo" / "outbox").glob("*.eml"))
    assert "serve" in r.output and "password wuzhuan-demo" in r.output  # how to open the workbench
    demo = Store(f"sqlite:///{tmp_path / 'demo' / 'wuzhuan.db'}")
    assert accounts.login(demo, "zhao.hua", "wuzhuan-demo", datetime.now(UTC)).person.code == "zhao.hua"
    demo.dispose()
    # its database is marked as a simulation inside itself: a copy acts ahead of the clock too
    copy = tmp_path / "copy.db"
    copy.write_bytes((tmp_path / "demo" / "wuzhuan.db").read_bytes())
    r = runner.invoke(cli, ["--db", f"sqlite:///{copy}", "escalate", "--once", "--now", "2031-01-01T09:00"])
    assert r.exit_code == 0, r.output


def test_demo_never_touches_an_existing_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wuzhuan.db").write_bytes(b"the committee's real database")
    r = CliRunner().invoke(cli, ["demo", "--dir", "."])
    assert r.exit_code == 2 and "is not empty" in r.stderr and "never touches an existing one" in r.stderr
    assert (tmp_path / "wuzhuan.db").read_bytes() == b"the committee's real database"


def test_acting_ahead_of_the_clock_is_refused_on_a_real_database(run, monkeypatch):
    monkeypatch.delenv("WUZHUAN_CLOCK_SIMULATION")
    assert run("people", "import", PEOPLE, "--now", "2026-01-05T09:00").exit_code == 0
    r = run("escalate", "--once", "--now", "2100-01-01T09:00")
    assert r.exit_code == 2 and "晚于当前时间" in r.stderr and "clock.simulation = true" in r.stderr
    r = run("escalate", "--once", "--now", "9999-12-31T09:00")
    assert r.exit_code == 2 and "1970–2199" in r.stderr
    assert run("escalate", "--once").exit_code == 0  # now is fine
    monkeypatch.setenv("WUZHUAN_CLOCK_SIMULATION", "true")
    assert run("escalate", "--once", "--now", "2100-01-01T09:00").exit_code == 0


def test_version_option():
    r = CliRunner().invoke(cli, ["--version"])
    assert r.exit_code == 0 and "version" in r.output


def test_click_is_only_in_cli():
    for p in (ROOT / "workflow").rglob("*.py"):
        assert "import click" not in p.read_text(), p
    for p in (ROOT / "notifier").rglob("*.py"):
        assert "import click" not in p.read_text(), p
    assert isinstance(cli, click.Group)


def test_paths_exist():
    assert Path(PEOPLE).exists()


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="Graphviz's dot is not installed")
def test_diagram_renders_svg_with_graphviz(run, tmp_path):
    out = tmp_path / "chain.svg"
    r = run("definitions", "diagram", DEFS / "special_supervision.yaml", "--output", out, db=False)
    assert r.exit_code == 0, r.stderr
    assert out.read_text().lstrip().startswith(("<?xml", "<svg")) and "满意度测评" in out.read_text()


def test_read_commands_never_wait_for_a_writer(ready_cli, tmp_path):
    """Another process holds SQLite's write lock (a long transaction); every read command still answers at once."""
    import subprocess
    import sys
    import time

    path = ready_cli.url.removeprefix("sqlite:///")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({path!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE'); c.execute(\"UPDATE items SET title = title || '（改）'\")\n"
        "print('locked', flush=True); time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        for args in (["items", "show", 1, "--json"], ["items", "list", "--json"], ["items", "history", 1],
                     ["people", "list"], ["definitions", "list"], ["outbox", "list"], ["audit", "verify"]):
            t = time.monotonic()
            r = ready_cli(*args)
            assert r.exit_code == 0, (args, r.stderr)
            assert time.monotonic() - t < 5, f"{args} waited for the writer"  # the busy timeout is 30 s
        assert "（改）" not in ready_cli("items", "show", 1).output  # a consistent snapshot: not the uncommitted title
    finally:
        holder.kill()
        holder.wait()


def test_stored_control_characters_are_printed_escaped(ready_cli):
    """Titles and names stored before they were checked (or written behind wuzhuan's back) cannot move the cursor."""
    import sqlite3

    con = sqlite3.connect(ready_cli.url.removeprefix("sqlite:///"))
    con.execute("UPDATE items SET title = ? WHERE id = 1", ("大气\r\x01\u202e污染" + "长" * 300,))
    con.commit()
    con.close()
    out = ready_cli("items", "list", "--now", "2026-01-10T09:00").output
    assert "\r" not in out and "\x01" not in out and "\u202e" not in out
    assert "\\x0d\\x01\\u202e" in out and "…" in out
    assert "\u202e" not in ready_cli("items", "show", 1, "--now", "2026-01-10T09:00").output


@pytest.mark.parametrize("damage", ["DELETE FROM audit_head", "UPDATE audit_events SET data = '{not json' WHERE seq = 2",
                                    "UPDATE audit_events SET at = 'yesterday' WHERE seq = 2"])
def test_audit_verify_on_a_damaged_trail_is_one_line(ready_cli, damage):
    import sqlite3

    con = sqlite3.connect(ready_cli.url.removeprefix("sqlite:///"))
    con.execute(damage)
    con.commit()
    con.close()
    r = ready_cli("audit", "verify")
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("Error: audit trail broken:")


# --- operator commands of the workbench -------------------------------------------------------

def _audit(url: str, kind: str) -> list[tuple]:
    eng = create_engine(url)
    with eng.connect() as c:
        rows = c.execute(text("SELECT actor, data FROM audit_events WHERE kind = :k ORDER BY seq"), {"k": kind}).all()
    eng.dispose()
    return rows


def test_set_password_reads_one_line_from_stdin(ready_cli):
    run = ready_cli
    r = run("people", "set-password", "li.ming")
    assert r.exit_code == 2 and "--password-stdin" in r.stderr  # never on the command line
    runner = CliRunner()

    def set_pw(code, given):
        return runner.invoke(cli, ["--db", run.url, "people", "set-password", code, "--password-stdin"], input=given)
    r = set_pw("li.ming", "too short\n")
    assert r.exit_code == 2 and "密码至少 10 个字符" in r.stderr and "Traceback" not in r.output
    r = set_pw("li.ming", "tab\there is bad\n")
    assert r.exit_code == 2 and "Traceback" not in r.output
    r = set_pw("no.body", "a long enough password\n")
    assert r.exit_code == 2 and "no.body" in r.stderr
    r = set_pw("li.ming", "a long enough password\r\n")  # the newline (and a Windows CR) is not part of it
    assert r.exit_code == 0 and r.output.strip() == "password set for li.ming"
    store = Store(run.url, readonly=False)
    try:
        now = datetime.now(UTC)
        assert accounts.login(store, "li.ming", "a long enough password", now).person.code == "li.ming"
        actor, data = _audit(run.url, "password_set")[0]
        assert actor.startswith("operator:") and "li.ming" in str(data)
    finally:
        store.dispose()


def test_disable_enable_token_and_revoke(ready_cli):
    run = ready_cli
    r = run("people", "token", "zheng.yu")
    assert r.exit_code == 0 and "shown once" in r.output
    token = r.output.strip().splitlines()[-1]
    assert len(token) >= 43 and " " not in token  # 256 random bits, on the last line alone
    store = Store(run.url)
    try:
        now = datetime.now(UTC)
        assert accounts.token_person(store, token, now).code == "zheng.yu"
        r = run("people", "disable", "zheng.yu")
        assert r.exit_code == 0 and "zheng.yu disabled" in r.output and "1 token(s) revoked" in r.output
        assert accounts.token_person(store, token, now) is None
        r = run("items", "advance", 1, "drop", "--actor", "zheng.yu", "--comment", "x")
        assert r.exit_code == 3 and "账号已停用" in r.stderr
        assert run("people", "enable", "zheng.yu").exit_code == 0
        token2 = run("people", "token", "zheng.yu").output.strip().splitlines()[-1]
        assert accounts.token_person(store, token2, now).code == "zheng.yu"
        r = run("people", "revoke-token", "zheng.yu")
        assert r.exit_code == 0 and "1 token(s) of zheng.yu revoked" in r.output
        assert accounts.token_person(store, token2, now) is None
        assert run("people", "revoke-token", "zheng.yu", "--id", "99999999999").exit_code == 2
        kinds = [k for k in ("token_issued", "person_disabled", "person_enabled", "token_revoked") if _audit(run.url, k)]
        assert len(kinds) == 4
    finally:
        store.dispose()


def test_serve_refuses_several_workers_on_sqlite(run):
    assert run("db", "upgrade").exit_code == 0
    r = run("serve", "--workers", "2")
    assert r.exit_code == 2 and "SQLite serves from one process" in r.stderr and "Traceback" not in r.output
    r = run("serve", "--port", "70000")
    assert r.exit_code == 2


def test_one_password_for_everyone_is_for_the_demo_only(ready_sqlite):
    with pytest.raises(NotPermitted, match="只用于演示数据库"):
        accounts.demo_passwords(ready_sqlite, "wuzhuan-demo", datetime.now(UTC))


def test_words_are_chinese_where_the_rest_is(ready_cli):
    """Issue 15's wording: no English labels among Chinese values, lists joined with 、, 提前至 for an earlier day."""
    run = ready_cli
    run("items", "pause", 1, "--actor", "li.ming", "--reason", "暂缓", "--now", "2026-01-06T09:00")
    out = run("items", "show", 1, "--now", "2026-01-06T10:00").output
    assert "环节      选题立项 (topic_selection)  绿灯  已挂起" in out
    assert "承办      常委会办公室：王芳 (wang.fang)" in out
    assert "主任会议（council）：李明 (li.ming)、郑宇 (zheng.yu)" in out
    for english in ("PAUSED", "PROVISIONAL", "light ", "next moves", "(open)"):
        assert english not in out
    data = json.loads(run("items", "show", 1, "--json", "--now", "2026-01-06T10:00").output)
    assert data["owner_role"] == "office" and data["owner_role_label"] == "常委会办公室"
    raw = run("items", "show", 1, "--json", "--now", "2026-01-06T10:00").output
    assert "\\u" not in raw and "选题立项" in raw  # JSON without \u escapes
    history = run("items", "history", 1).output
    assert "挂起" in history and "paused" not in history and "created" not in history
    # a period ending on a rest day, counted back from a date, moves to the working day before: 提前至, not 顺延
    r = run("calendar", "due", "--from", "2026-10-08", "--amount", 5, "--unit", "days", "--before")
    assert "提前至前一工作日" in r.output and "顺延至前" not in r.output


def test_definitions_show_names_every_key(run):
    out = run("definitions", "show", str(DEFS / "special_supervision.yaml")).output
    for wanted in ("督办单编号 〔{year}〕人大督字第{n}号", "紧急程度 字段 urgency：急→yellow、特急→red", "可由谁指定",
                 "计票：votes_for/members_total", "跨轮保留", "计数器: unsatisfied_rounds（不满意次数）",
                 "批准延期", "leader、council", "party_committee", "新限期", "3个工作日", "已到办理时限尚未办结",
                 "需说明"):
        assert wanted in out, wanted
    data = json.loads(run("definitions", "show", str(DEFS / "special_supervision.yaml"), "--json").output)
    assert {"roles", "fields", "counters", "urgency", "handover_notice", "slip_pattern", "initial"} <= set(data)
    rect = next(s for s in data["states"] if s["name"] == "rectification")
    assert rect["cc"] == ["party_committee"] and rect["yellow"] == "到期前10个工作日" and rect["rungs"][1]["limit"] == "3个工作日"


def test_items_migrate(ready_cli, tmp_path):
    """Issue 14's migration through the CLI: exactly one of --dry-run and --apply; the dry run changes nothing."""
    run = ready_cli
    src = (DEFS / "special_supervision.yaml").read_text("utf-8").replace("title: 专项监督（五专全链条）", "title: 专项监督（第二版）")
    (tmp_path / "v2.yaml").write_text(src, encoding="utf-8")
    assert run("definitions", "publish", tmp_path / "v2.yaml", "--actor", "wang.fang", "--now", "2026-01-05T10:00").exit_code == 0
    r = run("items", "migrate", "--template", "special_supervision", "--to", "8", "--actor", "wang.fang", "--now", "2026-01-05T11:00")
    assert r.exit_code == 2 and "exactly one of --dry-run or --apply" in r.output + r.stderr
    r = run("items", "migrate", "--template", "special_supervision", "--to", "8", "--dry-run", "--actor", "wang.fang",
            "--now", "2026-01-05T11:00")
    assert r.exit_code == 0 and "试运行" in r.output and "topic_selection" in r.output, r.stderr
    assert json.loads(run("items", "show", 1, "--json").output)["template_version"] == 7
    r = run("items", "migrate", "--template", "special_supervision", "--to", "8", "--apply", "--actor", "huang.bo",
            "--now", "2026-01-05T11:00")
    assert r.exit_code == 3 and "需要管理员" in r.stderr
    r = run("items", "migrate", "--template", "special_supervision", "--to", "8", "--apply", "--actor", "wang.fang",
            "--now", "2026-01-05T11:00")
    assert r.exit_code == 0 and r.output.startswith("1 个事项迁移至 special_supervision 版本 8")
    assert json.loads(run("items", "show", 1, "--json").output)["template_version"] == 8
    assert "迁移版本" in run("items", "history", 1).output


def test_meetings_commands(ready_cli):
    run = ready_cli
    r = run("meetings", "add", "--kind", "常委会会议", "--date", "2026-06-25", "--title", "第二十次会议", "--actor", "wang.fang",
            "--now", "2026-01-05T10:00")
    assert r.exit_code == 0 and r.output.startswith("1 会议已登记：常委会会议 2026-06-25"), r.stderr
    r = run("meetings", "add", "--kind", "常委会会议", "--date", "2026-13-01", "--title", "x", "--actor", "wang.fang",
            "--now", "2026-01-05T10:00")
    assert r.exit_code == 2 and "不是日期" in r.stderr
    assert run("items", "advance", 1, "propose", "--field", "topic=t", "--field", "source=社会关注", "--actor", "wang.fang",
               "--now", "2026-01-06T09:00").exit_code == 0
    r = run("items", "advance", 1, "adopt_plan", "--field", "meeting=1", "--actor", "li.ming", "--now", "2026-01-07T09:00")
    assert r.exit_code == 0, r.stderr
    assert "meeting_date=2026-06-25" in run("items", "show", 1).output
    r = run("meetings", "move", 1, "--to", "2026-07-02", "--actor", "wang.fang", "--now", "2026-01-08T09:00")
    assert r.exit_code == 2 and "exactly one of --dry-run or --apply" in r.output + r.stderr
    r = run("meetings", "move", 1, "--to", "2026-07-02", "--dry-run", "--actor", "wang.fang", "--now", "2026-01-08T09:00")
    assert r.exit_code == 0 and "试运行" in r.output and "以其计算时限的事项 1 个" in r.output
    r = run("meetings", "move", 1, "--to", "2026-07-02", "--apply", "--actor", "wang.fang", "--now", "2026-01-08T09:00")
    assert r.exit_code == 0 and r.output.startswith("1 会议已由 2026-06-25 改期至 2026-07-02")
    assert "meeting_date=2026-07-02" in run("items", "show", 1).output
    r = run("meetings", "list", "--json")
    assert json.loads(r.output)[0]["day"] == "2026-07-02"


@pytest.mark.parametrize(("text", "limit", "shown"), [
    ("大气污染防治", 12, "大气污染防治"),  # 12 columns: fits exactly
    ("大气污染防治", 11, "大气污染防…"),  # one column short: cut, the ellipsis in the last column
    ("abcdef", 6, "abcdef"), ("abcdefg", 6, "abcde…"),
    ("ab大气", 6, "ab大气"), ("ab大气c", 6, "ab大…"),
    ("a\x1bb", 10, "a\\x1bb"),  # a control character shown escaped, counted as it is shown
])
def test_safe_text_is_cut_at_its_width_in_columns(text, limit, shown):
    assert safe(text, limit) == shown and width(shown) <= limit


def test_the_entry_point_lists_every_command_as_it_is_and_imports_none_to_do_so():
    """Issue 25: cli.py names each command group with its module and help line, and imports a module only to run
    its command: `wuzhuan --help` pays for click and the root group alone."""
    for name, (module, attribute, first) in entry.COMMANDS.items():
        command = getattr(importlib.import_module(module), attribute)
        assert command.name == name and (command.help or "").split("\n\n")[0].strip().replace("\n", " ") == first
    code = "import sys, cli\ntry:\n    cli.main()\nexcept SystemExit:\n    pass\n" \
           "print(sorted(m for m in sys.modules if m.startswith(('commands.', 'workflow'))), file=sys.stderr)"
    out = subprocess.run([sys.executable, "-c", code, "--help"], cwd=ROOT, capture_output=True, text=True)
    assert "Commands:" in out.stdout and out.stderr.strip().splitlines()[-1] == "['commands.base', 'commands.hints']"


def test_reads_at_the_command_line_take_the_reader_the_operator_by_default(ready_cli):
    """Issue 25: every read takes who reads. Without --actor the operator at this shell reads (every item); with
    --actor a person reads as the workbench would show him, and an item he may not see does not exist for him."""
    run = ready_cli
    every = json.loads(run("items", "list", "--json").output)
    assert [r["id"] for r in every] == [1]
    assert json.loads(run("items", "list", "--json", "--actor", "xu.na").output) == []  # another department's clerk
    assert [r["id"] for r in json.loads(run("items", "list", "--json", "--actor", "chen.jing").output)] == [1]
    for args in (["items", "show", "1"], ["items", "history", "1"]):
        r = run(*args, "--actor", "xu.na")
        assert r.exit_code == 2 and "事项 1 不存在" in r.output, r.output
        assert run(*args).exit_code == 0
    shown = json.loads(run("items", "show", "1", "--json", "--actor", "wang.fang").output)
    assert any(m["allowed_for_actor"] for m in shown["next"])  # the office may propose
    assert all(m["allowed_for_actor"] is None for m in json.loads(run("items", "show", "1", "--json").output)["next"])
