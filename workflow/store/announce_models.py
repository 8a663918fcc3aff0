"""我监督: supervision activities announced to the deputies, their sign-ups and the attendance the organiser confirms."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer

from .models import _pk, _s, _Table, _when, metadata

# An activity announced ahead (视察, 调研, 执法检查, 座谈, 专题询问, 列席): for an item or for its 人大 as a whole.
# `activity_id`: the activity recorded on the item once attendance is confirmed (the board counts that one).
Announcement = _Table(
    "announcements", metadata, _pk(),
    Column("organisation_id", Integer, ForeignKey("organisations.id")),  # NULL: the root's
    Column("item_id", Integer, ForeignKey("items.id")), _s("kind", 20, False), Column("day", Date, nullable=False, index=True),
    _s("place", 200), _s("note", 500), _s("organiser", 64, False), _when("created_at", False),
    _when("confirmed_at"), _s("confirmed_by", 64), Column("activity_id", Integer, ForeignKey("activities.id")))

Signup = _Table(
    "activity_signups", metadata,
    Column("announcement_id", Integer, ForeignKey("announcements.id"), primary_key=True, autoincrement=False),
    Column("person_id", Integer, ForeignKey("people.id"), primary_key=True, autoincrement=False, index=True),
    _when("signed_at"), Column("attended", Boolean, nullable=False, default=False))
