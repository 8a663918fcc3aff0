"""State diagrams of a Definition as Mermaid or Graphviz DOT text, and rendering through `dot`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .definition import Definition
from .errors import InvalidInput


def _edge_label(defn: Definition, t) -> str:
    roles = "/".join(defn.roles.get(r, r) for r in t.roles)
    return f"{t.label}（{roles}）"


def mermaid(defn: Definition) -> str:
    lines = ["stateDiagram-v2", f"    %% {defn.title} ({defn.key}, {defn.content_hash[:12]})"]
    for s in defn.states.values():
        extra = f"<br/>{defn.deadline_text(s)}" if s.deadline else ""
        lines.append(f'    state "{s.label}{extra}" as {s.name}')
    lines.append(f"    [*] --> {defn.initial}")
    for t in defn.transitions:
        for src in t.sources:
            lines.append(f"    {src} --> {t.dest}: {_edge_label(defn, t)}")
    for s in defn.states.values():
        if s.final:
            lines.append(f"    {s.name} --> [*]")
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(defn: Definition, current: str | None = None) -> str:
    """Graphviz DOT text; `current` (a state) is drawn filled, as the step an item is at."""
    lines = [f"digraph {_q(defn.key)} {{", "    rankdir=TB;", '    node [shape=box, style=rounded, fontname="Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, Microsoft YaHei, SimHei, sans"];',
             '    edge [fontname="Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, Microsoft YaHei, SimHei, sans", fontsize=10];', f"    label={_q(defn.title)};",
             '    __start [shape=point, label=""];']
    for s in defn.states.values():
        label = _q(s.label) + (f' + "\\n" + {_q(defn.deadline_text(s))}' if s.deadline else "")
        shape = ", peripheries=2" if s.final else ""
        if s.name == current:
            shape += ', style="rounded,filled,bold", fillcolor="#fde68a", color="#b45309", penwidth=2'
        lines.append(f"    {s.name} [label={label}{shape}];")
    lines.append(f"    __start -> {defn.initial};")
    for t in defn.transitions:
        for src in t.sources:
            lines.append(f"    {src} -> {t.dest} [label={_q(_edge_label(defn, t))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def chinese_font_missing() -> bool:
    """True when fontconfig knows no font with Chinese glyphs (labels would render as boxes)."""
    fc = shutil.which("fc-list")
    if fc is None:
        return False  # cannot tell; Graphviz may use another font system
    out = subprocess.run([fc, ":lang=zh", "family"], capture_output=True, text=True)
    return out.returncode == 0 and not out.stdout.strip()


def svg(dot_text: str) -> str | None:
    """DOT text rendered to SVG by Graphviz, or None when `dot` is not installed."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    proc = subprocess.run([exe, "-Tsvg"], input=dot_text.encode(), capture_output=True, timeout=30)
    if proc.returncode != 0:
        raise InvalidInput(f"Graphviz failed to draw the diagram: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode("utf-8")


def render(dot_text: str, output: Path) -> list[str]:
    """Render DOT text to .svg or .png with Graphviz; returns warnings; raises InvalidInput when it cannot."""
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png"):
        raise InvalidInput(f"{output}：只能绘制为 .svg 或 .png 文件", file=str(output), parameter="format")
    exe = shutil.which("dot")
    if exe is None:
        raise InvalidInput(
            "绘制流程图需要 Graphviz 的 dot 程序，本机未安装：请安装 graphviz（Debian/Ubuntu：apt-get install "
            "graphviz；dnf install graphviz；brew install graphviz），或改为输出文本", parameter="format")
    proc = subprocess.run([exe, f"-T{fmt}", "-o", str(output)], input=dot_text.encode(), capture_output=True)
    if proc.returncode != 0:
        raise InvalidInput(f"Graphviz failed to render {output}: {proc.stderr.decode(errors='replace').strip()}")
    if chinese_font_missing():
        return ["no Chinese font is installed, so the labels show as boxes: install one "
                "(e.g. `apt-get install fonts-noto-cjk` or `fonts-wqy-microhei`) and render again"]
    return []
