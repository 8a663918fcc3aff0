"""Reports as files: the board as a table, HTML or xlsx; the results as HTML with
SVG charts (matplotlib) and as PDF (WeasyPrint). Takes the use cases' dataclasses; reads no database."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import InvalidInput
from .scorecard import METRIC_CN

if TYPE_CHECKING:
    from jinja2 import Environment

BOARD_COLUMNS = [("rank", "名次"), ("previous_rank", "上期名次"), ("change", "升降"), ("unit_name", "单位"),
                 ("score", "综合得分"), ("colour_label", "亮牌"), ("items", "事项数"), ("on_time_share", "按时办结率"),
                 ("avg_overdue_workdays", "平均逾期工作日"), ("lights", "当前亮灯（绿/黄/红）"), ("stage_share", "计划进度达标率"),
                 ("satisfaction", "满意度得分"), ("rectified", "整改完成"), ("unsatisfied_rounds", "不满意轮次"),
                 ("returned", "退办次数"), ("innovation", "创新评分"), ("attendances", "代表参与人次")]


def _cell(row: Any, key: str) -> Any:
    v = getattr(row, key)
    if key == "lights":
        return f"{v['green']}/{v['yellow']}/{v['red']}"
    if key == "rectified":
        return f"{row.rectified}/{row.rectification_reached}"
    if key in ("on_time_share", "stage_share") and v is not None:
        return f"{v * 100:.1f}%"
    if key == "change" and v:
        return f"↑{v}" if v > 0 else f"↓{-v}"
    return "—" if v is None else v


# A spreadsheet reads a cell that begins with one of these as a formula (=HYPERLINK(…) typed into a field by one
# person runs when another opens the export): such text is written as text, never as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> Any:
    """A value for a CSV cell: text that a spreadsheet would take for a formula gets a leading apostrophe."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def xlsx_cells(ws, values: list[Any]) -> list[Any]:
    """Values for a worksheet row (write-only or not): text that begins like a formula becomes a text cell, shown as
    typed (and kept as text when someone edits it: quotePrefix)."""
    from openpyxl.cell import WriteOnlyCell

    out = []
    for v in values:
        if isinstance(v, str) and v.startswith(FORMULA_START):
            c = WriteOnlyCell(ws, value=v)
            c.data_type, c.quotePrefix = "s", True
            v = c
        out.append(v)
    return out


def board_table(board) -> tuple[list[list[Any]], list[str]]:
    return [[_cell(r, k) for k, _l in BOARD_COLUMNS] for r in board.rows], [label for _k, label in BOARD_COLUMNS]


def as_json(value: Any) -> str:
    return json.dumps(dataclasses.asdict(value), ensure_ascii=False, indent=2, default=str)


@lru_cache(maxsize=1)
def _env() -> Environment:
    """The reports' Jinja2 environment (Jinja2 imported when a report or slip is first rendered: the delivery, which
    may attach a slip, is imported by commands that render nothing)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("workflow", "report_templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(columns=BOARD_COLUMNS, cell=_cell, metric_cn=METRIC_CN)
    return env


@lru_cache(maxsize=1)
def css() -> str:
    """The reports' style sheet without its print rules: for a board shown inside the workbench."""
    text = _env().loader.get_source(_env(), "report.css")[0]
    return "\n".join(line for line in text.splitlines() if not line.startswith("@page"))


def board_html(board, standalone: bool = True) -> str:
    return _env().get_template("board.html").render(b=board, standalone=standalone)


def board_xlsx(board, out: IO[bytes] | str | Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "排名"
    rows, header = board_table(board)
    ws.append(xlsx_cells(ws, [f"{board.title}　截至 {board.as_of}" + (f"（上期 {board.previous}）" if board.previous else "")]))
    ws.append(header)
    fills = {"蓝牌": "BDD7EE", "黄牌": "FFE699", "红牌": "F4B183"}
    for r in rows:
        ws.append(xlsx_cells(ws, r))
        colour = fills.get(r[5])
        if colour:
            ws.cell(ws.max_row, 6).fill = PatternFill("solid", fgColor=colour)
    for c in ws[2]:
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=True)
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:{ws.cell(2, len(header)).column_letter}{ws.max_row}"
    metrics = wb.create_sheet("分项得分")
    metrics.append(["单位", *[METRIC_CN[m] for m in board.weights], "综合得分"])
    metrics.append(["权重", *board.weights.values(), sum(board.weights.values())])
    for r in board.rows:
        metrics.append(xlsx_cells(metrics, [r.unit_name, *[r.metrics.get(m) for m in board.weights], r.score]))
    metrics.freeze_panes = "B3"
    wb.save(out)


# --- the roll-up of organisations ---------------------------------------------------------------------

ORGS_HEADER = ["组织", "级别", "事项", "在办", "办结", "绿", "黄", "红", "按时率（已办结环节）", "逾期工作日"]


def orgs_table(roots) -> list[tuple[int, list]]:
    """(depth, cells) per organisation, each under the one above it: what the terminal and the spreadsheet show."""
    rows: list[tuple[int, list]] = []

    def walk(o, depth: int) -> None:
        i = o.items
        rate = "无数据" if o.on_time_rate is None else f"{o.on_time_rate:.0%}"
        rows.append((depth, [o.name, o.level_label, i["total"], i["open"], i["closed"], i["green"], i["yellow"], i["red"],
                             rate, o.late_workdays]))
        for k in o.children:
            walk(k, depth + 1)
    for r in roots:
        walk(r, 0)
    return rows


def orgs_xlsx(roots, as_of: str, out: IO[bytes] | str | Path) -> None:
    """The roll-up as a spreadsheet: one row per organisation, indented under the one above it, with filters."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "组织汇总"
    ws.append([f"组织汇总　截至 {as_of} 日终"])
    ws.append(ORGS_HEADER)
    for depth, cells in orgs_table(roots):
        ws.append(xlsx_cells(ws, cells))
        ws.cell(ws.max_row, 1).alignment = Alignment(indent=2 * depth)
    for c in ws[2]:
        c.font = Font(bold=True)
    ws.column_dimensions["A"].width = 28
    ws.freeze_panes = "B3"
    ws.auto_filter.ref = f"A2:{ws.cell(2, len(ORGS_HEADER)).column_letter}{ws.max_row}"
    wb.save(out)


# --- the results report -------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    """A CJK font file for the charts (Noto Sans CJK from Debian's fonts-noto-cjk), found by fontconfig."""
    if shutil.which("fc-match"):
        r = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC:lang=zh"], capture_output=True, text=True, timeout=10)
        if r.returncode == 0 and r.stdout.strip() and Path(r.stdout.strip()).exists():
            return r.stdout.strip()
    return None


def short(name: str) -> str:
    """A unit's name for a chart's axis: the topic in its brackets (第一专项监督小组（生态环境保护）→ 生态环境保护)."""
    if "（" in name and name.endswith("）"):
        name = name[name.index("（") + 1:-1]
    return name if len(name) <= 10 else name[:9] + "…"


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def charts(results) -> dict[str, str]:
    """SVG charts (text drawn as paths, so any viewer and WeasyPrint show the Chinese): scores by unit, lights
    by unit, activities by kind."""
    import matplotlib

    matplotlib.use("svg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    matplotlib.rcParams["svg.fonttype"] = "path"
    font = _cjk_font()
    prop = font_manager.FontProperties(fname=font) if font else None
    rows = [r for r in results.board.rows if r.score is not None]  # 无数据: no bar, no place
    out = {}
    fig, ax = plt.subplots(figsize=(7, 3.2))
    colours = {"blue": "#2f6fb5", "yellow": "#e0b000", "red": "#c0392b"}
    names = [short(r.unit_name) for r in rows]
    ax.bar(names, [r.score for r in rows], color=[colours[r.colour] for r in rows])
    ax.set_ylim(0, 100)
    ax.set_title("综合得分与亮牌", fontproperties=prop)
    ax.set_xticks(range(len(rows)), names, fontproperties=prop, rotation=15)
    for i, r in enumerate(rows):
        ax.text(i, r.score + 2, f"{r.score:.1f}", ha="center")
    out["scores"] = _svg(fig)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bottom = [0] * len(rows)
    for key, label, colour in (("green", "绿灯", "#2e8b57"), ("yellow", "黄灯", "#e0b000"), ("red", "红灯", "#c0392b")):
        vals = [r.lights[key] for r in rows]
        ax.bar(names, vals, bottom=bottom, color=colour, label=label)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of steps: whole numbers
    ax.set_title("各单位当前亮灯", fontproperties=prop)
    ax.set_xticks(range(len(rows)), names, fontproperties=prop, rotation=15)
    ax.legend(prop=prop)
    out["lights"] = _svg(fig)
    plt.close(fig)
    if results.by_kind:
        fig, ax = plt.subplots(figsize=(7, 2.8))
        kinds = list(results.by_kind)
        ax.barh(kinds, [results.by_kind[k] for k in kinds], color="#2f6fb5")
        ax.set_yticks(range(len(kinds)), kinds, fontproperties=prop)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title("代表参与活动（按类型）", fontproperties=prop)
        out["activities"] = _svg(fig)
        plt.close(fig)
    return out


def results_html(results) -> str:
    return _env().get_template("results.html").render(r=results, charts=charts(results), board=board_html(results.board, False))


@lru_cache(maxsize=1)
def slip_css() -> str:
    """The 督办单's style sheet: linked by the workbench's page, inlined in the PDF (WeasyPrint fetches nothing)."""
    return _env().loader.get_source(_env(), "slip.css")[0]


def slip_html(slip, tools: bool) -> str:
    """A 督办单 (reads.slips.Slip) as a page: with `tools`, the workbench's (back, print, PDF; its style sheet
    linked); without, the page the PDF is made of (its style inline)."""
    return _env().get_template("slip.html").render(s=slip, tools=tools, css="" if tools else slip_css())


def slip_file_name(slip) -> str:
    """红色督办单〔2026〕人大督字第8号.pdf"""
    return f"{slip.title}{slip.no}.pdf"


def slip_pdf(slip) -> bytes:
    """A 督办单 as an A4 PDF (WeasyPrint, as the results report)."""
    try:
        from weasyprint import HTML
    except (OSError, ImportError) as e:
        raise InvalidInput("督办单 PDF 需要 Pango 库（Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0）；"
                           f"可在页面上直接打印（{e}）") from None
    return HTML(string=slip_html(slip, tools=False)).write_pdf()


def results_pdf(results, out: str | Path | IO[bytes]) -> None:
    """The results report as PDF; InvalidInput (one line) when the system lacks what WeasyPrint needs (Pango)."""
    try:
        from weasyprint import HTML
    except (OSError, ImportError) as e:  # WeasyPrint loads Pango from the system, not from pip
        raise InvalidInput("the PDF report needs the Pango library (Debian: apt-get install libpango-1.0-0 "
                           f"libpangoft2-1.0-0); the HTML format works without it ({e})") from None
    HTML(string=results_html(results)).write_pdf(out)
