"""Every `wuzhuan` command shown in README.md and docs/*.md runs as written, document by document, in order.

Each document gets a fresh copy of one demo (`wuzhuan demo`) in a temporary directory of its own, with
`WUZHUAN_DATABASE_URL` naming the demo's database, `examples/` and `definitions/` beside it as in a checkout,
and the installed `wuzhuan` on PATH (the README says how to put it there). A command is a line of an indented
code block that runs `wuzhuan` (at its start, or after a pipe); `export`, `cp`, `sed` and `printf` lines of those blocks run
too, as written, since the commands after them depend on them; an export holds to the end of its block. An
export naming a PostgreSQL server (a deployment's, as docs/deployment.md shows) is pointed at the test's
PostgreSQL (WUZHUAN_TEST_PG_URL, emptied first) instead; without one the block's commands are skipped. Each
command must exit 0, or the code its comment announces ("# exit 2"). The commands left out are listed in
SKIPPED, each with the reason.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PG_REQUIRED, PG_URL, pg_url_or_skip, reset_pg

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Commands not run, by the words they start with, and why.
SKIPPED = {
    "serve": "runs a web server until stopped (the workbench tests start it on loopback)",
    "--db postgresql://": "names a PostgreSQL host of a deployment, not this machine",
    "audit init-key /etc/": "writes the server's key under /etc, outside the test directory",
    "scheduler run": "runs in the foreground until stopped (tests/test_scheduler.py runs it)",
}

_RUNS = re.compile(r"(^|\|\s*)(\.venv/bin/)?wuzhuan\s")
_LOOPBACK = re.compile(r"@(127\.0\.0\.1|localhost|\[::1\])[:/]")
_EXIT = re.compile(r"#.*\bexit (\d)\b")


def commands(path: Path) -> list[tuple[int, int, str]]:
    """(line number, block number, command) for every command line of the document's code blocks."""
    out: list[tuple[int, int, str]] = []
    lines = path.read_text("utf-8").splitlines()
    in_fence = False
    block = 0
    i = 0
    while i < len(lines):
        raw = lines[i]
        if raw.lstrip().startswith("```"):
            in_fence = not in_fence
        code = raw.startswith("    ") or in_fence
        if not code and raw.strip():
            block += 1
        text = raw.strip().removeprefix("$ ")
        start = i + 1
        while code and text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + " " + lines[i].strip()
        if code and (_RUNS.search(text) or text.startswith(("export ", "cp ", "sed ", "printf "))):
            out.append((start, block, text))
        i += 1
    return out


def skip_reason(command: str) -> str | None:
    words = command.removeprefix(".venv/bin/").removeprefix("wuzhuan ")
    for start, reason in SKIPPED.items():
        if words.startswith(start) or f" {start}" in words:
            return reason
    return None


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("docs-demo")
    env = _env()
    r = subprocess.run(["wuzhuan", "demo", "--dir", str(where / "demo")], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return where / "demo"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WUZHUAN_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_every_document_names_commands():
    assert len(DOCUMENTS) >= 9
    counted = {p.name: len(commands(p)) for p in DOCUMENTS}
    assert counted["README.md"] >= 8 and counted["definitions.md"] >= 8, counted
    assert skip_reason("wuzhuan --db sqlite:///committee.db serve") and not skip_reason("wuzhuan people list")


@pytest.mark.parametrize("document", [d for d in DOCUMENTS if commands(d)], ids=lambda p: p.name)
def test_the_documented_commands_run(document, demo_dir, tmp_path):
    found = commands(document)  # a document without commands (performance.md) has nothing to run
    work = tmp_path / "work"
    shutil.copytree(demo_dir, work)
    for name in ("examples", "definitions", "docs"):
        (work / name).symlink_to(ROOT / name)
    env = _env()
    env["WUZHUAN_DATABASE_URL"] = f"sqlite:///{work / 'wuzhuan.db'}"
    ran, block_env, block_of, unreachable = 0, env, None, False
    for line, block, command in found:
        if block != block_of:  # a new code block: its exports start afresh
            block_env, block_of, unreachable = dict(env), block, False
        if skip_reason(command) or unreachable:
            continue
        if command.startswith("export "):
            for pair in shlex.split(command.removeprefix("export ")):
                name, _, value = pair.partition("=")
                if value.startswith("postgresql") and not _LOOPBACK.search(value):
                    if not PG_URL and not PG_REQUIRED:
                        unreachable = True  # names a deployment's server; no PostgreSQL for tests here
                        continue
                    value = pg_url_or_skip()
                    reset_pg(value)
                block_env[name] = value
            continue
        expected = int(m.group(1)) if (m := _EXIT.search(command)) else 0
        r = subprocess.run(["bash", "-c", command], cwd=work, env=block_env, capture_output=True, text=True, timeout=120)
        where = f"{document.name}:{line}: {command}\n--- stdout\n{r.stdout[-3000:]}\n--- stderr\n{r.stderr[-3000:]}"
        assert r.returncode == expected, where
        assert "Traceback" not in r.stderr, where
        ran += 1
    assert ran, f"{document.name}: every command was skipped"
