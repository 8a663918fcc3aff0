"""/news (最新动态: what happened since one last looked) and the saved filters of the lists (POST /filters, delete)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import WuzhuanError
from ..service import personal
from .forms import form_done


class Personal:
    """A person's own pages: what is new for him, and the filters he keeps."""

    def __init__(self, w, lists):
        self.w, self.lists = w, lists

    async def news(self, request: Request) -> Response:
        w = self.w
        who = await w.who(request)
        if who is None:
            return w.login_redirect(request)
        try:
            found = await w.call(personal.news, w.store, who.person, w.now())
        except WuzhuanError as e:
            return w.error(request, e, who)
        return w.html(request, "news.html", who=who, news=found, tab="news")

    async def save_filter(self, request: Request) -> Response:
        w = self.w
        who, form = await w.posted(request)
        if isinstance(who, Response):
            return who
        page = str(form.get("page", ""))
        params = {k[2:]: str(v)[:200] for k, v in form.multi_items() if k.startswith("p:")}
        name = str(form.get("name", ""))[:200]
        show = self.lists.search if page == "search" else self.lists.inbox  # refused: the list as it was, and why
        return await form_done(w, request, who,
                               lambda: w.call(personal.save_filter, w.store, who.person.code, name, page, params, w.now()),
                               lambda saved: f"{saved.url}&saved=1",
                               lambda problem, status: show(request, query=params, problem=problem, status=status, typed=name))

    async def delete_filter(self, request: Request) -> Response:
        w = self.w
        who, form = await w.posted(request)
        if isinstance(who, Response):
            return who
        try:
            await w.call(personal.delete_filter, w.store, who.person.code, request.path_params["filter_id"])
        except WuzhuanError as e:
            return w.error(request, e, who)
        page = str(form.get("page", "inbox"))
        return RedirectResponse(personal.LISTS.get(page, ("/",))[0] + "?deleted=1", status_code=303)
