"""The 台账 as files: xlsx (with a sheet of its documents, each linked), CSV and JSON. Reads no database."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO, Any

from .report_render import csv_text, xlsx_cells

STEP_LABELS = {"entered": "进入", "due": "时限", "finished": "办结", "light": "灯", "late": "逾期工作日", "rounds": "轮次"}  # in ledger.parts' order
ITEM_COLUMNS = [("id", "编号"), ("title", "事项"), ("group", "小组"), ("state", "当前环节"), ("light", "亮灯"), ("owners", "承办人"),
                ("created", "立项时间")]


DOCUMENTS = "文件材料"  # the 台账's last column, and its second sheet in the xlsx


def ledger_header(ledger) -> list[str]:
    return ([label for _k, label in ITEM_COLUMNS]
            + [f"{label}·{STEP_LABELS[part]}" for _s, label in ledger.states for part in ledger.parts]
            + [label for _n, label in ledger.fields] + [DOCUMENTS])


def documents_text(docs) -> str:
    """An item's documents in one cell: '报告送审·专项工作报告：报告.pdf https://…；…' (the address when base_url is set)."""
    return "；".join(f"{d.step}·{d.field}{f'（第{d.round}轮）' if d.round > 1 else ''}：{d.name}{' ' + d.link if d.link else ''}"
                    for d in docs)


def _field_cells(ledger, row: dict[str, Any], at: dict[str, int] | None = None) -> list[Any]:
    """The row's field values in the order of ledger.fields ('' where it has none): a list as 'a、b'. `at` (field →
    column, from _field_columns) lets a long loop walk the fields the item holds rather than all of them."""
    at = at or _field_columns(ledger)
    cells: list[Any] = [""] * len(at)
    for name, value in row["fields"].items():
        i = at.get(name)
        if i is not None and value is not None:
            cells[i] = "、".join(str(v["name"]) if isinstance(v, dict) and "name" in v else str(v) for v in value) \
                if isinstance(value, list) else value  # a file field: its documents' names
    return cells


def _field_columns(ledger) -> dict[str, int]:
    return {name: i for i, (name, _label) in enumerate(ledger.fields)}


def ledger_cells(ledger, row: dict[str, Any]) -> list[Any]:
    return ([row[k] for k, _l in ITEM_COLUMNS] + ledger.cells_of(row) + _field_cells(ledger, row)
            + [documents_text(ledger.documents.get(row["id"], ()))])


def ledger_csv(ledger, out: IO[str]) -> None:
    """The csv module quotes the item's cells and its fields; each visit's text goes into the line as it is (its
    cells are times, lights and numbers: nothing to quote), which spares the writer a hundred cells a row."""
    csv.writer(out).writerow(ledger_header(ledger))
    parts: list[str] = []
    w = csv.writer(_Appender(parts.append), lineterminator="")
    n, with_fields, at = len(ledger.states), bool(ledger.fields), _field_columns(ledger)
    keys = [k for k, _l in ITEM_COLUMNS]
    for row in ledger.rows:
        w.writerow([csv_text(row[k]) for k in keys])
        line = [parts.pop()]
        line += row["visits"][:n]
        if with_fields:
            w.writerow([csv_text(v) for v in _field_cells(ledger, row, at)])
            line.append(parts.pop())
        docs = ledger.documents.get(row["id"])
        if docs:
            w.writerow([csv_text(documents_text(docs))])
            line.append(parts.pop())
        else:
            line.append("")
        out.write(",".join(line) + "\r\n")


class _Appender:
    """A file-like object whose writes go to a function (the csv writer wants one)."""

    def __init__(self, write) -> None:
        self.write = write


def ledger_xlsx(ledger, out: IO[bytes] | str | Path) -> None:
    """openpyxl's write-only mode: rows streamed, a frozen header and filters, Chinese column names."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    header = ledger_header(ledger)
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{_column(len(header))}{len(ledger.rows) + 1}"
    bold = Font(bold=True)
    cells = []
    for h in header:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        cells.append(c)
    ws.append(cells)
    for row in ledger.rows:
        ws.append(xlsx_cells(ws, ledger_cells(ledger, row)))
    _documents_sheet(wb, ledger, bold)
    wb.save(out)


DOCUMENT_COLUMNS = ["编号", "事项", "环节", "轮次", "材料", "文件名", "大小", "类型", "上传人", "上传时间", "SHA-256"]


def _documents_sheet(wb, ledger, bold) -> None:
    """The 台账's second sheet: one row per document, its name linked to its download on the workbench."""
    from openpyxl.cell import WriteOnlyCell

    ws = wb.create_sheet(DOCUMENTS)
    ws.freeze_panes = "A2"
    header = []
    for h in DOCUMENT_COLUMNS:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        header.append(c)
    ws.append(header)
    titles = {r["id"]: r["title"] for r in ledger.rows}
    for item_id, docs in ledger.documents.items():
        for d in docs:
            name = WriteOnlyCell(ws, value=d.name)
            if d.link:
                name.hyperlink, name.style = d.link, "Hyperlink"
            ws.append([item_id, *xlsx_cells(ws, [titles.get(item_id, ""), d.step]), d.round,
                       *xlsx_cells(ws, [d.field]), name,
                       d.size, d.type, *xlsx_cells(ws, [d.uploaded_by]), d.uploaded_at, d.sha256])


def _column(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def ledger_json(ledger, out: IO[str]) -> None:
    """Each row with its visits as {state: {rounds, entered, due, finished, light, late}}."""
    rows = [{**{k: row[k] for k, _l in ITEM_COLUMNS}, "steps": ledger.steps_of(row),
             "fields": {n: row["fields"].get(n) for n, _l in ledger.fields},
             "documents": [d.as_dict() for d in ledger.documents.get(row["id"], ())]} for row in ledger.rows]
    out.write(json.dumps({"template": ledger.template, "title": ledger.title, "states": ledger.states,
                          "fields": ledger.fields, "rows": rows}, ensure_ascii=False, indent=2, default=str))


