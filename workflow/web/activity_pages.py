"""/activities (我监督): the announced activities, a deputy's sign-up, the organiser's announcement and 签到."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import NotFound, WuzhuanError
from ..service import supervise
from .forms import form_done, int_of

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

        async def work():
            item = int_of(typed["item"], None, "事项编号") if typed["item"].strip() else None
            return await w.call(supervise.announce, w.store, who.person.code, kind=typed["kind"], day=typed["date"],
                                now=w.now(), place=typed["place"] or None, item=item, note=typed["note"] or None)
        return await form_done(w, request, who, work, lambda _a: "/activities?ok=announced",
                               lambda problem, status: self.new(request, problem=problem, status=status, typed=typed))

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

        async def work():
            if action == "signup":
                return await w.call(supervise.signup, w.store, who.person.code, aid, w.now())
            if action == "confirm":
                codes = [str(v) for k, v in form.multi_items() if k == "deputy"]
                codes += [c.strip() for c in str(form.get("others", "")).replace("，", ",").split(",") if c.strip()]
                return await w.call(supervise.confirm, w.store, who.person.code, aid, codes, w.now())
            raise NotFound("没有这个操作")
        return await form_done(w, request, who, work,
                               lambda _a: f"/activities/{aid}?ok={'signed' if action == 'signup' else 'confirmed'}",
                               lambda problem, status: self.page(request, problem=problem, status=status),
                               missing_is_error=True)
