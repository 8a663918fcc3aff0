"""The workbench as an ASGI application: sessions and CSRF, pages and forms; every decision is a use case's.

Requests run the (blocking) use cases in Starlette's thread pool. The acting person is always the one
of the session (or, in the API, of the token): no form or API field names an actor.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import report_render, service
from ..errors import (
    Conflict,
    NotFound,
    NotPermitted,
    Unavailable,
    WuzhuanError,
    http_status_of,
)
from ..files import MAX_FILE
from ..service import Store, accounts, reads
from ..service.accounts import SessionInfo
from . import api, downloads, ids
from .activity_pages import Activities
from .admin_pages import AdminPages
from .forms import (
    MAX_FILES,
    OK_MESSAGES,
    client_of,
    definition_of_version,
    files_of,
    int_of,
    next_of,
)
from .limits import BodyLimit
from .list_pages import Lists
from .personal_pages import Personal
from .pool import Pool
from .proposal_pages import Proposals
from .render import HERE, diagram_svg, page
from .report_pages import Reports
from .security import SecurityHeaders

ids.register()  # {item_id:id} in the routes below and in api.py

SESSION_COOKIE = "wz_session"
LOGIN_COOKIE = "wz_login"  # the login form's CSRF token (double submit: cookie and field must match)
log = logging.getLogger("wuzhuan.web")
ROUTER_405 = "这个地址不接受这种请求方式（请用页面上的按钮或链接办理）"
MESSAGES = {404: NotFound.public, 500: "系统内部错误：这是督办系统的缺陷，已记入服务器日志，请告知管理员。"}


def now() -> datetime:
    """The server acts at the wall clock."""
    return datetime.now(UTC)


class Workbench(AdminPages):
    def __init__(self, store: Store, clock=None):
        self.store = store
        self.now = clock or now  # the wall clock; tests pass their own
        self.pool = Pool()
        base = store.settings.base_url or ""
        self.secure = base.startswith("https://")

    async def call(self, fn, *args, **kwargs):
        return await self.pool(fn, *args, **kwargs)

    async def who(self, request: Request) -> SessionInfo | None:
        return await self.call(accounts.session, self.store, request.cookies.get(SESSION_COOKIE), self.now())

    def html(self, request: Request, name: str, status: int = 200, who: SessionInfo | None = None, **context) -> HTMLResponse:
        ctx = {"who": who.person if who else None, "csrf": who.csrf if who else "", "request_path": request.url.path,
               "staff": context.pop("staff", who.staff if who else False), "tab": context.pop("tab", ""), **context}
        r = HTMLResponse(page(name, **ctx), status_code=status)
        if status == 503:  # the database is unavailable for now: the browser (or a proxy) may come back
            r.headers["Retry-After"] = str(Unavailable.retry_after)
        return r

    def error(self, request: Request, e: Exception, who: SessionInfo | None) -> HTMLResponse:
        """A refusal or a failure as a page with the error's own status (a 503 asks the browser to come back)."""
        code = http_status_of(e)
        return self.html(request, "error.html", code, who, code=code, message=MESSAGES.get(code, str(e)))

    def login_redirect(self, request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    # --- login ----------------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        r = self.html(request, "login.html", login_csrf=token, message="", username="", next=next_of(request))
        self.cookie(r, LOGIN_COOKIE, token, max_age=3600)
        return r

    async def login(self, request: Request) -> Response:
        form = await request.form()
        cookie = request.cookies.get(LOGIN_COOKIE)
        if not cookie or not secrets.compare_digest(cookie, str(form.get("csrf", ""))):
            return PlainTextResponse("403 表单已过期，请刷新登录页后重试。", status_code=403)
        username, password = str(form.get("username", ""))[:200], str(form.get("password", ""))[:1000]
        try:
            done = await self.call(accounts.login, self.store, username, password, self.now(), client_of(request))
        except NotPermitted as e:
            token = secrets.token_urlsafe(24)
            r = self.html(request, "login.html", 401, login_csrf=token, message=str(e), username=username, next=next_of(request))
            self.cookie(r, LOGIN_COOKIE, token, max_age=3600)
            return r
        r = RedirectResponse(next_of(request) or "/", status_code=303)
        self.cookie(r, SESSION_COOKIE, done.cookie, max_age=int((done.expires_at - self.now()).total_seconds()))
        r.delete_cookie(LOGIN_COOKIE, path="/")
        return r

    def cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=self.secure)

    async def logout(self, request: Request) -> Response:
        who, form = await self.posted(request)
        if isinstance(who, Response):
            return who
        await self.call(accounts.logout, self.store, who, self.now())
        r = RedirectResponse("/login", status_code=303)
        r.delete_cookie(SESSION_COOKIE, path="/")
        return r

    async def posted(self, request: Request) -> tuple[SessionInfo | Response, Any]:
        """The session of a form post, and its form; a Response (403) when either is missing or the CSRF token is wrong.

        The session is checked first: the body of a post without one is never parsed (nor spooled to disk)."""
        who = await self.who(request)
        if who is None:
            return PlainTextResponse("403 请先登录。", status_code=403), None
        form = await request.form(max_files=MAX_FILES, max_fields=200)
        if not accounts.csrf_ok(who, str(form.get("csrf", ""))):
            return PlainTextResponse("403 表单已过期，请刷新页面后重试。", status_code=403), form
        return who, form

    # --- lists -----------------------------------------------------------------------------------

    # --- 立项 -------------------------------------------------------------------------------------

    async def new_item(self, request: Request, problem: str = "", status: int = 200, who: SessionInfo | None = None,
                       typed: dict | None = None) -> Response:
        """/items/new: the templates he may start; ?template=KEY: its form (a refused form comes back as typed)."""
        who = who or await self.who(request)
        if who is None:
            return self.login_redirect(request)
        typed = typed or {}
        try:
            offers = await self.call(reads.startable, self.store, who.person)
        except WuzhuanError as e:
            return self.error(request, e, who)
        key = typed.get("template") or request.query_params.get("template") or (offers[0].key if len(offers) == 1 else "")
        chosen = next((o for o in offers if o.key == key), None)
        return self.html(request, "new.html", status, who, offers=offers, chosen=chosen, typed=typed, problem=problem,
                         tab="new")

    async def create(self, request: Request) -> Response:
        who, form = await self.posted(request)
        if isinstance(who, Response):
            return who
        typed = {k: str(v)[:20_000] for k, v in form.multi_items() if k != "csrf" and isinstance(v, str)}
        fields = {k[6:]: v for k, v in typed.items() if k.startswith("field:") and v.strip() != ""}
        try:
            made = await self.call(service.create_item, self.store, who.person.code, template=typed.get("template", ""),
                                   title=typed.get("title", ""), now=self.now(), group=typed.get("group") or None,
                                   fields=fields)
        except Unavailable as e:
            return self.error(request, e, who)
        except WuzhuanError as e:
            return await self.new_item(request, problem=str(e), status=http_status_of(e), who=who, typed=typed)
        return RedirectResponse(f"/items/{made.id}?ok=created", status_code=303)

    # --- one item --------------------------------------------------------------------------------

    async def item(self, request: Request, notice: str = "", problem: str = "", status: int = 200,
                   who: SessionInfo | None = None, confirm: dict | None = None) -> Response:
        """The item's page; `confirm`: a move held back for confirmation (its warning and what was typed)."""
        who = who or await self.who(request)
        if who is None:
            return self.login_redirect(request)
        item_id = request.path_params["item_id"]
        try:
            p = await self.call(reads.item_page, self.store, who.person, item_id, self.now())
        except WuzhuanError as e:
            return self.error(request, e, who)
        ok = OK_MESSAGES.get(request.query_params.get("ok", ""), "")
        return self.html(request, "item.html", status, who, p=p, d=p.detail, notice=notice or ok, problem=problem, staff=p.staff,
                         confirm=confirm or {})

    async def act(self, request: Request) -> Response:
        """Every form on an item page: one use case each; a refusal or a stale form shows the page again, fresh."""
        who, form = await self.posted(request)
        if isinstance(who, Response):
            return who
        item_id = request.path_params["item_id"]
        action = request.path_params["action"]
        code = who.person.code  # whether he may see the item is the use case's first check, as for the API
        try:
            if action == "advance":
                fields = {k[6:]: v for k, v in form.multi_items() if k.startswith("field:") and str(v).strip() != ""}
                trigger = str(form.get("trigger", ""))
                typed = {k: str(v)[:20_000] for k, v in fields.items() if isinstance(v, str)}
                if form.get("decide") and not form.get("confirm_move"):  # a decision is ticked before it is made
                    return await self.item(request, problem="这是一项决定：请先勾选“我已阅看……，确认”后再提交。", status=400,
                                           who=who, confirm={"trigger": trigger, "fields": typed,
                                                             "comment": str(form.get("comment", ""))[:20_000]})
                if not form.get("confirm_late") and (late := await self.call(reads.late_on_move, self.store, who.person,
                                                                             item_id, trigger, fields, self.now())):
                    return await self.item(request, problem=f"{late}。如确需办理，请勾选“我已知晓”后再次提交。", status=409,
                                           who=who, confirm={"trigger": trigger, "warning": late, "fields": typed,
                                                             "comment": str(form.get("comment", ""))[:20_000]})
                await self.call(service.advance, self.store, code, item_id, str(form.get("trigger", "")), self.now(),
                                comment=str(form.get("comment", "")) or None, fields=fields,
                                expected_version=int_of(form.get("version"), None, "事项版本"), files=files_of(form))
                done = "moved"
            elif action == "pause":
                await self.call(service.pause, self.store, code, item_id, str(form.get("reason", "")), self.now())
                done = "paused"
            elif action == "resume":
                await self.call(service.resume, self.store, code, item_id, self.now(), str(form.get("reason", "")) or None)
                done = "resumed"
            elif action == "extend":
                await self.call(service.request_extension, self.store, code, item_id, str(form.get("reason", "")),
                                str(form.get("until", "")), self.now())
                done = "extension"
            elif action == "decide":
                await self.call(service.decide_extension, self.store, code, int_of(form.get("request"), 0, "申请编号"),
                                form.get("decision") == "approve", self.now(), str(form.get("comment", "")) or None,
                                item_id=item_id)
                done = "decided"
            elif action in ("assign", "unassign"):
                people = [c.strip() for c in str(form.get("people", "")).replace("，", ",").split(",") if c.strip()]
                if action == "assign":
                    await self.call(service.assign, self.store, code, item_id, str(form.get("role", "")), people, self.now(),
                                    form.get("replace") == "on")
                else:
                    await self.call(service.unassign, self.store, code, item_id, str(form.get("role", "")), people, self.now())
                done = "assigned"
            elif action == "comments":
                await self.call(service.comment, self.store, code, item_id, str(form.get("text", ""))[:20_000], self.now())
                done = "commented"
            elif action == "remind":
                try:
                    await self.call(service.remind, self.store, code, item_id, self.now())
                except Conflict as e:  # reminded today already: not a stale page
                    return await self.item(request, problem=str(e), status=409, who=who)
                done = "reminded"
            elif action == "acknowledge":
                await self.call(service.acknowledge, self.store, code, item_id, self.now())
                done = "acknowledged"
            elif action == "return":
                await self.call(service.return_item, self.store, code, item_id, str(form.get("reason", ""))[:20_000], self.now())
                done = "returned"
            else:
                raise HTTPException(404)
        except Conflict:
            return await self.item(request, notice="已被他人更新：您打开页面之后，事项已经变化。以下是最新状态，请确认后再办理。",
                                   status=409, who=who)
        except (Unavailable, NotFound) as e:  # no page to show again: the error page (404 says nothing of the item)
            return self.error(request, e, who)
        except WuzhuanError as e:
            return await self.item(request, problem=str(e), status=http_status_of(e), who=who)
        return RedirectResponse(f"/items/{item_id}?ok={done}", status_code=303)

    async def file(self, request: Request) -> Response:
        """/items/{id}/files/{file_id}: a document of an item, to whoever may see the item (404 to anyone else)."""
        who = await self.who(request)
        if who is None:
            return self.login_redirect(request)
        try:
            return await self.call(downloads.send, self.store, who.person, request.path_params["item_id"],
                                   request.path_params["file_id"], request.query_params.get("view") == "1")
        except WuzhuanError as e:
            return self.error(request, e, who)

    async def slip(self, request: Request) -> Response:
        """/items/{id}/slips/{seq} (a page to print) and …/{seq}.pdf: a 督办单 the item's ladder issued."""
        who = await self.who(request)
        if who is None:
            return self.login_redirect(request)
        try:
            s = await self.call(reads.slip, self.store, who.person, request.path_params["item_id"], request.path_params["seq"])
            if request.url.path.endswith(".pdf"):
                pdf = await self.call(report_render.slip_pdf, s)
                return Response(pdf, media_type="application/pdf", headers={
                    "Content-Disposition": downloads.disposition("attachment", report_render.slip_file_name(s)),
                    "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})
        except WuzhuanError as e:
            return self.error(request, e, who)
        return HTMLResponse(report_render.slip_html(s, tools=True))

    async def diagram(self, request: Request) -> Response:
        who = await self.who(request)
        if who is None:
            return self.login_redirect(request)
        try:
            p = await self.call(reads.item_page, self.store, who.person, request.path_params["item_id"], self.now())
            defn = await self.call(definition_of_version, self.store, p.detail.template_version)
            svg = await self.call(diagram_svg, defn, p.detail.state)
        except WuzhuanError as e:
            return self.error(request, e, who)
        if svg is None:
            return PlainTextResponse("服务器未安装 Graphviz（dot），无法绘制流程图：请告知管理员", status_code=404)
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=300"})


def create_app(store: Store, clock=None) -> Starlette:
    """The workbench over `store` (its settings give base_url, session lengths and the proxy policy).

    `clock` (a function returning an aware datetime) is for tests; the server acts at the wall clock.
    """
    w = Workbench(store, clock)
    reports = Reports(w)
    lists = Lists(w)
    mine = Personal(w, lists)
    props = Proposals(w)
    routes = [
        Route("/login", w.login_form, methods=["GET"]),
        Route("/login", w.login, methods=["POST"]),
        Route("/logout", w.logout, methods=["POST"]),
        Route("/", lists.inbox, methods=["GET"]),
        Route("/done", lists.listing, methods=["GET"]),
        Route("/involved", lists.listing, methods=["GET"]),
        Route("/search", lists.search, methods=["GET"]),
        Route("/news", mine.news, methods=["GET"]),
        *Activities(w).routes(),
        Route("/proposals", props.listing, methods=["GET"]),
        Route("/proposals/new", props.new, methods=["GET"]),
        Route("/proposals/new", props.submit, methods=["POST"]),
        Route("/proposals/{proposal_id:id}", props.page, methods=["GET"]),
        Route("/proposals/{proposal_id:id}/{action:str}", props.act, methods=["POST"]),
        Route("/filters", mine.save_filter, methods=["POST"]),
        Route("/filters/{filter_id:id}/delete", mine.delete_filter, methods=["POST"]),
        Route("/items/new", w.new_item, methods=["GET"]),
        Route("/items/new", w.create, methods=["POST"]),
        Route("/items/{item_id:id}", w.item, methods=["GET"]),
        Route("/items/{item_id:id}/diagram.svg", w.diagram, methods=["GET"]),
        Route("/items/{item_id:id}/files/{file_id:id}", w.file, methods=["GET"]),
        Route("/items/{item_id:id}/slips/{seq:id}", w.slip, methods=["GET"]),
        Route("/items/{item_id:id}/slips/{seq:id}.pdf", w.slip, methods=["GET"]),
        Route("/items/{item_id:id}/{action:str}", w.act, methods=["POST"]),
        Route("/definitions", w.definitions, methods=["GET"]),
        Route("/definitions/upload", w.upload, methods=["POST"]),
        Route("/definitions/{version:id}/diagram.svg", w.definition_diagram, methods=["GET"]),
        Route("/board", reports.board, methods=["GET"]),
        Route("/orgs", reports.orgs, methods=["GET"]),
        Route("/board/scores", reports.score, methods=["POST"]),
        Route("/ledger.xlsx", reports.ledger, methods=["GET"]),
        Route("/outbox", w.outbox, methods=["GET"]),
        Route("/outbox/retry", w.retry, methods=["POST"]),
        *api.routes(store, w.now, w.pool),
        Route("/static/slip.css", lambda _r: Response(report_render.slip_css(), media_type="text/css",
                                                      headers={"Cache-Control": "public, max-age=3600"})),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    async def no_route(request: Request, exc: HTTPException) -> Response:
        """404/405 from the router: JSON under /api/, a page elsewhere (never a stack trace)."""
        message = {404: NotFound.public, 405: ROUTER_405}.get(exc.status_code, str(exc.detail))
        if request.url.path.startswith("/api/"):
            return api.problem(exc.status_code, message)
        return HTMLResponse(page("error.html", who=None, csrf="", request_path=request.url.path, staff=False, tab="",
                                 code=exc.status_code, message=message), status_code=exc.status_code)

    async def bug(request: Request, exc: Exception) -> Response:
        """Anything a use case did not turn into a domain error is a bug: logged with its traceback, answered without."""
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        if request.url.path.startswith("/api/"):
            return api.problem(500, "internal error (a bug in wuzhuan; the server's log has the details)")
        return HTMLResponse(page("error.html", who=None, csrf="", request_path=request.url.path, staff=False, tab="",
                                 code=500, message=MESSAGES[500]), status_code=500)

    async def refused(request: Request, exc: WuzhuanError) -> Response:
        """A domain error no handler caught (the database lost while reading the session, say): its own status."""
        if request.url.path.startswith("/api/"):
            return api.error_answer(exc)
        return w.error(request, exc, None)

    limits = {"/definitions/upload": service.MAX_TEMPLATE_BYTES + 65_536}
    uploads = {"/advance": MAX_FILE + 10 * 1024 * 1024}  # a move's form or API call (multipart) with its documents
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders), Middleware(BodyLimit, limits=limits, uploads=uploads)],
                    exception_handlers={HTTPException: no_route, WuzhuanError: refused, Exception: bug})
    app.state.store = store
    return app
