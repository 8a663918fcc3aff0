"""The documents the 台账 and the results report list: per item, each file with its step, round and workbench address."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...definition import Definition
from ...files import size_text
from ...notice_data import file_link
from ...present import fmt
from ...store import Tx, directory
from ...store import files as file_store


@dataclass(frozen=True)
class Listed:
    """A document as a report lists it."""
    id: int
    step_id: int
    state: str
    step: str  # the step's label
    field: str  # the field's label (专项工作报告, 佐证材料 …)
    round: int
    name: str
    size: str  # as a clerk reads it: 1.2 MB
    type: str
    sha256: str
    uploaded_by: str  # the uploader's name
    uploaded_at: str
    link: str  # the download address on the workbench ("" without base_url)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def listed(tx: Tx, item_ids, base_url: str | None, definition_of: Callable[[int], Definition | None]) -> dict[int, list[Listed]]:
    """Item id → its documents in upload order; `definition_of(item_id)` gives the labels (a state or field it does not
    know is shown by its name)."""
    found = file_store.files_of_items(tx, item_ids)
    names = directory.names_of(tx, {f.uploaded_by for f, _s in found})
    out: dict[int, list[Listed]] = {}
    for f, state in found:
        defn = definition_of(f.item_id)
        st = defn.states.get(state) if defn else None
        spec = defn.fields.get(f.field) if defn else None
        out.setdefault(f.item_id, []).append(Listed(
            f.id, f.step_id, state, st.label if st else state, spec.label if spec else f.field, f.round, f.name,
            size_text(f.size), f.kind, f.sha256, names.get(f.uploaded_by, f.uploaded_by), fmt(f.uploaded_at),
            file_link(base_url, f.item_id, f.id)))
    return out
