"""我献策: the deputies' proposals (建议/建言) to their 人大, with their co-signers (联名) and the office's screening."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, Text

from .models import _pk, _s, _Table, _when, metadata

Proposal = _Table(
    "proposals", metadata, _pk(),
    Column("organisation_id", Integer, ForeignKey("organisations.id")),  # NULL: the root's
    Column("author_id", Integer, ForeignKey("people.id"), nullable=False, index=True),
    _s("title", 200, False), Column("text", Text, nullable=False), _s("status", 24, False),
    _when("created_at", False), _s("decided_by", 64), _when("decided_at"), Column("reason", Text),
    Column("item_id", Integer, ForeignKey("items.id")), Column("meeting_id", Integer, ForeignKey("meetings.id")))

# A co-signer named by the author; `confirmed_at` once he confirms (联名 counts only then).
ProposalCosigner = _Table(
    "proposal_cosigners", metadata,
    Column("proposal_id", Integer, ForeignKey("proposals.id"), primary_key=True, autoincrement=False),
    Column("person_id", Integer, ForeignKey("people.id"), primary_key=True, autoincrement=False, index=True),
    _when("confirmed_at"))
