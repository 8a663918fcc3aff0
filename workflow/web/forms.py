"""What the pages share about requests: whole numbers from forms and queries, safe redirects, the notices after a post."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import service
from ..errors import InvalidInput, Unavailable, WuzhuanError, http_status_of
from ..present import safe
from ..service import Store

OK_MESSAGES = {"moved": "已办理。", "paused": "已挂起。", "resumed": "已恢复。", "extension": "延期申请已提交，待审批。",
               "decided": "已作出决定。", "assigned": "角色已变更。", "retried": "已重新排队发送。", "published": "已发布。",
               "created": "已立项：事项已建立，请办理第一步。", "commented": "已留言，已通知当前环节的承办人。",
               "reminded": "已催办：催办通知已发给当前环节的承办人。", "acknowledged": "已签收。",
               "returned": "已退回：办公室将重新交办。"}


def definition_of_version(store: Store, version_id: int):
    return service.definition_of_version(store, version_id)


def int_of(value: Any, default: int | None, what: str) -> int | None:
    """A whole number from a query or a form: `default` when absent, else 0 … 2^31-1 or InvalidInput (400)."""
    if value is None or str(value).strip() == "":
        return default
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and int(text) < 2**31):
        raise InvalidInput(f"{what}应是 0 到 2147483647 之间的整数，而不是“{safe(text, 40)}”")
    return int(text)


def next_of(request: Request) -> str:
    """Where to go after logging in: a path on this site only."""
    target = request.query_params.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else ""


def client_of(request: Request) -> str:
    host = request.client.host if request.client else "?"
    return f"{host} {request.headers.get('user-agent', '')}"[:200]


MAX_FILES = 20  # files in one form (a move's 佐证材料 and its report); the body limit bounds their size


def files_of(form) -> dict[str, list[tuple[str, Any]]] | None:
    """The files of a move's form, by field (`file:NAME` parts): (the name the browser gave, its spooled stream).
    A file input left empty sends a part with no name: not a file."""
    out: dict[str, list[tuple[str, Any]]] = {}
    for key, value in form.multi_items():
        if key.startswith("file:") and getattr(value, "filename", None):
            out.setdefault(key[5:], []).append((value.filename, value.file))
    return out or None


async def form_done(w, request: Request, who, work, done, again, *, missing_is_error: bool = False) -> Response:
    """A form's use case run (`work`, awaited): 303 to `done(result)` when it goes through; an unavailable database
    (and, with `missing_is_error`, a 404) as the error page; any other refusal as `again(problem, status)` — the
    form's page once more, with what was typed, the reason and the refusal's status."""
    try:
        result = await work()
    except Unavailable as e:
        return w.error(request, e, who)
    except WuzhuanError as e:
        if missing_is_error and http_status_of(e) == 404:
            return w.error(request, e, who)
        return await again(str(e), http_status_of(e))
    return RedirectResponse(done(result), status_code=303)
