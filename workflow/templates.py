"""Template files: the built-in ones, validating files (every notice they name must render), finding one by path."""

from __future__ import annotations

from pathlib import Path

from notifier import render as notices

from . import loader
from .definition import Definition
from .errors import DefinitionError, Problem

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "definitions"


def builtin_paths() -> list[Path]:
    return sorted(p for p in BUILTIN_DIR.glob("*.yaml"))


def builtin(key: str) -> Path | None:
    p = BUILTIN_DIR / f"{key}.yaml"
    return p if p.is_file() else None


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
        for name in sorted(defn.notices()):
            try:
                notices.render(name, notices.sample_context(), notice_dir)
            except notices.NoticeError as e:
                problems.append(Problem(str(path), 1, 1, f"notice does not render: {e}"))
        out.append(defn)
    if problems:
        raise DefinitionError(problems)
    return out


def looks_like_file(path_or_key: str) -> bool:
    p = Path(path_or_key)
    return p.suffix in (".yaml", ".yml") or p.exists()
