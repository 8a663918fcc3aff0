"""`db backup`: a copy of the running SQLite database, checked by opening it and counting what it holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..store import Store
from ..store import backup as backup_store


@dataclass(eq=False)
class BackedUp:
    path: str
    bytes: int
    items: int
    files: int
    events: int


def backup_database(store: Store, path: str | Path) -> BackedUp:
    """Copy the database to a new file while it runs, then open the copy (schema, integrity) and count its items,
    documents and audit events. Restoring is putting the file back in the database's place (docs/deployment.md)."""
    size = backup_store.backup(store, Path(path))
    copy = Store(f"sqlite:///{Path(path).resolve()}", migrate=False, readonly=True)
    try:
        items, files, events = backup_store.counts(copy)
    finally:
        copy.dispose()
    return BackedUp(str(path), size, items, files, events)
