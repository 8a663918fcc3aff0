"""The one JSON encoding of use-case results, shared by the command line and the API."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Any


def plain(data: Any) -> Any:
    """Dataclasses, dates and the rest as JSON values."""
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return {f.name: plain(getattr(data, f.name)) for f in dataclasses.fields(data)}
    if isinstance(data, dict):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [plain(v) for v in data]
    if isinstance(data, datetime | date):
        return data.isoformat()
    return data


def dumps(data: Any, indent: int | None = None) -> str:
    """JSON text of a result, Chinese kept as it is."""
    return json.dumps(plain(data), ensure_ascii=False, indent=indent, default=str)
