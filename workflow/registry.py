"""Template versions: validate files, publish immutable content-hashed versions, load them cached."""

from __future__ import annotations

import weakref
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier import render as notices

from . import audit, loader
from .db import connection_of
from .definition import Definition
from .errors import DefinitionError, NotFound, Problem
from .models import TemplateVersion

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "definitions"


def builtin_paths() -> list[Path]:
    return sorted(p for p in BUILTIN_DIR.glob("*.yaml"))


def validate_paths(paths: list[str | Path], notice_dir: str | None = None) -> list[Definition]:
    """Validate every file, naming notices that are missing or fail to render; raises DefinitionError with all problems."""
    available = notices.available(notice_dir)
    problems: list[Problem] = []
    out: list[Definition] = []
    for path in paths:
        try:
            defn = loader.load_file(path, notices=available)
        except DefinitionError as e:
            problems.extend(e.problems)
            continue
        for name in sorted(defn.notices()):
            try:
                notices.render(name, notices.sample_context(), notice_dir)
            except notices.NoticeError as e:
                problems.append(Problem(str(path), 1, 1, f"notice does not render: {e}"))
        out.append(defn)
    if problems:
        raise DefinitionError(problems)
    return out


def publish(session: Session, path: str | Path, actor: str | None, now: datetime,
            notice_dir: str | None = None) -> tuple[TemplateVersion, bool]:
    """Store a validated template as an immutable version; (version, created). Same content → same version."""
    (defn,) = validate_paths([path], notice_dir)
    existing = session.execute(select(TemplateVersion).where(TemplateVersion.content_hash == defn.content_hash)).scalar_one_or_none()
    if existing is not None:
        return existing, False
    tv = TemplateVersion(key=defn.key, title=defn.title, content_hash=defn.content_hash, source_name=Path(path).name,
                         source_text=defn.source_text, published_at=now, published_by=actor)
    session.add(tv)
    session.flush()
    audit.append(session, at=now, actor=actor, kind="template_published",
                 data={"key": defn.key, "version_id": tv.id, "hash": defn.content_hash, "file": Path(path).name})
    return tv, True


_defs: dict[str, Definition] = {}


def definition_of(tv: TemplateVersion) -> Definition:
    """The Definition of a stored version, parsed once per content hash.

    A stored version was validated when it was published and cannot change (its hash is checked),
    so it is only parsed here: items finish on their version even if a later wuzhuan checks more.
    """
    d = _defs.get(tv.content_hash)
    if d is None:
        d = loader.load_trusted(tv.source_text, tv.source_name)
        if d.content_hash != tv.content_hash:
            raise DefinitionError([Problem(tv.source_name, 1, 1, f"stored version {tv.id} does not match its hash")])
        _defs[tv.content_hash] = d
    return d


_hash_of: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine → {version id: content hash}


def definition_by_id(session: Session, version_id: int) -> Definition:
    """The Definition of a stored version, cached by content hash (ids repeat across databases, hashes do not)."""
    engine = session.get_bind().engine  # the Engine, whether the session is bound to it or to one of its connections
    known = _hash_of.setdefault(engine, {})
    h = known.get(version_id)
    if h is None:
        h = connection_of(session).execute(select(TemplateVersion.content_hash).where(TemplateVersion.id == version_id)).scalar_one_or_none()
        if h is None:
            raise NotFound(f"template version {version_id} does not exist")
        known[version_id] = h  # a version row never changes
    d = _defs.get(h)
    if d is None:
        d = definition_of(session.get(TemplateVersion, version_id))
    return d


def latest(session: Session, key: str) -> TemplateVersion:
    tv = session.execute(
        select(TemplateVersion).where(TemplateVersion.key == key).order_by(TemplateVersion.id.desc()).limit(1)
    ).scalar_one_or_none()
    if tv is None:
        known = session.execute(select(TemplateVersion.key).distinct()).scalars().all()
        raise NotFound(f"no published template '{key}' (published: {', '.join(sorted(known)) or 'none'}; "
                       "publish one with `wuzhuan definitions publish FILE`)")
    return tv


def versions(session: Session) -> list[TemplateVersion]:
    return list(session.execute(select(TemplateVersion).order_by(TemplateVersion.key, TemplateVersion.id)).scalars())


def resolve(path_or_key: str, session_factory=None, notice_dir: str | None = None) -> Definition:
    """A template from a file path, or the latest published version of a key."""
    p = Path(path_or_key)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return validate_paths([p], notice_dir)[0]
    builtin = BUILTIN_DIR / f"{path_or_key}.yaml"
    if session_factory is None:
        if builtin.exists():
            return validate_paths([builtin], notice_dir)[0]
        raise NotFound(f"'{path_or_key}' is neither a template file nor a built-in template")
    with session_factory() as session:
        try:
            return definition_of(latest(session, path_or_key))
        except NotFound:
            if builtin.exists():
                return validate_paths([builtin], notice_dir)[0]
            raise
