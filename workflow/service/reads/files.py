"""The documents of an item, for whoever may see it: listed with their field, round, uploader and kind; downloaded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ... import files as judge
from ...definition import Definition
from ...errors import NotFound
from ...present import fmt
from ...rows import FileRow, ItemRow, StepRow
from ...store import Store, Tx, directory
from ...store import files as file_store
from ...store import items as item_store
from .. import common
from .viewer import Viewer, check_sees, person_of


@dataclass(eq=False)
class FileInfo:
    """A document as lists show it: which field and round it was given in, by whom and when, its kind and size."""
    id: int
    name: str
    size: int
    size_text: str
    type: str
    mime: str
    sha256: str
    field: str
    field_label: str
    round: int
    state: str
    state_label: str
    uploaded_by: str
    uploaded_by_name: str
    uploaded_at: str
    preview: bool  # a PDF or an image: the item page shows it


def _info(defn: Definition, steps: dict[int, StepRow], f: FileRow, names: dict[str, str] | None = None) -> FileInfo:
    spec = defn.fields.get(f.field)
    state = steps[f.step_id].state if f.step_id in steps else ""
    return FileInfo(f.id, f.name, f.size, judge.size_text(f.size), f.kind, judge.KINDS[f.kind].mime if f.kind in judge.KINDS
                    else "application/octet-stream", f.sha256, f.field, spec.label if spec else f.field, f.round, state,
                    defn.states[state].label if state in defn.states else state, f.uploaded_by, (names or {}).get(f.uploaded_by, f.uploaded_by), fmt(f.uploaded_at),
                    f.kind in judge.PREVIEWABLE)


def files_in(tx: Tx, item: ItemRow, defn: Definition | None = None, steps: list[StepRow] | None = None) -> list[FileInfo]:
    """The item's documents (`defn` and `steps` when the caller has read them already)."""
    found = file_store.files_of(tx, item.id)
    if not found:
        return []
    defn = defn or common.definition(tx, item.template_version_id)
    by_id = {s.id: s for s in (steps if steps is not None else item_store.steps_of(tx, item.id))}
    names = directory.names_of(tx, {f.uploaded_by for f in found})
    return [_info(defn, by_id, f, names) for f in found]


@dataclass(eq=False)
class Shown:
    """A field the step's owner acts on, shown at the top of the page: its text, or its documents."""
    name: str
    label: str
    text: str
    files: list[FileInfo]
    more: int = 0  # documents of the field beyond those listed (the page's 文件材料 lists them all)


SHOWN_FILES = 5  # documents listed per field under 办理依据; 49 photos are counted there, and listed once, below


def _refs(value: Any) -> list[int]:
    return [r["id"] for r in value if isinstance(r, dict) and isinstance(r.get("id"), int)] if isinstance(value, list) else []


def referenced(tx: Tx, item: ItemRow, file_id: int) -> FileRow | None:
    """The file `file_id` if the item holds it: given on it, or named by one of its file fields (a sub-item's copy of
    its parent's 审议意见书), with the content the reference records."""
    f = file_store.file_of(tx, item.id, file_id)
    if f is not None:
        return f
    for value in item.fields.values():
        for r in value if isinstance(value, list) else ():
            if isinstance(r, dict) and r.get("id") == file_id:
                f = file_store.file_by_id(tx, file_id)
                return f if f is not None and f.sha256 == r.get("sha256") else None
    return None


def shown_in(tx: Tx, item: ItemRow, defn: Definition, documents: list[FileInfo]) -> list[Shown]:
    """The fields the current step `shows` (its template's `shows:`), with the item's latest values; a file field's
    documents include those a sub-item was handed by its parent."""
    state = defn.states.get(item.state)
    out = []
    own = {f.id: f for f in documents}
    for name in state.shows if state else ():
        spec, value = defn.fields.get(name), item.fields.get(name)
        if spec is None or value in (None, "", []):
            continue
        if spec.type != "file":
            out.append(Shown(name, spec.label, "、".join(map(str, value)) if isinstance(value, list) else str(value), []))
            continue
        found = []
        for fid in _refs(value):
            info = own.get(fid)
            if info is None and (row := referenced(tx, item, fid)) is not None:
                info = _info(defn, {}, row, directory.names_of(tx, {row.uploaded_by}))
            if info is not None:
                found.append(info)
        if found:
            out.append(Shown(name, spec.label, "", found[:SHOWN_FILES], max(0, len(found) - SHOWN_FILES)))
    return out


def item_files(store: Store, viewer: Viewer, item_id: int) -> list[FileInfo]:
    """The item's documents, for whoever may see the item (事项 N 不存在 for anyone else)."""
    with store.read() as tx:
        check_sees(tx, person_of(tx, viewer), item_id)
        return files_in(tx, common.item(tx, item_id))


def download(store: Store, viewer: Viewer, item_id: int, file_id: int, write: Callable[[bytes], Any]) -> FileInfo:
    """Write the file's bytes to `write`, a chunk at a time, for whoever may see the item; NotFound (404, exit 2)
    for a file that is not the item's or an item he may not see."""
    with store.read() as tx:
        check_sees(tx, person_of(tx, viewer), item_id)
        item = common.item(tx, item_id)
        f = referenced(tx, item, file_id)
        if f is None:
            raise NotFound(f"事项 {item_id} 没有编号为 {file_id} 的文件", item=item_id, file=file_id)
        info = _info(common.definition(tx, item.template_version_id), {s.id: s for s in item_store.steps_of(tx, item_id)}, f)
        for chunk in file_store.chunks(tx, f.sha256):
            write(chunk)
        return info


