"""/proposals (我献策): the list, the form a deputy submits, a proposal's page with 联名 and the office's screening."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..errors import NotFound, WuzhuanError
from ..service import proposals
from .forms import form_done, int_of

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
        return await form_done(
            w, request, who,
            lambda: w.call(proposals.submit, w.store, who.person.code, typed["title"], typed["text"], w.now(), cosigners=names),
            lambda p: f"/proposals/{p.id}?ok=submitted",
            lambda problem, status: self.new(request, problem=problem, status=status, typed=typed))

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

        async def work():
            if action == "cosign":
                return await w.call(proposals.cosign, w.store, who.person.code, pid, w.now())
            if action == "screen":
                meeting = int_of(form.get("meeting"), None, "会议编号") if str(form.get("meeting", "")).strip() else None
                return await w.call(proposals.screen, w.store, who.person.code, pid, str(form.get("decision", "")), w.now(),
                                    reason=str(form.get("reason", ""))[:5000] or None, meeting=meeting)
            raise NotFound("没有这个操作")
        return await form_done(w, request, who, work,
                               lambda _p: f"/proposals/{pid}?ok={'cosigned' if action == 'cosign' else 'screened'}",
                               lambda problem, status: self.page(request, problem=problem, status=status),
                               missing_is_error=True)
