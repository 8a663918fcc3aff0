"""A person's own workbench: the list filters he saves under a name, and 最新动态 — what happened since he last looked.

Both are his alone: nobody else reads or changes them, and they change nothing of the work, so they are not audit
events. What is new is read from the audit trail itself, through the same rule of who sees an item as the lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from ..errors import InvalidInput, NotFound
from ..present import actor_label, fmt, kind_label, local_iso
from ..store import Store, directory
from ..store import items as item_store
from ..store import personal as personal_store
from . import common
from .reads.viewer import Viewer, person_needed, staff_orgs

# The lists a filter may be saved for: their address, their name, the parameters that make their filter.
LISTS = {"inbox": ("/", "待办", ("light", "template", "group", "sort")), "search": ("/search", "搜索", ("q", "sort"))}
MAX_FILTERS = 20
MAX_NAME = 40
NEWS_LIMIT = 100
FIRST_LOOK = 500  # before his first look: the trail's latest events, that many, are looked through


@dataclass(frozen=True)
class SavedFilter:
    id: int
    name: str
    page: str
    page_label: str
    query: str
    url: str


@dataclass(frozen=True)
class NewsEntry:
    seq: int
    at: str
    at_iso: str
    item: int
    title: str
    actor: str | None
    kind: str
    kind_label: str
    from_label: str | None
    to_label: str | None
    text: str


@dataclass(frozen=True)
class News:
    entries: list[NewsEntry]
    total: int  # events after his mark (the page shows the newest NEWS_LIMIT)
    since: str | None  # when he last looked ("" before his first look)


def _view(r: personal_store.SavedFilterRow) -> SavedFilter:
    path, label, _keys = LISTS[r.page]
    return SavedFilter(r.id, r.name, r.page, label, r.query, f"{path}?{r.query}")


def saved_filters(store: Store, viewer: Viewer, page: str | None = None) -> list[SavedFilter]:
    """His saved filters (of one list, when `page` names it), by list and name."""
    with store.read() as tx:
        who = person_needed(tx, viewer)
        return [_view(r) for r in personal_store.filters_of(tx, who.id) if page is None or r.page == page]


def save_filter(store: Store, actor: str, name: str, page: str, params: dict[str, str], now: datetime) -> SavedFilter:
    """Save the list's current filter under a name of his (the same name again replaces it)."""
    common.check_now(now)
    name = common.text_in(str(name or "").strip(), "筛选名称", one_line=True)
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidInput(f"请给这个筛选起个名字（不超过 {MAX_NAME} 个字）", parameter="name")
    if page not in LISTS:
        raise InvalidInput(f"“{common.shown(str(page))}”不是可以保存筛选的列表（{'、'.join(v[1] for v in LISTS.values())}）",
                           parameter="page")
    kept = {}
    for key in LISTS[page][2]:
        value = str(params.get(key) or "").strip()
        if value:
            kept[key] = common.text_in(value, "筛选条件", one_line=True)[:100]
    if not kept:
        raise InvalidInput("当前没有任何筛选条件，无需保存：请先选择亮灯、流程、小组或输入查找的词", parameter="name")
    query = urlencode(sorted(kept.items()))
    with store.transaction() as tx:
        who = person_needed(tx, actor)
        mine = personal_store.filters_of(tx, who.id)
        if len(mine) >= MAX_FILTERS and all(f.name != name for f in mine):
            raise InvalidInput(f"每人最多保存 {MAX_FILTERS} 个筛选：请先删去不用的", parameter="name")
        fid = personal_store.save_filter(tx, who.id, name, page, query, now)
    return SavedFilter(fid, name, page, LISTS[page][1], query, f"{LISTS[page][0]}?{query}")


def delete_filter(store: Store, actor: str, filter_id: int) -> None:
    """Delete one of his saved filters (another person's is, for him, not there)."""
    with store.transaction() as tx:
        who = person_needed(tx, actor)
        if not personal_store.delete_filter(tx, who.id, filter_id):
            raise NotFound(f"没有编号为 {filter_id} 的已保存筛选", filter=filter_id)


def params_of(query: str) -> dict[str, str]:
    return dict(parse_qsl(query))


def news(store: Store, viewer: Viewer, now: datetime, *, mark: bool = True) -> News:
    """What happened on the items he may see since he last looked, newest first (not his own acts, not refusals);
    with `mark`, this look becomes his last."""
    common.check_now(now)
    with store.transaction() if mark else store.read() as tx:
        who = person_needed(tx, viewer)
        seen = personal_store.mark_of(tx, who.id)
        last = personal_store.last_seq(tx)
        after = seen[0] if seen else max(0, last - FIRST_LOOK)
        events, total = personal_store.events_after(tx, after, member_id=who.id, orgs=staff_orgs(tx, who),
                                                     exclude_actor=who.code, limit=NEWS_LIMIT)
        items = item_store.items_by_ids(tx, list({e.item_id for e in events}))
        names = directory.names_of(tx, {e.actor for e in events if e.actor})
        out = []
        for e in events:
            item = items.get(e.item_id)
            if item is None:
                continue
            states = common.definition(tx, item.template_version_id).states
            label = lambda s, st=states: (st[s].label if s in st else s) if s else None  # noqa: E731
            data = e.data if isinstance(e.data, dict) else {}
            text = str(data.get("comment") or data.get("text") or data.get("reason") or data.get("label") or "")
            out.append(NewsEntry(e.seq, fmt(e.at), local_iso(e.at), item.id, item.title, actor_label(e.actor, names), e.kind,
                                 kind_label(e.kind), label(e.from_state), label(e.to_state), text[:300]))
        if mark and last > after:
            personal_store.set_mark(tx, who.id, last, now)
    return News(out, total, fmt(seen[1]) if seen else "")


def news_count(store: Store, viewer: Viewer) -> int:
    """How many events are new for him (the inbox's link to 最新动态), without marking them seen."""
    with store.read() as tx:
        who = person_needed(tx, viewer)
        seen = personal_store.mark_of(tx, who.id)
        after = seen[0] if seen else max(0, personal_store.last_seq(tx) - FIRST_LOOK)
        return personal_store.events_after(tx, after, member_id=who.id, orgs=staff_orgs(tx, who),
                                           exclude_actor=who.code, limit=0)[1]
