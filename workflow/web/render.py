"""The workbench's HTML: one Jinja2 environment (autoescaped), and diagrams drawn once per template version and step."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .. import caches, diagram
from ..calendar import TZ
from ..definition import Definition
from ..present import LIGHT_CN, NOTICE_CN, OUTBOX_STATUS_CN, fmt, safe

HERE = Path(__file__).parent
_env: Environment | None = None
_svg: dict[tuple[str, str | None], str | None] = caches.register("diagram_svgs", {})
_lock = threading.Lock()


def environment() -> Environment:
    global _env
    if _env is None:
        env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                          auto_reload=False)  # the templates are part of the installed package
        env.filters["fmt"] = fmt
        env.filters["safe_text"] = safe
        env.filters["local"] = lambda t: t.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if t else "—"
        env.globals["LIGHT_CN"] = LIGHT_CN
        env.globals["NOTICE_CN"], env.globals["OUTBOX_STATUS_CN"] = NOTICE_CN, OUTBOX_STATUS_CN
        _env = env
    return _env


def page(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def diagram_svg(defn: Definition, current: str | None) -> str | None:
    """The template's diagram with `current` marked, as SVG (None without Graphviz); drawn once, then cached."""
    key = (defn.content_hash, current)
    if key not in _svg:
        drawn = diagram.svg(diagram.dot(defn, current))
        with _lock:
            _svg[key] = drawn
    return _svg[key]
