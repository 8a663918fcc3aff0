"""The deputies' registry: one row per deputy and mandate (level, 选举单位, 代表小组, 联络站, 届次, since, until)."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer

from .models import _pk, _s, _Table, metadata

DeputyMandate = _Table(
    "deputy_mandates", metadata, _pk(),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False), _s("level", 16, False),
    _s("constituency", 200), _s("team", 200), _s("station", 200), Column("term", Integer),
    Column("since", Date), Column("until", Date),
    Index("ix_deputy_mandates_person", "person_id"), Index("ix_deputy_mandates_level", "level"))
