"""The tables of a person's own workbench: his saved filters and how far he has read what is new."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint

from .models import _pk, _s, _Table, _when, metadata

# A list's filters saved under a name: `page` is the list (inbox, search), `query` its parameters as a URL query.
SavedFilter = _Table(
    "saved_filters", metadata, _pk(),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False), _s("name", 40, False), _s("page", 16, False),
    _s("query", 600, False), _when("created_at", False),
    UniqueConstraint("person_id", "name"))

# The last audit event a person has seen in his 最新动态 (its `seq`), and when he looked.
NewsMark = _Table(
    "news_marks", metadata,
    Column("person_id", Integer, ForeignKey("people.id"), primary_key=True, autoincrement=False),
    Column("seen_seq", Integer, nullable=False), _when("seen_at", False))
