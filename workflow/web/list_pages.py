"""The lists: 待办 (/), 已办 (/done), 我参与的 (/involved) and /search; each with its total, page numbers
(`page=N`), its order (`sort=`) and the whole list as a download (`format=csv|xlsx` on the same URL)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from ..calendar import TZ
from ..errors import Unavailable, WuzhuanError, http_status_of
from ..service import personal, reads
from ..service.reads import exports as export_reads
from . import exports
from .forms import int_of

_OTHER = [("due", "按办理时限排序"), ("light", "按亮灯排序（红灯在前）"), ("updated", "最近更新的在前")]
SORTS = {"inbox": _OTHER, "list": [("recent", "最近的在前"), *_OTHER]}


class Pager:
    """Page N of `pages` over `total` rows, and the links to the others (the list's other parameters kept)."""

    def __init__(self, total: int, page: int, size: int, params: dict[str, str]):
        self.total, self.page, self.size = total, page, size
        self.pages = max(1, -(-total // size))
        self.params = {k: v for k, v in params.items() if v and k not in ("page", "offset", "format")}

    def url(self, page: int | None = None, **changes: str) -> str:
        params = {**self.params, **changes}
        if page and page > 1:
            params["page"] = str(page)
        return "?" + urlencode(params) if params else "?"

    def numbers(self) -> list[int | None]:
        """The page numbers to show: the first, the last and two either side of this one; None marks a gap."""
        keep = sorted({1, self.pages, *range(max(1, self.page - 2), min(self.pages, self.page + 2) + 1)})
        out: list[int | None] = []
        for n in keep:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out


def page_of(q) -> tuple[int, int]:
    """(page number, offset) from `page=N` (or an older link's `offset=`)."""
    if q.get("page"):
        n = int_of(q.get("page"), 1, "页码") or 1
        return n, min(n - 1, 10**7) * reads.PAGE
    offset = int_of(q.get("offset"), 0, "起始位置")
    return offset // reads.PAGE + 1, offset


class Lists:
    def __init__(self, w):
        self.w = w

    async def _export(self, request: Request, who, which: str, **filters) -> Response:
        w = self.w
        fmt = exports.checked(request.query_params.get("format", ""))
        table = await w.call(export_reads.export, w.store, who.person, which, w.now(), **filters)
        return exports.download(table, fmt, w.now().astimezone(TZ).date().isoformat())

    async def _mine(self, who, page: str) -> dict:
        """His saved filters of this list, and (on the inbox) how much is new for him."""
        w = self.w
        saved = await w.call(personal.saved_filters, w.store, who.person, page)
        news = await w.call(personal.news_count, w.store, who.person) if page == "inbox" else 0
        return {"saved": saved, "news_count": news, "saved_keys": personal.LISTS[page][2], "list_page": page}

    async def inbox(self, request: Request, query: dict | None = None, problem: str = "", status: int = 200,
                    typed: str = "") -> Response:
        """/ (待办); `query`, `problem`, `status` and `typed` show it again after a refused save of its filter."""
        w = self.w
        who = await w.who(request)
        if who is None:
            return w.login_redirect(request)
        q = request.query_params if query is None else query
        filters = {"light": q.get("light") or None, "template": q.get("template") or None, "group": q.get("group") or None,
                   "sort": q.get("sort") or "due"}
        try:
            if q.get("format"):
                return await self._export(request, who, "inbox", **filters)
            page_no, offset = page_of(q)
            box = await w.call(reads.inbox, w.store, who.person, w.now(), offset=offset, **filters)
            startable = bool(who.staff or await w.call(reads.startable, w.store, who.person))
            mine = await self._mine(who, "inbox")
        except WuzhuanError as e:
            return w.error(request, e, who)
        return w.html(request, "inbox.html", status, who=who, box=box, q=q, pager=Pager(box.total, page_no, reads.PAGE, dict(q)),
                      sorts=SORTS["inbox"], sort=filters["sort"], tab="inbox", startable=startable, problem=problem,
                      typed=typed, saved_ok=bool(q.get("saved")), **mine)

    async def listing(self, request: Request) -> Response:
        w = self.w
        who = await w.who(request)
        if who is None:
            return w.login_redirect(request)
        tab = "done" if request.url.path == "/done" else "involved"
        q = request.query_params
        sort = q.get("sort") or "recent"
        try:
            if q.get("format"):
                return await self._export(request, who, tab, sort=sort)
            page_no, offset = page_of(q)
            fn = reads.moved if tab == "done" else reads.involved
            rows = await w.call(fn, w.store, who.person, w.now(), offset, reads.PAGE, sort)
        except WuzhuanError as e:
            return w.error(request, e, who)
        return w.html(request, "list.html", who=who, rows=rows, tab=tab, pager=Pager(rows.total, page_no, reads.PAGE, dict(q)),
                      sorts=SORTS["list"], sort=sort)

    async def search(self, request: Request, query: dict | None = None, problem: str = "", status: int = 200,
                     typed: str = "") -> Response:
        """/search?q=WORDS&page=N: the items he may see that hold the words, best first."""
        w = self.w
        who = await w.who(request)
        if who is None:
            return w.login_redirect(request)
        params = request.query_params if query is None else query
        q = params.get("q", "")
        try:
            mine = await self._mine(who, "search")
        except WuzhuanError as e:
            return w.error(request, e, who)
        extra = {"problem": problem, "typed": typed, "saved_ok": bool(params.get("saved")), "tab": "search", **mine}
        if not q.strip():
            return w.html(request, "search.html", status, who, q="", found=None, **extra)
        try:
            if params.get("format"):
                return await self._export(request, who, "search", q=q)
            page_no = int_of(params.get("page"), 1, "页码") or 1
            found = await w.call(reads.search, w.store, who.person, q, w.now(),
                                 offset=(page_no - 1) * reads.PAGE, limit=reads.PAGE)
        except Unavailable as e:
            return w.error(request, e, who)
        except WuzhuanError as e:
            return w.html(request, "search.html", http_status_of(e), who, q=q[:100], found=None, **(extra | {"problem": str(e)}))
        return w.html(request, "search.html", status, who, q=q, found=found, pager=Pager(found.total, page_no, reads.PAGE, {"q": q}),
                      **extra)
