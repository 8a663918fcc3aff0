"""The documents' SQL: a blob written and read in chunks, the files of an item, and the re-hash of every blob."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import Text, bindparam, cast, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from ..files import CHUNK
from ..rows import FileRow
from .driver import Prepared
from .engine import Tx
from .file_models import Blob, BlobChunk, ItemFile
from .models import AuditEvent, Step


def put_blob(tx: Tx, sha256: str, size: int, kind: str, path: Path, now: datetime) -> bool:
    """Keep the content of `path` under its SHA-256, a chunk at a time, unless it is kept already (the same bytes
    uploaded twice are stored once); → whether it was new. Two uploads of the same bytes at once are decided by the
    key: the second waits for the first's transaction and writes nothing (INSERT … ON CONFLICT DO NOTHING)."""
    if tx.execute(select(Blob.c.sha256).where(Blob.c.sha256 == sha256)).first() is not None:
        return False
    ins = (sqlite.insert if tx.dialect == "sqlite" else postgresql.insert)(Blob)
    claimed = tx.execute(ins.values(sha256=sha256, size=size, kind=kind, created_at=now)
                         .on_conflict_do_nothing(index_elements=["sha256"]).returning(Blob.c.sha256)).first()
    if claimed is None:
        return False
    with open(path, "rb") as f:
        seq = 0
        while chunk := f.read(CHUNK):
            tx.execute(insert(BlobChunk), {"sha256": sha256, "seq": seq, "data": chunk})
            seq += 1
    return True


def add_file(tx: Tx, *, item_id: int, step_id: int, field: str, round_: int, name: str, size: int, kind: str,
             sha256: str, by: str, at: datetime) -> int:
    return tx.execute(insert(ItemFile).returning(ItemFile.c.id),
                      {"item_id": item_id, "step_id": step_id, "field": field, "round": round_, "name": name, "size": size,
                       "kind": kind, "sha256": sha256, "uploaded_by": by, "uploaded_at": at}).scalar_one()


def _row(r) -> FileRow:
    return FileRow(r.id, r.item_id, r.step_id, r.field, r.round, r.name, r.size, r.kind, r.sha256, r.uploaded_by,
                   r.uploaded_at)


_FILES_OF = Prepared(lambda: select(*ItemFile.c).where(ItemFile.c.item_id == bindparam("i")).order_by(ItemFile.c.id))


def files_of(tx: Tx, item_id: int) -> list[FileRow]:
    """The item's files, in the order they were given (a prepared statement: every item page reads it)."""
    return [FileRow(*r) for r in _FILES_OF.all(tx, {"i": item_id})]


def file_of(tx: Tx, item_id: int, file_id: int) -> FileRow | None:
    r = tx.execute(select(ItemFile).where(ItemFile.c.id == file_id, ItemFile.c.item_id == item_id)).first()
    return None if r is None else _row(r)


def files_of_items(tx: Tx, item_ids) -> list[tuple[FileRow, str]]:
    """The files of the items (a list or a subquery of ids), in item and upload order, each with the state of the
    step it was given at: what the 台账 and the results report list."""
    q = (select(*ItemFile.c, Step.state).join(Step, Step.id == ItemFile.c.step_id)
         .where(ItemFile.c.item_id.in_(item_ids)).order_by(ItemFile.c.item_id, ItemFile.c.id))
    return [(FileRow(*r[:-1]), r[-1]) for r in tx.execute(q)]


def file_by_id(tx: Tx, file_id: int) -> FileRow | None:
    """A file by its id whatever its item (a sub-item shows its parent's 审议意见书 it was given a reference to)."""
    r = tx.execute(select(ItemFile).where(ItemFile.c.id == file_id)).first()
    return None if r is None else _row(r)


def counts_of(tx: Tx, item_ids: list[int]) -> dict[int, int]:
    """Item → how many files it has (the lists' paper-clip)."""
    if not item_ids:
        return {}
    q = select(ItemFile.c.item_id, func.count()).where(ItemFile.c.item_id.in_(item_ids)).group_by(ItemFile.c.item_id)
    return dict(tx.execute(q).all())


def chunks(tx: Tx, sha256: str) -> Iterator[bytes]:
    """The blob's bytes, a chunk at a time, in order (one chunk read per query: memory stays one chunk)."""
    seq = 0
    while True:
        data = tx.execute(select(BlobChunk.c.data).where(BlobChunk.c.sha256 == sha256, BlobChunk.c.seq == seq)).scalar()
        if data is None:
            return
        yield bytes(data)
        seq += 1


def rehash(tx: Tx) -> Iterator[tuple[str, int, str | None, int]]:
    """(sha256 named, size recorded, sha256 of the chunks as stored or None when it has none, bytes read) of every
    blob, read a chunk at a time."""
    for sha, size in tx.execute(select(Blob.c.sha256, Blob.c.size).order_by(Blob.c.sha256)).all():
        digest, n, any_ = hashlib.sha256(), 0, False
        for chunk in chunks(tx, sha):
            digest.update(chunk)
            n += len(chunk)
            any_ = True
        yield sha, size, digest.hexdigest() if any_ else None, n


def missing_blobs(tx: Tx) -> list[tuple[int, str]]:
    """(file id, sha256) of files whose blob row is gone (a foreign key the database did not enforce)."""
    q = (select(ItemFile.c.id, ItemFile.c.sha256).select_from(ItemFile.outerjoin(Blob, Blob.c.sha256 == ItemFile.c.sha256))
         .where(Blob.c.sha256.is_(None)))
    return list(tx.execute(q).all())


def all_files(tx: Tx) -> list[FileRow]:
    return [_row(r) for r in tx.execute(select(ItemFile).order_by(ItemFile.c.id))]


def recorded_refs(tx: Tx) -> dict[int, dict]:
    """File id → the ref (id, name, size, type, sha256) the move that gave it recorded in its audit event."""
    out: dict[int, dict] = {}
    q = select(AuditEvent.data).where(AuditEvent.kind == "advanced", cast(AuditEvent.data, Text).like('%"sha256"%'))
    for (data,) in tx.execute(q):
        for value in ((data or {}).get("fields") or {}).values():
            if isinstance(value, list):
                for r in value:
                    if isinstance(r, dict) and isinstance(r.get("id"), int) and "sha256" in r:
                        out[r["id"]] = r
    return out
