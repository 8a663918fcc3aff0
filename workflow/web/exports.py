"""A list's table as a download: `format=csv` (UTF-8 with a BOM, which Excel and WPS open as Chinese) or `xlsx`."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from starlette.responses import Response

from ..errors import InvalidInput
from ..report_render import FORMULA_START, xlsx_cells

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def checked(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"导出格式“{fmt[:20]}”不是 csv、xlsx 之一", parameter="format")
    return fmt


def _csv(table) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(table.headers)
    for row in table.rows:  # a cell that a spreadsheet would run as a formula is kept as text
        w.writerow(["'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx(table) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(table.title)
    ws.append(list(table.headers))
    for row in table.rows:
        ws.append(xlsx_cells(ws, row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def download(table, fmt: str, day: str) -> Response:
    """The table as a file named after the list and the day (e.g. 待办-2026-04-20.xlsx)."""
    body = _csv(table) if fmt == "csv" else _xlsx(table)
    name = f"{table.title}-{day}.{fmt}"
    return Response(body, media_type=FORMATS[fmt], headers={
        "Content-Disposition": f"attachment; filename=\"export-{day}.{fmt}\"; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
