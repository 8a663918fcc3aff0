"""Escalation claims: the steps due for a rung, the claim rows whose uniqueness makes a rung fire once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..rows import StepRow
from .engine import Tx
from .models import Escalation, SlipCounter, Step, StepStatus

_CLAIM_COLS = ("step_id", "item_id", "rung", "status", "due_at", "claimed_at", "claimed_by")
_RETURN = (Escalation.id, Escalation.step_id, Escalation.rung)
# SQLite: one multi-row INSERT per batch (SQLAlchemy's insertmanyvalues).
_CLAIM_SQLITE = sqlite.insert(Escalation).on_conflict_do_nothing(index_elements=["step_id", "rung"]).returning(*_RETURN)
# PostgreSQL: the batch as one array per column, unnested into rows: one statement with seven
# parameters instead of seven per claim (measured: 43 → 19 µs a claim).
_CLAIM_PG = (postgresql.insert(Escalation)
             .from_select(_CLAIM_COLS, select(func.unnest(*[bindparam(c, type_=postgresql.ARRAY(Escalation.__table__.c[c].type))
                                                            for c in _CLAIM_COLS]).table_valued(*_CLAIM_COLS).render_derived()))
             .on_conflict_do_nothing(index_elements=["step_id", "rung"]).returning(*_RETURN))
_MOVE = (update(Step).where(Step.id == bindparam("sid"))
         .values(next_rung=bindparam("nr"), next_escalation_at=bindparam("na")))


def due_steps(tx: Tx, now: datetime, batch: int) -> list[StepRow]:
    """Open steps whose next rung is due, oldest first, row-locked (others' locked rows are skipped)."""
    q = (select(Step.__table__)
         .where(Step.next_escalation_at <= now, Step.status == StepStatus.OPEN)
         .order_by(Step.next_escalation_at, Step.id).limit(batch).with_for_update(skip_locked=True))
    return [StepRow(**r) for r in tx.execute(q).mappings()]


def claim(tx: Tx, claims: list[dict[str, Any]]) -> dict[tuple[int, str], int]:
    """Insert the claims that nobody made before; {(step id, rung): escalation id} for those only."""
    if not claims:
        return {}
    if tx.dialect == "postgresql":
        rows = tx.conn.execute(_CLAIM_PG, {c: [cl[c] for cl in claims] for c in _CLAIM_COLS})
    else:
        rows = tx.conn.execute(_CLAIM_SQLITE, claims)
    return {(r.step_id, r.rung): r.id for r in rows}


def move_pointers(tx: Tx, moves: list[tuple[int, int, datetime | None]]) -> None:
    """(step id, next rung, next escalation time) for each step of a batch."""
    if moves:
        tx.execute(_MOVE, [{"sid": sid, "nr": nr, "na": na} for sid, nr, na in moves])


def fired(tx: Tx, step_id: int) -> list[str]:
    """Rungs of a step claimed so far (fired or skipped)."""
    return list(tx.execute(select(Escalation.rung).where(Escalation.step_id == step_id).order_by(Escalation.id)).scalars())


def _slip_row(insert_):
    """A series' counter, created at its first slip of a year after the year's counter from before series (''),
    so that no number given before an upgrade is given again."""
    legacy = (select(func.coalesce(func.max(SlipCounter.last), 0))
              .where(SlipCounter.series == "", SlipCounter.year == bindparam("y")).scalar_subquery())
    return insert_(SlipCounter.__table__).from_select(
        ["series", "year", "last"], select(bindparam("s", type_=String), bindparam("y", type_=Integer), legacy)
    ).on_conflict_do_nothing(index_elements=["series", "year"])


_SLIP_ROW = {"sqlite": _slip_row(sqlite.insert), "postgresql": _slip_row(postgresql.insert)}
_SLIP_NEXT = (update(SlipCounter).where(SlipCounter.series == bindparam("s"), SlipCounter.year == bindparam("y"))
              .values(last=SlipCounter.last + 1).returning(SlipCounter.last))


def next_slip(tx: Tx, year: int, series: str = "") -> int:
    """The next 督办单 number of `series` in `year`, under its row lock: no gaps (a rolled-back firing gives it back)."""
    tx.execute(_SLIP_ROW[tx.dialect], {"s": series, "y": year})
    return tx.execute(_SLIP_NEXT, {"s": series, "y": year}).scalar_one()


def set_slip(tx: Tx, escalation_id: int, slip_no: str | None, limit_at: datetime | None) -> None:
    tx.execute(update(Escalation).where(Escalation.id == escalation_id).values(slip_no=slip_no, limit_at=limit_at))

