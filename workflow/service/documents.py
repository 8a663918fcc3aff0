"""Documents: files given at a move (judged, stored by content, audited) and re-hashed by `audit verify`; reads.files
lists and downloads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from .. import files as judge
from ..definition import Definition
from ..errors import InvalidInput
from ..rows import FileRow, ItemRow, PersonRow, StepRow
from ..store import Tx
from ..store import files as file_store
from ..store import items as item_store

Given = dict[str, list[tuple[str, BinaryIO]]]  # field → (name as given, its bytes) of the files given at a move


def ref(row: FileRow) -> dict[str, Any]:
    """What a file field's value holds for each file (the move's audit event records the same)."""
    return {"id": row.id, "name": row.name, "size": row.size, "type": row.kind, "sha256": row.sha256}


def attach(tx: Tx, defn: Definition, item: ItemRow, step: StepRow, given: Given | None, who: PersonRow,
           now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Judge each file by its field's rules (kinds, size, how many), keep its content and its row in this move's
    transaction (a refused move keeps nothing); → the file fields' values, a list of refs each."""
    out: dict[str, list[dict[str, Any]]] = {}
    for field, uploads in (given or {}).items():
        spec = defn.fields.get(field)
        if spec is None or spec.type != "file":
            raise InvalidInput(f"“{field}”不是该模板的文件字段", field=field)
        if not uploads:
            continue
        if len(uploads) > 1 and not spec.multiple:
            raise InvalidInput(f"{spec.label}只收一个文件，收到 {len(uploads)} 个", field=field)
        round_ = item_store.visits_of_state(tx, item.id, step.state, step.seq)
        refs = []
        for name, stream in uploads:
            up = judge.inspect(name, stream, spec.accept or tuple(judge.KINDS), spec.max_size or judge.MAX_FILE, spec.label)
            try:
                file_store.put_blob(tx, up.sha256, up.size, up.kind, up.path, now)
            finally:
                up.discard()
            fid = file_store.add_file(tx, item_id=item.id, step_id=step.id, field=field, round_=round_, name=up.name,
                                      size=up.size, kind=up.kind, sha256=up.sha256, by=who.code, at=now)
            refs.append({"id": fid, "name": up.name, "size": up.size, "type": up.kind, "sha256": up.sha256})
        out[field] = refs
    return out


@dataclass(eq=False)
class FilesChecked:
    blobs: int
    bytes: int
    problems: list[str]


def check_files(tx: Tx) -> FilesChecked:
    """Re-hash every blob (a chunk at a time) and hold each file row against the move that recorded it: a content
    changed or removed behind the trail, a file row pointing at other content or renamed, is named."""
    problems: list[str] = []
    blobs = n = 0
    for sha, size, found, read in file_store.rehash(tx):
        blobs, n = blobs + 1, n + read
        if found is None:
            problems.append(f"文件内容 {sha[:12]}… 已被删除（记录 {size} 字节）")
        elif found != sha or read != size:
            problems.append(f"文件内容 {sha[:12]}… 已被改动：现为 {read} 字节，SHA-256 {found[:12]}…")
    for fid, sha in file_store.missing_blobs(tx):
        problems.append(f"文件 {fid} 的内容 {sha[:12]}… 已不在数据库中")
    recorded = file_store.recorded_refs(tx)
    for f in file_store.all_files(tx):
        r = recorded.get(f.id)
        if r is None:
            problems.append(f"文件 {f.id}（{f.name}）没有办理记录：在审计记录之外加入")
        elif (r.get("sha256"), r.get("name"), r.get("size")) != (f.sha256, f.name, f.size):
            problems.append(f"文件 {f.id}（{f.name}）与办理时记录的不符（记录为“{r.get('name')}”，SHA-256 {str(r.get('sha256'))[:12]}…）")
    return FilesChecked(blobs, n, problems)
