"""Template files: the built-in ones, validating files (every notice they name must render), finding one by path."""

from __future__ import annotations

from pathlib import Path

from notifier import render as notices

from . import loader
from .definition import Definition
from .errors import DefinitionError, Problem
from .yamltext import parse_yaml

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "definitions"


def builtin_paths() -> list[Path]:
    return sorted(p for p in BUILTIN_DIR.glob("*.yaml"))


def builtin(key: str) -> Path | None:
    p = BUILTIN_DIR / f"{key}.yaml"
    return p if p.is_file() else None


def validate_text(text: str, name: str, notice_dir: str | None = None) -> Definition:
    """Validate template text (an upload): the same checks as a file, every notice it names rendered."""
    defn = loader.load_text(text, name, notices=notices.available(notice_dir))
    _check_notices(defn, name, notice_dir)
    return defn


def _check_notices(defn: Definition, file: str, notice_dir: str | None) -> None:
    failed = {}
    for name in sorted(defn.notices()):
        try:
            notices.render(name, notices.sample_context(), notice_dir)
        except notices.NoticeError as e:
            failed[name] = str(e)
    if failed:
        raise DefinitionError(_located(defn, file, failed))


def validate_paths(paths: list[str | Path], notice_dir: str | None = None) -> list[Definition]:
    """Validate every file, naming notices that are missing or fail to render; raises DefinitionError with all problems."""
    available = notices.available(notice_dir)
    problems: list[Problem] = []
    out: list[Definition] = []
    for path in paths:
        try:
            defn = loader.load_file(path, notices=available)
        except DefinitionError as e:
            problems.extend(e.problems)
            continue
        try:
            _check_notices(defn, str(path), notice_dir)
        except DefinitionError as e:
            problems.extend(e.problems)
        out.append(defn)
    if problems:
        raise DefinitionError(problems)
    return out


def _located(defn: Definition, file: str, failed: dict[str, str]) -> list[Problem]:
    """A problem at every place in the template that names a notice that does not render."""
    doc = parse_yaml(defn.source_text, file)
    out = []

    def visit(path: tuple, value) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                visit(path + (k,), v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                visit(path + (i,), v)
        elif isinstance(value, str) and value in failed and path and path[-1] in ("notice", "handover_notice"):
            line, col = doc.mark(path)
            out.append(Problem(file, line, col, f"{loader.where(path, doc.data)}: notice '{value}' does not render: {failed[value]}"))
    visit((), doc.data)
    return out


def looks_like_file(path_or_key: str) -> bool:
    p = Path(path_or_key)
    return p.suffix in (".yaml", ".yml") or p.exists()
