"""What the report use cases share: the scorecard, a day checked, a day's first moment."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from ... import scorecard
from ...calendar import TZ, parse_date
from ...errors import InvalidInput
from ...scorecard import Scorecard

MAX_NOTE = 500
COLOUR_CN = {"blue": "蓝牌", "yellow": "黄牌", "red": "红牌"}
NO_DATA = "无数据"  # a unit or organisation with nothing to count: neither 0 nor a 红牌


def card_of(path: str | Path | None) -> Scorecard:
    """The scorecard named (the built-in "251" one by default)."""
    return scorecard.load(path)


def day_of(text: str | date, what: str) -> date:
    d = text if isinstance(text, date) else parse_date(text, what)
    if not 1970 <= d.year <= 2199:
        raise InvalidInput(f"{what}：{d} 超出了 1970–2199 年")
    return d


def midnight(d: date) -> datetime:
    """The first moment of a Shanghai day, as an aware datetime."""
    return datetime.combine(d, time(0), TZ)
