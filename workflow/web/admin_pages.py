"""The administrator's pages: templates checked, published and drawn; the outbox and its retries."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from .. import service
from ..errors import WuzhuanError
from .forms import OK_MESSAGES, definition_of_version, int_of
from .render import diagram_svg


class AdminPages:
    """Mixed into the Workbench: its session, rendering and use-case calls serve these routes."""

    async def definitions(self, request: Request) -> Response:
        who = await self.who(request)
        if who is None:
            return self.login_redirect(request)
        versions = await self.call(service.template_versions, self.store)
        return self.html(request, "definitions.html", who=who, versions=versions, result=None, tab="definitions")

    async def definition_diagram(self, request: Request) -> Response:
        who = await self.who(request)
        if who is None:
            return self.login_redirect(request)
        try:
            defn = await self.call(definition_of_version, self.store, request.path_params["version"])
            svg = await self.call(diagram_svg, defn, None)
        except WuzhuanError as e:
            return self.error(request, e, who)
        if svg is None:
            return PlainTextResponse("服务器未安装 Graphviz（dot），无法绘制流程图：请告知管理员", status_code=404)
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})

    async def upload(self, request: Request) -> Response:
        """An administrator uploads a template to check it (every problem next to its line) or to publish it."""
        who, form = await self.posted(request)
        if isinstance(who, Response):
            return who
        upload = form.get("file")
        data = await upload.read(service.MAX_TEMPLATE_BYTES + 1) if hasattr(upload, "read") else str(form.get("text", "")).encode()
        name = getattr(upload, "filename", None) or "upload.yaml"
        publish = form.get("publish") == "1"
        try:
            result = await self.call(service.check_template_upload, self.store, who.person.code, name, data, self.now(), publish)
        except WuzhuanError as e:
            return self.error(request, e, who)
        versions = await self.call(service.template_versions, self.store)
        return self.html(request, "definitions.html", 200 if result.ok else 400, who, versions=versions, result=result, tab="definitions")

    async def outbox(self, request: Request) -> Response:
        who = await self.who(request)
        if who is None:
            return self.login_redirect(request)
        status = request.query_params.get("status") or None
        try:
            rows = await self.call(service.list_outbox, self.store, status, 200, viewer=who.person)
        except WuzhuanError as e:
            return self.error(request, e, who)
        ok = OK_MESSAGES.get(request.query_params.get("ok", ""), "")
        return self.html(request, "outbox.html", who=who, rows=rows, shown_status=status or "", notice=ok, staff=True, tab="outbox")

    async def retry(self, request: Request) -> Response:
        who, form = await self.posted(request)
        if isinstance(who, Response):
            return who
        try:
            ids = [int_of(v, 0, "通知编号") for v in form.getlist("id")] or None
            await self.call(service.retry_outbox, self.store, who.person.code, self.now(), ids)
        except WuzhuanError as e:
            return self.error(request, e, who)
        return RedirectResponse("/outbox?ok=retried", status_code=303)
