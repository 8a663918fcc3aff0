"""SQLAlchemy tables: template versions, items, step visits, people, audit, escalations, outbox, calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class _SQLiteText(sqlite.DATETIME):
    """SQLite's DATETIME text ('2026-01-05 01:00:00.000000', SQLAlchemy's own format), written and read
    with one isoformat call each: SQLAlchemy's generic processors cost ~3 µs a value, and an advance
    writes about ten."""

    def bind_processor(self, dialect):
        def process(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat(" ", "microseconds")
        return process

    def result_processor(self, dialect, coltype):
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            return None if value is None else parse(value)
        return process


class UTCDateTime(TypeDecorator):
    """Timestamps stored as naive UTC, always handed back aware (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(_SQLiteText() if dialect.name == "sqlite" else DateTime())

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass aware UTC times")
        return value.replace(tzinfo=None) if value.tzinfo is UTC else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)

    def result_processor(self, dialect, coltype):
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:  # one call instead of the decorator's two (hot path)
            return None if value is None else parse(value).replace(tzinfo=UTC)
        return process

    def bind_processor(self, dialect):
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to the store; pass aware UTC times")
            if value.tzinfo is not UTC:
                value = value.astimezone(UTC)
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return process


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class StepStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class RungStatus(StrEnum):
    FIRED = "fired"
    SKIPPED = "skipped"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


class ExtensionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class TemplateVersion(Base):
    __tablename__ = "template_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source_name: Mapped[str] = mapped_column(String(500))
    source_text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime]
    published_by: Mapped[str | None] = mapped_column(String(64))


class OrgUnit(Base):
    __tablename__ = "org_units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # group, committee, council, office, department, district
    applies_to_all: Mapped[bool] = mapped_column(Boolean, default=False)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class Membership(Base):
    """A person holds `role` for items of a unit (or of every item when the unit applies to all)."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("unit_id", "person_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(64))


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_template_state", "template_key", "state"),
        Index("ix_items_open_due", "due_at", postgresql_where=text("finished_at IS NULL"), sqlite_where=text("finished_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"))
    template_key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(64))
    owner_role: Mapped[str | None] = mapped_column(String(64))  # the current state's owner role
    version: Mapped[int] = mapped_column(Integer, default=1)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    group_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    current_step_id: Mapped[int | None] = mapped_column(Integer)
    # Denormalised from the current step, so lists and light filters need no join.
    due_at: Mapped[datetime | None]
    yellow_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None]
    # The time of the item's last recorded action (not refusals, not escalations): no later action may predate it.
    updated_at: Mapped[datetime | None]


class Step(Base):
    """One visit of an item to a state: entered, due, left, and its escalation progress."""

    __tablename__ = "steps"
    __table_args__ = (
        UniqueConstraint("item_id", "seq"),
        Index("ix_steps_next_escalation", "next_escalation_at",
              postgresql_where=text("next_escalation_at IS NOT NULL"), sqlite_where=text("next_escalation_at IS NOT NULL")),
        Index("ix_steps_provisional", "provisional",
              postgresql_where=text("provisional AND left_at IS NULL"), sqlite_where=text("provisional AND left_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime]
    entered_by: Mapped[str | None] = mapped_column(String(64))
    entered_via: Mapped[str | None] = mapped_column(String(64))  # trigger
    due_at: Mapped[datetime | None]
    due_rule: Mapped[str | None] = mapped_column(String(300))
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    yellow_at: Mapped[datetime | None]
    next_escalation_at: Mapped[datetime | None]
    next_rung: Mapped[int] = mapped_column(Integer, default=0)  # index into the state's ladder
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.OPEN)
    paused_at: Mapped[datetime | None]
    extra_units: Mapped[int] = mapped_column(Integer, default=0)  # clock lost to pauses, in the deadline's unit
    extended_to: Mapped[date | None] = mapped_column(Date)  # last day granted by an approved extension
    left_at: Mapped[datetime | None]
    left_by: Mapped[str | None] = mapped_column(String(64))
    left_via: Mapped[str | None] = mapped_column(String(64))
    # The field values entered during this visit (its round): what the moves from it may count on.
    fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("item_id", "role", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    role: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    assigned_at: Mapped[datetime]
    assigned_by: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """A single row: the last audit event's sequence number and hash; locked to append."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int | None] = mapped_column(Integer, index=True)
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Escalation(Base):
    """A claimed rung: the row's uniqueness on (step, rung) is what makes a rung fire once."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("step_id", "rung"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"))
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    rung: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(100))


class Outbox(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_ready", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    # No indexes on these two: no query looks messages up by them, and each index costs a write per notice.
    # No foreign key either: see migration 0002 (its check made a burst of notices quadratic on PostgreSQL).
    escalation_id: Mapped[int | None] = mapped_column(Integer)
    item_id: Mapped[int | None] = mapped_column(Integer)
    notice: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(Integer)
    to_addr: Mapped[str] = mapped_column(String(200))
    to_name: Mapped[str] = mapped_column(String(100))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)  # rendered at delivery
    subject: Mapped[str | None] = mapped_column(String(500))  # filled once rendered
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class ExtensionRequest(Base):
    __tablename__ = "extension_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    old_due_at: Mapped[datetime]
    new_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=ExtensionStatus.PENDING)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(Text)


class CalendarDay(Base):
    """A day from an imported State Council notice: a holiday or a 调休 make-up workday."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(100))


class CalendarImport(Base):
    __tablename__ = "calendar_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(64))  # sha256 over every import so far: names the calendar's content
    imported_at: Mapped[datetime]
    imported_by: Mapped[str | None] = mapped_column(String(64))
