"""Extension requests (延期申请): pending, decided, per item."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert, select, update

from ..rows import ExtensionRow
from .engine import Tx
from .models import ExtensionRequest, ExtensionStatus


def get(tx: Tx, request_id: int) -> ExtensionRow | None:
    r = tx.execute(select(ExtensionRequest.__table__).where(ExtensionRequest.id == request_id)).mappings().first()
    return None if r is None else ExtensionRow(**r)


def pending_for_step(tx: Tx, step_id: int) -> ExtensionRow | None:
    r = tx.execute(select(ExtensionRequest.__table__).where(ExtensionRequest.step_id == step_id,
                                                            ExtensionRequest.status == ExtensionStatus.PENDING)).mappings().first()
    return None if r is None else ExtensionRow(**r)


def pending(tx: Tx) -> list[ExtensionRow]:
    """Every request waiting for a decision (a handful at any time)."""
    rows = tx.execute(select(ExtensionRequest.__table__).where(ExtensionRequest.status == ExtensionStatus.PENDING)
                      .order_by(ExtensionRequest.id)).mappings()
    return [ExtensionRow(**r) for r in rows]


def of_item(tx: Tx, item_id: int) -> list[ExtensionRow]:
    rows = tx.execute(select(ExtensionRequest.__table__).where(ExtensionRequest.item_id == item_id)
                      .order_by(ExtensionRequest.id)).mappings()
    return [ExtensionRow(**r) for r in rows]


def insert_request(tx: Tx, *, item_id: int, step_id: int, by: str, at: datetime, reason: str, old_due_at: datetime,
                   new_date: date) -> int:
    return tx.execute(insert(ExtensionRequest).values(
        item_id=item_id, step_id=step_id, requested_by=by, requested_at=at, reason=reason, old_due_at=old_due_at,
        new_date=new_date, status=ExtensionStatus.PENDING).returning(ExtensionRequest.id)).scalar_one()


def decide(tx: Tx, request_id: int, *, status: str, by: str, at: datetime, comment: str | None) -> None:
    tx.execute(update(ExtensionRequest).where(ExtensionRequest.id == request_id)
               .values(status=status, decided_by=by, decided_at=at, decision_comment=comment))
