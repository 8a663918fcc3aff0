"""/activities (我监督): the announced activities, a deputy's sign-up, the organiser's announcement and 签到."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..errors import NotFound, Unavailable, WuzhuanError, http_status_of
from ..service import supervise
from .forms import int_of

OK = {"announced": "已发布。", "signed": "已报名。", "confirmed": "已确认签到。"}


class Activities:
    def __init__(self, w):
        self.w = w

    def routes(self) -> list[Route]:
        return [Route("/activities", self.listing, methods=["GET"]), Route("/activities/new", self.new, methods=["GET"]),
                Route("/activities/new", self.announce, methods=["POST"]),
                Route("/activities/{activity_id:id}", self.page, methods=["GET"]),
                Route("/activities/{activity_id:id}/{action:str}", self.act, methods=["POST"])]

    async def listing(self, request: Request) -> Response:
        w = self.w
        who = await w.who(request)
        if who is None:
            return w.login_redirect(request)
        try:
            rows = await w.call(supervise.list_announcements, w.store, who.person)
        except WuzhuanError as e:
            return w.error(request, e, who)
        return w.html(request, "activities.html", who=who, rows=rows, tab="activities",
                      notice=OK.get(request.query_params.get("ok", ""), ""))

    async def new(self, request: Request, problem: str = "", status: int = 200, typed: dict | None = None) -> Response:
        w = self.w
        who = await w.who(request)
        if who is None:
            return w.login_redirect(request)
        kinds = await w.call(supervise.activity_kinds)
        return w.html(request, "activity_new.html", status, who, problem=problem, typed=typed or {}, kinds=kinds,
                      tab="activities")

    async def announce(self, request: Request) -> Response:
        w = self.w
        who, form = await w.posted(request)
        if isinstance(who, Response):
            return who
        typed = {k: str(form.get(k, ""))[:600] for k in ("kind", "date", "place", "item", "note")}
        try:
            item = int_of(typed["item"], None, "事项编号") if typed["item"].strip() else None
            await w.call(supervise.announce, w.store, who.person.code, kind=typed["kind"], day=typed["date"], now=w.now(),
                         place=typed["place"] or None, item=item, note=typed["note"] or None)
        except Unavailable as e:
            return w.error(request, e, who)
        except WuzhuanError as e:
            return await self.new(request, problem=str(e), status=http_status_of(e), typed=typed)
        return RedirectResponse("/activities?ok=announced", status_code=303)

    async def page(self, request: Request, problem: str = "", status: int = 200) -> Response:
        w = self.w
        who = await w.who(request)
        if who is None:
            return w.login_redirect(request)
        try:
            pg = await w.call(supervise.announcement_page, w.store, who.person, request.path_params["activity_id"], w.now())
        except WuzhuanError as e:
            return w.error(request, e, who)
        return w.html(request, "activity.html", status, who, pg=pg, a=pg.announcement, problem=problem,
                      notice=OK.get(request.query_params.get("ok", ""), ""), tab="activities")

    async def act(self, request: Request) -> Response:
        w = self.w
        who, form = await w.posted(request)
        if isinstance(who, Response):
            return who
        aid, action = request.path_params["activity_id"], request.path_params["action"]
        try:
            if action == "signup":
                await w.call(supervise.signup, w.store, who.person.code, aid, w.now())
            elif action == "confirm":
                codes = [str(v) for k, v in form.multi_items() if k == "deputy"]
                codes += [c.strip() for c in str(form.get("others", "")).replace("，", ",").split(",") if c.strip()]
                await w.call(supervise.confirm, w.store, who.person.code, aid, codes, w.now())
            else:
                return w.error(request, NotFound("没有这个操作"), who)
        except Unavailable as e:
            return w.error(request, e, who)
        except WuzhuanError as e:
            if http_status_of(e) == 404:
                return w.error(request, e, who)
            return await self.page(request, problem=str(e), status=http_status_of(e))
        return RedirectResponse(f"/activities/{aid}?ok={'signed' if action == 'signup' else 'confirmed'}", status_code=303)
