"""Templates as a person asks for them: a file (validated, every problem located), a published key, a built-in one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .. import authority, loader, templates
from ..definition import Definition
from ..errors import DefinitionError, NotFound
from ..store import Store
from ..store import templates as template_store
from ..textfile import FileProblem, decode
from . import common
from .admin import Published, publish_text

MAX_TEMPLATE_BYTES = loader.MAX_BYTES


@dataclass(eq=False)
class UploadResult:
    """A template checked (and perhaps published) from the workbench: its lines with the problems next to them."""

    ok: bool
    name: str
    problems: list[str]
    lines: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (number, text, problems on it)
    key: str | None = None
    title: str | None = None
    states: int = 0
    published: Published | None = None


def definition_of_version(store: Store, version_id: int) -> Definition:
    with store.read() as tx:
        return common.definition(tx, version_id)


def check_template_upload(store: Store, actor: str, name: str, data: bytes, now: datetime,
                          publish: bool = False) -> UploadResult:
    """Validate an uploaded template for an administrator, and publish it when asked and valid."""
    with store.read() as tx:
        authority.administrator(common.acting(tx, actor), "check or publish templates")
    name = common.shown(name, 100)
    if len(data) > MAX_TEMPLATE_BYTES:
        return UploadResult(False, name, [f"{name}: the file is larger than {MAX_TEMPLATE_BYTES // 1_000_000} MB"])
    try:
        text = decode(data, name)
    except FileProblem as e:
        return UploadResult(False, name, [str(e)])
    try:
        defn = templates.validate_text(text, name, store.settings.notice_dir)
    except DefinitionError as e:
        by_line: dict[int, list[str]] = {}
        for p in e.problems:
            by_line.setdefault(p.line, []).append(f"{p.column}: {p.message}")
        lines = [(n, line, by_line.get(n, [])) for n, line in enumerate(text.splitlines(), start=1)]
        return UploadResult(False, name, [str(p) for p in e.problems], lines)
    published = publish_text(store, actor, name, text, now) if publish else None
    return UploadResult(True, name, [], [], defn.key, defn.title, len(defn.states), published)


def template(path_or_key: str, store: Store | None = None, notice_dir: str | None = None) -> Definition:
    """A template from a file (validated), the newest published version of a key, or a built-in one."""
    if templates.looks_like_file(path_or_key):
        return templates.validate_paths([path_or_key], notice_dir)[0]
    if store is not None:
        with store.read() as tx:
            tv = template_store.latest(tx, path_or_key)
            if tv is not None:
                return common.definition_of(tv)
    builtin = templates.builtin(path_or_key)
    if builtin is not None:
        return templates.validate_paths([builtin], notice_dir)[0]
    raise NotFound(f"'{path_or_key}' is neither a template file, a published template nor a built-in template")
