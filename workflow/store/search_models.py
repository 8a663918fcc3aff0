"""The table search reads: one row per item with the text a person may look for, as of an item version."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, Table, Text

from .models import metadata

# Title, field values of every round, comments and file names, joined; `version` is the item's version it was
# made from: a row behind its item is made again before a search reads it (search.refresh).
ItemText = Table("item_search", metadata,
                 Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
                 Column("version", Integer, nullable=False), Column("body", Text, nullable=False))
