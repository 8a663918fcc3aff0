"""Extension requests (延期申请): pending, decided, per item."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, exists, insert, select, update

from ..rows import ExtensionRow
from .driver import Prepared
from .engine import Tx
from .models import Assignment, ExtensionRequest, ExtensionStatus


def get(tx: Tx, request_id: int) -> ExtensionRow | None:
    r = tx.execute(select(ExtensionRequest.__table__).where(ExtensionRequest.id == request_id)).mappings().first()
    return None if r is None else ExtensionRow(**r)


def pending_for_step(tx: Tx, step_id: int) -> ExtensionRow | None:
    r = tx.execute(select(ExtensionRequest.__table__).where(ExtensionRequest.step_id == step_id,
                                                            ExtensionRequest.status == ExtensionStatus.PENDING)).mappings().first()
    return None if r is None else ExtensionRow(**r)


def pending_for(tx: Tx, person_id: int) -> list[ExtensionRow]:
    """Requests waiting for a decision on items where the person holds a role (which roles may decide, the caller
    asks of the step)."""
    return [ExtensionRow(**r) for r in _PENDING_FOR.dicts(tx, {"p": person_id})]


_PENDING_FOR = Prepared(lambda: select(ExtensionRequest.__table__).where(
    ExtensionRequest.status == ExtensionStatus.PENDING,
    exists().where(Assignment.item_id == ExtensionRequest.item_id, Assignment.person_id == bindparam("p")))
    .order_by(ExtensionRequest.id))


_OF_ITEM = Prepared(lambda: select(ExtensionRequest.__table__).where(ExtensionRequest.item_id == bindparam("id"))
                    .order_by(ExtensionRequest.id))


def of_item(tx: Tx, item_id: int) -> list[ExtensionRow]:
    return [ExtensionRow(**r) for r in _OF_ITEM.dicts(tx, {"id": item_id})]


def insert_request(tx: Tx, *, item_id: int, step_id: int, by: str, at: datetime, reason: str, old_due_at: datetime,
                   new_date: date) -> int:
    return tx.execute(insert(ExtensionRequest).values(
        item_id=item_id, step_id=step_id, requested_by=by, requested_at=at, reason=reason, old_due_at=old_due_at,
        new_date=new_date, status=ExtensionStatus.PENDING).returning(ExtensionRequest.id)).scalar_one()


def decide(tx: Tx, request_id: int, *, status: str, by: str, at: datetime, comment: str | None) -> None:
    tx.execute(update(ExtensionRequest).where(ExtensionRequest.id == request_id)
               .values(status=status, decided_by=by, decided_at=at, decision_comment=comment))
