"""The stored working-day calendar: days of imported State Council notices and the record of imports."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from sqlalchemy import delete, func, insert, select

from ..rows import CalendarImportRow
from .driver import Prepared
from .engine import Tx
from .models import CalendarDay, CalendarImport


@cache
def _latest():
    return select(CalendarImport.digest).order_by(CalendarImport.id.desc()).limit(1)


def latest_digest_column():
    """The latest digest as a column of another query (the item lock reads it in the same round trip)."""
    return select(func.coalesce(_latest().scalar_subquery(), "")).scalar_subquery()


_LATEST = Prepared(_latest)


def latest_digest(tx: Tx) -> str:
    """The digest naming the calendar's content now ('' before any import)."""
    return _LATEST.scalar(tx) or ""


def days(tx: Tx) -> list[tuple[date, bool, str]]:
    return [(d, w, n) for d, w, n in tx.execute(select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.name))]


def imported_years(tx: Tx) -> list[int]:
    return list(tx.execute(select(CalendarImport.year).distinct()).scalars())


def replace_year(tx: Tx, year: int, days_: list[tuple[date, bool, str]], *, source: str, digest: str,
                 at: datetime, by: str | None) -> None:
    tx.execute(delete(CalendarDay).where(CalendarDay.year == year))
    if days_:
        tx.execute(insert(CalendarDay), [{"day": d, "year": year, "is_workday": w, "name": n} for d, w, n in days_])
    tx.execute(insert(CalendarImport).values(year=year, source=source, digest=digest, imported_at=at, imported_by=by))


def imports(tx: Tx) -> list[CalendarImportRow]:
    rows = tx.execute(select(CalendarImport.__table__).order_by(CalendarImport.id)).mappings()
    return [CalendarImportRow(**r) for r in rows]
