"""/proposals (我献策): the list, the form a deputy submits, a proposal's page with 联名 and the office's screening."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import NotFound, Unavailable, WuzhuanError, http_status_of
from ..service import proposals
from .forms import int_of

OK = {"submitted": "已提交，联名代表确认后一并审查。", "cosigned": "已确认联名。", "screened": "已审查。"}


class Proposals:
    def __init__(self, w):
        self.w = w

    async def listing(self, request: Request) -> Response:
        w = self.w
        who = await w.who(request)
        if who is None:
            return w.login_redirect(request)
        try:
            rows = await w.call(proposals.list_proposals, w.store, who.person, mine=request.query_params.get("mine") == "1")
            deputy = await w.call(proposals.is_deputy, w.store, who.person)
        except WuzhuanError as e:
            return w.error(request, e, who)
        return w.html(request, "proposals.html", who=who, rows=rows, deputy=deputy, tab="proposals")

    async def new(self, request: Request, problem: str = "", status: int = 200, typed: dict | None = None) -> Response:
        w = self.w
        who = await w.who(request)
        if who is None:
            return w.login_redirect(request)
        return w.html(request, "proposal_new.html", status, who, problem=problem, typed=typed or {}, tab="proposals")

    async def submit(self, request: Request) -> Response:
        w = self.w
        who, form = await w.posted(request)
        if isinstance(who, Response):
            return who
        typed = {k: str(form.get(k, ""))[:20_000] for k in ("title", "text", "cosigners")}
        names = [c.strip() for c in typed["cosigners"].replace("，", ",").replace("、", ",").split(",") if c.strip()]
        try:
            p = await w.call(proposals.submit, w.store, who.person.code, typed["title"], typed["text"], w.now(), cosigners=names)
        except Unavailable as e:
            return w.error(request, e, who)
        except WuzhuanError as e:
            return await self.new(request, problem=str(e), status=http_status_of(e), typed=typed)
        return RedirectResponse(f"/proposals/{p.id}?ok=submitted", status_code=303)

    async def page(self, request: Request, problem: str = "", status: int = 200) -> Response:
        w = self.w
        who = await w.who(request)
        if who is None:
            return w.login_redirect(request)
        try:
            pg = await w.call(proposals.proposal_page, w.store, who.person, request.path_params["proposal_id"])
        except WuzhuanError as e:
            return w.error(request, e, who)
        return w.html(request, "proposal.html", status, who, pg=pg, p=pg.proposal, problem=problem,
                      notice=OK.get(request.query_params.get("ok", ""), ""), tab="proposals")

    async def act(self, request: Request) -> Response:
        w = self.w
        who, form = await w.posted(request)
        if isinstance(who, Response):
            return who
        pid, action = request.path_params["proposal_id"], request.path_params["action"]
        try:
            if action == "cosign":
                await w.call(proposals.cosign, w.store, who.person.code, pid, w.now())
            elif action == "screen":
                meeting = int_of(form.get("meeting"), None, "会议编号") if str(form.get("meeting", "")).strip() else None
                await w.call(proposals.screen, w.store, who.person.code, pid, str(form.get("decision", "")), w.now(),
                             reason=str(form.get("reason", ""))[:5000] or None, meeting=meeting)
            else:
                return w.error(request, NotFound("没有这个操作"), who)
        except Unavailable as e:
            return w.error(request, e, who)
        except WuzhuanError as e:
            if http_status_of(e) == 404:
                return w.error(request, e, who)
            return await self.page(request, problem=str(e), status=http_status_of(e))
        return RedirectResponse(f"/proposals/{pid}?ok={'cosigned' if action == 'cosign' else 'screened'}", status_code=303)
