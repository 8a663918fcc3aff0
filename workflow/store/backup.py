"""A copy of a running SQLite database, taken by SQLite's online backup: items, audit trail and documents in one file."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import text

from ..errors import InvalidInput
from .engine import Store

PAGES = 4096  # copied a few megabytes at a time: writers go on between the steps (SQLite restarts a step they change)


def backup(store: Store, target: Path) -> int:
    """Copy the database to `target` (a new file; written beside it, then renamed into place) while it runs; → its
    size in bytes. PostgreSQL is backed up with pg_dump (docs/deployment.md), not here."""
    if store.dialect != "sqlite":
        raise InvalidInput("PostgreSQL 数据库请用 pg_dump 备份（见 docs/deployment.md“备份”）", reason="postgresql")
    target = Path(target)
    if target.exists() or target.is_symlink():
        raise InvalidInput(f"“{target}”已存在：请指定一个新文件", parameter="path")
    if not target.parent.is_dir():
        raise InvalidInput(f"没有文件夹“{target.parent}”", parameter="path")
    part = target.with_name(target.name + ".part")
    raw = store.engine.raw_connection()
    try:
        out = sqlite3.connect(part)
        try:
            raw.driver_connection.backup(out, pages=PAGES)
            ok = out.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            out.close()
        if ok != "ok":
            raise InvalidInput(f"备份文件校验未通过：{ok}")
        os.replace(part, target)
    except OSError as e:
        raise InvalidInput(f"无法写入“{target}”：{e.strerror or e}", parameter="path") from None
    finally:
        raw.close()
        part.unlink(missing_ok=True)
    return target.stat().st_size


def counts(store: Store) -> tuple[int, int, int]:
    """(items, documents, audit events) of a database: what a backup is checked to hold."""
    with store.read() as tx:
        return tuple(tx.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("items", "item_files", "audit_events"))
