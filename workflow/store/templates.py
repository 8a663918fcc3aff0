"""Published template versions: immutable rows keyed by content hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from ..rows import TemplateVersionRow
from .driver import Prepared
from .engine import Tx
from .models import TemplateScope, TemplateVersion

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


def latest(tx: Tx, key: str, chain: tuple[int | None, ...] = (None,)) -> TemplateVersionRow | None:
    """The newest version of `key` published to the nearest organisation of `chain` (an organisation, then those
    above it, the root (None) last): an organisation uses its own publication, else one above it."""
    for org in chain:
        r = tx.execute(select(*_COLS).join(TemplateScope, TemplateScope.version_id == TemplateVersion.id)
                       .where(TemplateVersion.key == key, TemplateScope.organisation_id.is_not_distinct_from(org))
                       .order_by(TemplateScope.id.desc()).limit(1)).mappings().first()
        if r is not None:
            return _row(r)
    return None


def scoped(tx: Tx, version_id: int, organisation_id: int | None) -> bool:
    """Whether the version is published to that organisation (None: the root) already."""
    return tx.execute(select(TemplateScope.id).where(TemplateScope.version_id == version_id,
                                                     TemplateScope.organisation_id.is_not_distinct_from(organisation_id))
                      .limit(1)).first() is not None


def add_scope(tx: Tx, version_id: int, organisation_id: int | None, at: datetime, by: str | None) -> None:
    """Publish a version to an organisation (None: the root); the newest publication of a key wins there."""
    tx.execute(insert(TemplateScope).values(version_id=version_id, organisation_id=organisation_id, published_at=at,
                                            published_by=by))


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
