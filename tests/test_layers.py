"""The import contract: imports point one way, pure parts stay pure, the shells hold no database code."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

PURE = ["workflow.definition", "workflow.calendar", "workflow.deadlines", "workflow.escalation", "workflow.authority",
        "workflow.loader", "workflow.template_checks", "workflow.template_flow", "workflow.template_schema",
        "workflow.template_build", "workflow.machine", "workflow.notice_data", "workflow.present", "workflow.people_file",
        "workflow.calendar_notice", "workflow.textfile", "workflow.rows", "workflow.audit_chain", "workflow.errors",
        "workflow.caches", "workflow.config", "workflow.templates"]
SHELLS = {"cli", "commands", "workflow.scheduler", "workflow.demo", "workflow.web"}  # wired together by cli.py and commands
DATABASE = ("sqlalchemy", "alembic", "psycopg", "workflow.store")


def _imports(path: Path, package: str) -> list[tuple[str, bool]]:
    """(module imported, at function level) for each import in a file, relative imports resolved."""
    tree = ast.parse(path.read_text("utf-8"))
    funcs = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) for n in ast.walk(f)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in funcs) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out += [(base, id(node) in funcs)] + [(f"{base}.{a.name}", id(node) in funcs) for a in node.names]
    return out


def _module(path: Path) -> tuple[str, str]:
    rel = path.relative_to(ROOT).with_suffix("")
    name = ".".join(rel.parts).removesuffix(".__init__")
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return name, package


def _sources():
    for folder in ("workflow", "notifier"):
        for p in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in p.parts:
                yield p


def test_pure_modules_import_no_database_code():
    code = "import sys, importlib\n" + "".join(f"importlib.import_module('{m}')\n" for m in PURE) + \
           "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'psycopg') or m.startswith('workflow.store')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]", f"pure modules pulled in: {out}"


def test_nothing_below_the_entry_point_imports_the_shells():
    def shell_of(module: str) -> str | None:
        return next((s for s in SHELLS if module == s or module.startswith(s + ".")), None)

    offenders = []
    for p in _sources():
        name, package = _module(p)
        for mod, _ in _imports(p, package):
            target, own = shell_of(mod), shell_of(name)
            if target and not own:
                offenders.append(f"{name} imports {mod}")
            if own and target and target != own and own != "commands":
                offenders.append(f"{name} imports {mod}: only cli.py and its commands wire the shells")
    assert offenders == []


def _command_line():
    yield ROOT / "cli.py"
    yield from sorted((ROOT / "commands").glob("*.py"))


def test_cli_imports_no_database_module():
    found = [f"{p.name}: {mod}" for p in _command_line() for mod, _ in _imports(p, "commands") if mod.startswith(DATABASE)]
    assert found == []


def test_only_the_store_talks_to_the_database():
    offenders = []
    for p in _sources():
        name, package = _module(p)
        if name.startswith("workflow.store") or name in ("workflow.service", "workflow.service.__init__"):
            continue
        for mod, _ in _imports(p, package):
            if mod.split(".")[0] in ("sqlalchemy", "alembic", "psycopg") or mod.startswith(("workflow.store.models",
                                                                                              "workflow.store.driver",
                                                                                              "workflow.store.engine")):
                offenders.append(f"{name} imports {mod}")
    assert offenders == []


def test_no_function_level_import_of_our_own_modules():
    """Imports inside functions are for start-up time (third-party libraries), never to dodge a cycle of our own."""
    offenders = []
    for p in _sources():
        name, package = _module(p)
        for mod, in_function in _imports(p, package):
            if in_function and mod.split(".")[0] in ("workflow", "notifier"):
                offenders.append(f"{name}: {mod}")
    assert offenders == []


def test_every_module_says_what_it_owns():
    missing = [str(p.relative_to(ROOT)) for p in list(_sources()) + list(_command_line())
               if not (ast.get_docstring(ast.parse(p.read_text("utf-8"))) or "").strip()]
    assert missing == []


def test_a_read_command_loads_no_orm_and_no_renderer():
    """What every command pays at start: the use case it runs, Core SQLAlchemy, and nothing it does not use."""
    code = ("import sys, cli\n"
            "sys.argv = ['wuzhuan', 'calendar', 'due', '--from', '2026-02-12', '--amount', '5', '--unit', 'workdays', '--json']\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('sqlalchemy.orm', 'jinja2', 'alembic', 'jsonschema', 'email_validator', 'transitions') if m in sys.modules), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stderr.strip().splitlines()[-1] == "[]", out.stderr


def test_no_message_below_the_shells_names_a_command_or_an_option():
    """Issue 25: use cases told clerks on the workbench to `give them with --field name=value`. A message says what is
    wrong in the domain's words; the error's details name what would help, and each shell says it its own way."""
    advice = re.compile(r"`wuzhuan |(?<![\w-])--[a-z][a-z-]+")
    offenders = []
    for p in _sources():
        name, _ = _module(p)
        if name.startswith(("workflow.web", "workflow.demo", "workflow.scheduler")):
            continue  # shells may name their own commands
        for node in ast.walk(ast.parse(p.read_text("utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                for c in ast.walk(node.exc):
                    if isinstance(c, ast.Constant) and isinstance(c.value, str) and advice.search(c.value):
                        offenders.append(f"{name}:{node.lineno}: {c.value[:60]}")
    assert offenders == []


def test_no_module_of_the_project_is_over_400_lines():
    """Issue 25: a module owns one thing, and one thing fits in 400 lines (migrations and tests aside)."""
    files = [p for folder in ("workflow", "notifier", "commands", "bench") for p in (ROOT / folder).rglob("*.py")
             if "migrations" not in p.parts] + [ROOT / "cli.py"]
    long = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text("utf-8").splitlines())) > 400}
    assert long == {}


def test_cli_py_is_the_entry_point_only():
    assert len((ROOT / "cli.py").read_text("utf-8").splitlines()) <= 250
