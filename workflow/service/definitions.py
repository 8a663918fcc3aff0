"""Templates as a person asks for them: a file (validated, every problem located), a published key, a built-in one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from notifier import render as notices

from .. import authority, loader, templates
from ..definition import Definition, Rung
from ..errors import DefinitionError, InvalidInput, NotFound
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
        authority.administrator(common.acting(tx, actor), "检查或发布流程模板")
    name = common.shown(name, 100)
    if len(data) > MAX_TEMPLATE_BYTES:
        return UploadResult(False, name, [f"{name}：文件超过 {MAX_TEMPLATE_BYTES // 1_000_000} MB"])
    try:
        text = decode(data, name)
    except FileProblem as e:
        return UploadResult(False, name, [str(e)])
    try:
        defn = templates.validate_text(text, name, store.settings.notice_dir)
    except DefinitionError as e:
        by_line: dict[int, list[str]] = {}
        for p in e.problems:
            by_line.setdefault(p.line, []).append(f"第{p.line}行第{p.column}列：{p.message}")
        lines = [(n, line, by_line.get(n, [])) for n, line in enumerate(text.splitlines(), start=1)]
        return UploadResult(False, name, [f"第{p.line}行第{p.column}列：{p.message}" for p in e.problems], lines)
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


@dataclass(frozen=True)
class NoticePreview:
    template: str
    notice: str
    state: str | None
    rung: str | None
    subject: str
    text: str
    html: str


def preview_notice(defn: Definition, notice: str, rung: str | None = None, notice_dir: str | None = None,
                   org: str = "市人大常委会", base_url: str | None = None) -> NoticePreview:
    """A notice rendered with sample data shaped by the template: the first step whose ladder uses it (or the rung
    named), its owner, the rung's label, meaning, slip number and 限期, as the sweep would fill them."""
    if notice not in notices.available(notice_dir):
        raise InvalidInput(f"no notice template named '{notice}' (available: {', '.join(sorted(notices.available(notice_dir)))})")
    found: tuple[str, Rung] | None = None
    for s in defn.states.values():
        for r in s.ladder:
            if (rung is None and r.notice == notice) or r.name == rung:
                found = found or (s.name, r)
    if rung is not None and found is None:
        names = sorted({r.name for s in defn.states.values() for r in s.ladder})
        raise InvalidInput(f"template '{defn.key}' has no rung '{rung}' (rungs: {', '.join(names) or 'none'})")
    ctx = notices.sample_context()
    ctx["org"], ctx["contacts"] = org, []
    ctx["item"] |= {"template": defn.title, "link": f"{base_url.rstrip('/')}/items/1" if base_url else ctx["item"]["link"]}
    state = defn.states[found[0]] if found else next((s for s in defn.states.values() if s.owner and not s.final), None)
    if state is not None:
        owner = defn.roles.get(state.owner or "", "—")
        ctx["step"] |= {"name": state.name, "label": state.label, "owner_role": owner, "owner_role_id": state.owner or "",
                        "due_rule": defn.deadline_text(state)}
        ctx["to"] = [{"name": "示例承办人", "email": "someone@example.org", "role": owner}]
        ctx["actions"] = [t.label for t in defn.transitions_from(state.name)]
    if found:
        r = found[1]
        ctx["rung"] = {"name": r.name, "label": r.label, "meaning": r.meaning}
        ctx["slip"] = {"no": defn.slip_pattern.format(year=2026, org="人大", n=1) if r.slip else "",
                       "limit": "2026-06-08 24:00" if r.limit else ""}
        informed = [x for x in r.notify if x not in ("owner", state.owner if state else None)]
        ctx["cc"] = [{"name": f"示例{defn.roles.get(x, x)}", "email": "", "role": defn.roles.get(x, x)} for x in informed]
        if r.direction == "before":
            ctx |= {"days_late": 0, "overdue": "", "days_left": r.offset.amount}
    else:
        ctx["slip"], ctx["cc"] = {"no": "", "limit": ""}, [{"name": f"示例{defn.roles.get(x, x)}", "email": "", "role": defn.roles.get(x, x)}
                                                          for x in (state.cc if state else ())]
    try:
        out = notices.render(notice, ctx, notice_dir)
    except notices.NoticeError as e:
        raise InvalidInput(str(e)) from None
    return NoticePreview(defn.key, notice, state.name if state else None, found[1].name if found else None,
                         out.subject, out.text, out.html)
