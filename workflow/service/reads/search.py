"""Finding items by words (搜索): ranked, paged, and only among the items the person may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ...errors import InvalidInput
from ...store import Store
from ...store import items as item_store
from ...store import search as search_store
from .. import common
from .inbox import PAGE
from .items import summaries
from .shapes import ItemSummary
from .viewer import Viewer, person_of, sees_all, staff_orgs

MAX_QUERY = 100  # characters
MAX_TERMS = 5
MAX_PAGE = 100_000


@dataclass(frozen=True)
class Found:
    """One page of what a search found: the items, the total, which page of how many."""
    query: str
    terms: tuple[str, ...]
    total: int
    offset: int
    limit: int
    items: list[ItemSummary]

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


def terms_of(query: str | None) -> tuple[str, ...]:
    """The words of a query (separated by spaces, also the full-width one), checked."""
    text = (query or "").strip()
    if not text:
        raise InvalidInput("请输入要查找的词", field="q", parameter="q")
    if len(text) > MAX_QUERY:
        raise InvalidInput(f"查找的词共有 {len(text)} 个字，最多 {MAX_QUERY} 个", field="q", parameter="q")
    common.text_in(text, "查找的词", one_line=True)
    terms = tuple(dict.fromkeys(text.replace("\u3000", " ").split()))
    if len(terms) > MAX_TERMS:
        raise InvalidInput(f"最多同时查找 {MAX_TERMS} 个词（以空格分隔），这里有 {len(terms)} 个", field="q", parameter="q")
    return terms


def refresh(store: Store) -> int:
    """Make the text rows that are behind their items again (after moves, edits, uploads); → how many."""
    done = 0
    while True:
        with store.transaction() as tx:
            ids = search_store.stale(tx)
            search_store.remake(tx, ids)
        done += len(ids)
        if len(ids) < search_store.BATCH:
            return done


def search(store: Store, viewer: Viewer, query: str | None, now: datetime, *, offset: int = 0, limit: int = PAGE,
           template: str | None = None) -> Found:
    """The items holding every word of `query` in their title, values of any round, comments or file names, best
    first, `limit` of them from `offset`; only those the viewer may see (no count betrays the others)."""
    common.check_now(now)
    terms = terms_of(query)
    if not 0 <= offset <= MAX_PAGE * 500 or not 1 <= limit <= 500:
        raise InvalidInput(f"页码超出范围：每页 1 到 500 条，最多 {MAX_PAGE} 页", field="page", parameter="page")
    refresh(store)
    with store.read() as tx:
        who = person_of(tx, viewer)
        member = None if sees_all(tx, who) else who.id
        orgs = staff_orgs(tx, who) if member is not None else None
        scored = search_store.matching(tx, list(terms), member_id=member, orgs=orgs, template=template)
        ids = [iid for iid, _s in scored[offset: offset + limit]]
        found = summaries(tx, item_store.briefs(tx, ids), now)
    return Found(query.strip(), terms, len(scored), offset, limit, found)
