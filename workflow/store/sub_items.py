"""Sub-items: the rows linking a parent's step to the child items it handed to units, and their lookups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select, update

from ..rows import SubItemRow
from .driver import Prepared
from .engine import Tx
from .models import Item, OrgUnit, SubItem

_COLUMNS = (SubItem.id, SubItem.parent_id, SubItem.parent_step_id, SubItem.child_id, SubItem.unit_id,
            OrgUnit.code.label("unit_code"), OrgUnit.name.label("unit_name"), SubItem.position, SubItem.closed_at,
            SubItem.closed_reason, Item.title, Item.state, Item.template_version_id, Item.due_at, Item.yellow_at,
            Item.paused_at, Item.finished_at)


def _joined():
    return (select(*_COLUMNS).join(Item, Item.id == SubItem.child_id).join(OrgUnit, OrgUnit.id == SubItem.unit_id))


def add(tx: Tx, *, parent_id: int, parent_step_id: int, child_id: int, unit_id: int, position: int) -> None:
    tx.execute(insert(SubItem).values(parent_id=parent_id, parent_step_id=parent_step_id, child_id=child_id,
                                      unit_id=unit_id, position=position))


def of_step(tx: Tx, parent_step_id: int) -> list[SubItemRow]:
    """The children one step of a parent handed out, lead first."""
    q = _joined().where(SubItem.parent_step_id == parent_step_id).order_by(SubItem.position)
    return [SubItemRow(**r) for r in tx.execute(q).mappings()]


_OF_PARENT = Prepared(lambda: _joined().where(SubItem.parent_id == bindparam("id"))
                      .order_by(SubItem.parent_step_id, SubItem.position))
_OF_CHILD = Prepared(lambda: _joined().where(SubItem.child_id == bindparam("id")))


def of_parent(tx: Tx, parent_id: int) -> list[SubItemRow]:
    """Every child of an item, by step then lead first."""
    return [SubItemRow(**r) for r in _OF_PARENT.dicts(tx, {"id": parent_id})]


def link_of_child(tx: Tx, child_id: int) -> SubItemRow | None:
    """The row naming a child's parent (None for an item nobody handed out)."""
    r = _OF_CHILD.first(tx, {"id": child_id})
    return None if r is None else SubItemRow(**r)


_PARENT_ID = Prepared(lambda: select(SubItem.parent_id).where(SubItem.child_id == bindparam("id")))


def parent_id_of(tx: Tx, child_id: int) -> int | None:
    key = ("parent", child_id)
    return tx.memo[key] if key in tx.memo else _PARENT_ID.scalar(tx, {"id": child_id})


def open_clocks(tx: Tx, parent_ids: list[int]) -> dict[int, list[tuple[datetime | None, datetime | None, datetime | None]]]:
    """Parent id → (due_at, yellow_at, paused_at) of each of its open children: what a parent's light is made of."""
    if not parent_ids:
        return {}
    q = (select(SubItem.parent_id, Item.due_at, Item.yellow_at, Item.paused_at)
         .join(Item, Item.id == SubItem.child_id)
         .where(SubItem.parent_id.in_(sorted(set(parent_ids))), Item.finished_at.is_(None)))
    out: dict[int, list] = {}
    for r in tx.execute(q):
        out.setdefault(r.parent_id, []).append((r.due_at, r.yellow_at, r.paused_at))
    return out


def mark_closed(tx: Tx, sub_id: int, at: datetime, reason: str) -> None:
    tx.execute(update(SubItem).where(SubItem.id == sub_id).values(closed_at=at, closed_reason=reason[:500]))
