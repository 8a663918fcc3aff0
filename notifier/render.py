"""Jinja2 notices in Chinese: a subject, a plain-text part and an autoescaped HTML part each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment

PARTS = ("subject", "txt", "html")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+")
SUBJECT_MAX = 150  # characters: a mail client shows less, and a 1 MB title must not become a 1 MB header


class NoticeError(Exception):
    """A notice template is missing or fails to render."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def one_line(value: Any) -> str:
    """Collapse line breaks and control characters: nothing rendered can start a new mail header."""
    return _CONTROL.sub(" ", str(value)).strip()


@lru_cache(maxsize=8)
def environment(override_dir: str | None = None) -> Environment:
    """The notices' Jinja2 environment (Jinja2 is imported here, when a notice is first rendered or checked, so a
    command that sends nothing never loads it)."""
    from jinja2 import (
        ChoiceLoader,
        Environment,
        FileSystemLoader,
        PackageLoader,
        StrictUndefined,
        select_autoescape,
    )

    loaders = []
    if override_dir:
        loaders.append(FileSystemLoader(override_dir))
    loaders.append(PackageLoader("notifier", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders), undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["one_line"] = one_line
    return env


def available(override_dir: str | None = None) -> set[str]:
    """Names of notices for which all three parts exist."""
    names: dict[str, set[str]] = {}
    for path in environment(override_dir).list_templates():
        m = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]*)\.(subject|txt|html)\.j2", Path(path).name)
        if m:
            names.setdefault(m.group(1), set()).add(m.group(2))
    return {n for n, parts in names.items() if parts == set(PARTS)}


def render(notice: str, context: dict[str, Any], override_dir: str | None = None) -> Rendered:
    """Render the three parts; raises NoticeError naming the notice and the problem."""
    from jinja2 import TemplateError

    env = environment(override_dir)
    out = {}
    for part in PARTS:
        name = f"{notice}.{part}.j2"
        try:
            out[part] = env.get_template(name).render(**context)
        except TemplateError as e:
            raise NoticeError(f"notice '{notice}' ({name}): {e.message or e}") from None
    subject = one_line(out["subject"])
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    return Rendered(subject=subject, text=out["txt"], html=out["html"])


def sample_context() -> dict[str, Any]:
    """Data of the shape the engine passes (every variable docs/escalation.md lists), to check and preview notices."""
    return {
        "org": "某市人大常委会",
        "item": {"id": 1, "title": "示例专项监督事项", "template": "专项监督（五专全链条）", "urgency": "一般",
                 "link": "https://duban.example.gov.cn/items/1"},
        "step": {"name": "rectification", "label": "整改落实", "owner_role": "承办部门", "owner_role_id": "department",
                 "owners": ["示例承办人"], "entered": "2026-03-01 09:00", "due": "2026-06-01 24:00", "due_rule": "进入后3个月"},
        "rung": {"name": "blue", "label": "蓝色督办单", "meaning": "已到办理时限"},
        "days_late": 3, "days_left": 0, "overdue": "3个工作日",
        "recipient": {"name": "示例承办人", "email": "someone@example.org"},
        "to": [{"name": "示例承办人", "email": "someone@example.org", "role": "承办部门"}],
        "cc": [{"name": "示例组长", "email": "lead@example.org", "role": "专项监督小组组长"}],
        "contacts": [{"name": "示例联系人", "email": "contact@example.org", "role": "工作委员会"}],
        "slip": {"no": "〔2026〕督字第1号", "limit": "2026-06-08 24:00"}, "start_reason": "",
        "actions": ["整改完成"], "skipped": [],
        "handed_by": "示例经办人", "comment": "",
        "meeting": {"id": 1, "title": "市人大常委会第二十次会议", "kind": "常委会会议", "from": "2026-06-25", "to": "2026-07-02"},
        "old_due": "2026-06-05 24:00",
        "documents": [{"label": "审议意见书", "name": "审议意见书.pdf", "link": "https://duban.example.gov.cn/items/1/files/1"}],
    }
