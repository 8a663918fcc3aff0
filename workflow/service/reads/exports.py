"""A list as a table to download (待办, 已办, 我参与的, a search): every row its filters leave, as the person sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ...errors import InvalidInput
from ...store import Store
from .inbox import inbox, involved, moved
from .search import search
from .viewer import Viewer

MOST = 10_000  # rows in one export: a larger list is refused, to be narrowed by its filters
BATCH = 500
HEADERS = ("灯", "编号", "事项", "流程", "当前环节", "承办", "办理时限", "逾期工作日", "小组")
LISTS = {"inbox": "待办", "done": "已办", "involved": "我参与的", "search": "搜索结果"}


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: list[list]


def _row(s, late: int | None = None) -> list:
    return [s.light_label, s.id, s.title, s.template_title, "办结" if s.finished else s.state_label,
            s.owner_role_label or "", s.due or "", late if late else "", s.group_name or ""]


def export(store: Store, viewer: Viewer, which: str, now: datetime, *, sort: str | None = None, light: str | None = None,
           template: str | None = None, group: str | None = None, q: str | None = None) -> Table:
    """Every row of the list `which` (a key of LISTS) with these filters, in its order; InvalidInput beyond MOST rows."""
    if which not in LISTS:
        raise InvalidInput(f"没有“{which}”这个列表")
    rows: list[list] = []
    offset = 0
    while True:
        if which == "inbox":
            box = inbox(store, viewer, now, light=light, template=template, group=group, offset=offset, limit=BATCH,
                        sort=sort or "due")
            total, got = box.total, [_row(e.item, e.overdue_workdays) for e in box.entries]
        elif which == "search":
            found = search(store, viewer, q or "", now, offset=offset, limit=BATCH)
            total, got = found.total, [_row(s) for s in found.items]
        else:
            listing = (moved if which == "done" else involved)(store, viewer, now, offset, BATCH, sort or "recent")
            total, got = listing.total, [_row(s) for s in listing.rows]
        if total > MOST:
            raise InvalidInput(f"{LISTS[which]}共 {total} 项，一次最多导出 {MOST} 项；请先筛选", parameter="format")
        rows += got
        offset += BATCH
        if not got or offset >= total:
            return Table(LISTS[which], HEADERS, rows)
