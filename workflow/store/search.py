"""Searching items by words: the text rows kept beside the items (remade when behind) and the matching, ranked.

Matching is by substring (LIKE), so that a two-character Chinese word such as 养老 is found as surely as a long
one; a trigram index (SQLite FTS5, PostgreSQL pg_trgm) answers only for three characters and more. The rows are
small and few (one per item): bench/search.py measures the scan.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from .engine import Tx
from .file_models import ItemFile
from .models import Assignment, AuditEvent, Item, Step
from .organisations import in_orgs
from .search_models import ItemText

BATCH = 500  # items remade per round of statements


def stale(tx: Tx, limit: int = BATCH) -> list[int]:
    """Ids of items whose text row is missing or older than the item."""
    q = (select(Item.id).outerjoin(ItemText, ItemText.c.item_id == Item.id)
         .where(or_(ItemText.c.item_id.is_(None), ItemText.c.version != Item.version)).order_by(Item.id).limit(limit))
    return list(tx.execute(q).scalars())


def _words(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [w for v in value.values() for w in _words(v)]
    if isinstance(value, list | tuple):
        return [w for v in value for w in _words(v)]
    return [] if value is None or isinstance(value, bool) else [str(value)]


def remake(tx: Tx, ids: list[int]) -> None:
    """Make the text rows of these items again from their title, every round's values, comments and file names."""
    if not ids:
        return
    parts: dict[int, list[str]] = {}
    versions: dict[int, int] = {}
    for iid, version, title, fields in tx.execute(select(Item.id, Item.version, Item.title, Item.fields).where(Item.id.in_(ids))):
        versions[iid] = version
        parts[iid] = [title, *_words(fields or {})]
    for iid, fields in tx.execute(select(Step.item_id, Step.fields).where(Step.item_id.in_(ids), Step.fields.is_not(None))):
        parts[iid].extend(_words(fields))
    for iid, data in tx.execute(select(AuditEvent.item_id, AuditEvent.data).where(AuditEvent.item_id.in_(ids))):
        comment = (data or {}).get("comment") if isinstance(data, dict) else None
        if comment:
            parts[iid].append(str(comment))
    for iid, name in tx.execute(select(ItemFile.c.item_id, ItemFile.c.name).where(ItemFile.c.item_id.in_(ids))):
        parts[iid].append(name)
    rows = [{"item_id": i, "version": versions[i], "body": "\n".join(dict.fromkeys(parts[i]))} for i in versions]
    ins = (postgresql if tx.dialect == "postgresql" else sqlite).insert(ItemText).values(rows)
    tx.execute(ins.on_conflict_do_update(index_elements=["item_id"],
                                         set_={"version": ins.excluded.version, "body": ins.excluded.body}))


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def matching(tx: Tx, terms: list[str], *, member_id: int | None = None, orgs: list[int | None] | None = None,
             template: str | None = None) -> list[tuple[int, float]]:
    """(item id, score) of the items whose text holds every term, best first: a term in the title counts ten
    times one in the text, more occurrences count more, newer items first among equals. With `member_id`, only
    the items he holds a role on or, `orgs`, that belong to one of those organisations (as lists decide)."""
    q = (select(ItemText.c.item_id, ItemText.c.body, Item.title).join(Item, Item.id == ItemText.c.item_id)
         .where(and_(*(func.lower(ItemText.c.body).like(_like(t.lower()), escape="\\") for t in terms))))
    if template:
        q = q.where(Item.template_key == template)
    if member_id is not None:
        mine = Item.id.in_(select(Assignment.item_id).where(Assignment.person_id == member_id))
        q = q.where(or_(mine, in_orgs(Item.organisation_id, orgs)) if orgs else mine)
    scored = []
    for iid, body, title in tx.execute(q):
        low_body, low_title = body.lower(), title.lower()
        score = sum(10 * low_title.count(t.lower()) + low_body.count(t.lower()) for t in terms)
        scored.append((iid, float(score)))
    scored.sort(key=lambda s: (-s[1], -s[0]))
    return scored
