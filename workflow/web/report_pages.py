"""/board (the council's and office's board, the evaluators' form) and /ledger.xlsx."""

from __future__ import annotations

import io
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from .. import ledger_render, report_render, service
from ..calendar import TZ
from ..errors import InvalidInput, WuzhuanError, http_status_of
from ..service import Store
from .forms import int_of


class Reports:
    """/board (the council's and office's board, the evaluators' form) and /ledger.xlsx."""

    def __init__(self, w):
        self.w = w

    def _day(self, value: str | None, default):
        return value.strip() if value and value.strip() else default.isoformat()

    async def board(self, request: Request, notice: str = "", problem: str = "", status: int = 200) -> Response:
        w = self.w
        who = await w.who(request)
        if who is None:
            return w.login_redirect(request)
        today = w.now().astimezone(TZ).date()
        q = request.query_params
        as_of = self._day(q.get("as_of"), today)
        previous = self._day(q.get("previous"), today - timedelta(days=7))
        try:
            b = await w.call(service.board_for, self.store, who.person, as_of, previous if previous < as_of else None)
            scorer = await w.call(service.is_evaluator, self.store, who.person)
            units = await w.call(service.units_compared, self.store) if scorer else []
        except WuzhuanError as e:
            return w.error(request, e, who)
        return w.html(request, "board.html", status, who, b=b, table=report_render.board_html(b, standalone=False),
                      report_css=report_render.css(),
                      scorer=scorer, units=units, year=as_of[:4], notice=notice, problem=problem, staff=True, tab="board")

    async def orgs(self, request: Request) -> Response:
        """/orgs: the roll-up of the organisations the person looks over (service.org_rollup decides which)."""
        w = self.w
        who = await w.who(request)
        if who is None:
            return w.login_redirect(request)
        as_of = self._day(request.query_params.get("as_of"), w.now().astimezone(TZ).date())
        try:
            roots = await w.call(service.org_rollup, self.store, who.person, as_of)
        except WuzhuanError as e:
            return w.error(request, e, who)
        rows = []

        def walk(o, depth: int) -> None:
            rows.append((depth, o))
            for k in o.children:
                walk(k, depth + 1)
        for r in roots:
            walk(r, 0)
        return w.html(request, "orgs.html", 200, who, rows=rows, as_of=as_of, staff=True, tab="orgs")

    @property
    def store(self) -> Store:
        return self.w.store

    async def score(self, request: Request) -> Response:
        who, form = await self.w.posted(request)
        if isinstance(who, Response):
            return who
        try:
            points = int_of(form.get("score"), None, "分数")
            if points is None:
                raise InvalidInput("请填写 0 到 100 之间的整数分", parameter="score")
            r = await self.w.call(service.set_score, self.store, who.person.code, str(form.get("unit", ""))[:64], points,
                                  self.w.now(), comment=str(form.get("comment", ""))[:600] or None)
        except WuzhuanError as e:
            return await self.board(request, problem=str(e), status=http_status_of(e))
        return await self.board(request, notice=f"已记录：{r.unit_name} {r.year}年创新评分 {r.score}")

    async def ledger(self, request: Request) -> Response:
        w = self.w
        who = await w.who(request)
        if who is None:
            return w.login_redirect(request)
        try:
            year = int_of(request.query_params.get("year"), None, "年份")
            if year is not None and not 1970 <= year <= 2199:
                raise InvalidInput(f"年份 {year} 超出了 1970–2199 年", parameter="year")
            ledger = await w.call(service.ledger_for, self.store, who.person, w.now(),
                                  request.query_params.get("template") or "special_supervision", year)
            buf = io.BytesIO()
            await w.call(ledger_render.ledger_xlsx, ledger, buf)
        except WuzhuanError as e:
            return w.error(request, e, who)
        return Response(buf.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename=\"ledger-{ledger.template}.xlsx\"",
                                 "Cache-Control": "private, no-store"})
