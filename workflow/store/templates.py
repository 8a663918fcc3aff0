"""Published template versions: immutable rows keyed by content hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from ..rows import TemplateVersionRow
from .driver import Prepared
from .engine import Tx
from .models import TemplateVersion

_COLS = tuple(TemplateVersion.__table__.c)


def _row(r) -> TemplateVersionRow:
    return TemplateVersionRow(**r)


def by_hash(tx: Tx, content_hash: str) -> TemplateVersionRow | None:
    r = tx.execute(select(*_COLS).where(TemplateVersion.content_hash == content_hash)).mappings().first()
    return None if r is None else _row(r)


def by_id(tx: Tx, version_id: int) -> TemplateVersionRow | None:
    r = tx.execute(select(*_COLS).where(TemplateVersion.id == version_id)).mappings().first()
    return None if r is None else _row(r)


def hash_of(tx: Tx, version_id: int) -> str | None:
    return tx.execute(select(TemplateVersion.content_hash).where(TemplateVersion.id == version_id)).scalar_one_or_none()


def latest(tx: Tx, key: str) -> TemplateVersionRow | None:
    r = tx.execute(select(*_COLS).where(TemplateVersion.key == key).order_by(TemplateVersion.id.desc()).limit(1)).mappings().first()
    return None if r is None else _row(r)


def keys(tx: Tx) -> list[str]:
    return sorted(tx.execute(select(TemplateVersion.key).distinct()).scalars())


_INDEX = Prepared(lambda: select(TemplateVersion.id, TemplateVersion.key, TemplateVersion.title).order_by(TemplateVersion.id))


def index(tx: Tx) -> list[tuple[int, str, str]]:
    """(id, key, title) of every version, oldest first — without the source texts."""
    return [tuple(r) for r in _INDEX.all(tx)]


def all_versions(tx: Tx) -> list[TemplateVersionRow]:
    return [_row(r) for r in tx.execute(select(*_COLS).order_by(TemplateVersion.key, TemplateVersion.id)).mappings()]


def insert_version(tx: Tx, *, key: str, title: str, content_hash: str, source_name: str, source_text: str,
                   at: datetime, by: str | None) -> int:
    return tx.execute(insert(TemplateVersion).values(
        key=key, title=title, content_hash=content_hash, source_name=source_name, source_text=source_text,
        published_at=at, published_by=by).returning(TemplateVersion.id)).scalar_one()
