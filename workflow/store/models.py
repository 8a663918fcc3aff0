"""The tables (SQLAlchemy Core): template versions, items, step visits, people, audit, escalations, outbox, calendar.

Core tables, not ORM classes: nothing in wuzhuan loads objects through a Session, and leaving the
ORM out spares every command its import (~0.1 s) and the mapping of a dozen classes. Each table is
wrapped so that its columns read as attributes (`Item.id`, `Step.item_id`), and it can be given to
`select`, `insert`, `update` and `delete` directly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from ..rows import OutboxStatus  # noqa: F401  (the column's values; defined with the row, used by the store)


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


class StepStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


# A step's `left_via` when it was closed because its parent's step closed (a sub-item not waited for), not by a move.
LEFT_WITH_PARENT = "closed"


class RungStatus(StrEnum):
    FIRED = "fired"
    SKIPPED = "skipped"


class ExtensionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"



metadata = MetaData()


class _Table:
    """A Core table whose columns are attributes; SQLAlchemy takes it wherever it takes the table."""

    def __init__(self, *args, **kw) -> None:
        self.__table__ = Table(*args, **kw)
        for c in self.__table__.columns:
            setattr(self, c.key, c)

    def __clause_element__(self) -> Table:
        return self.__table__


def _pk() -> Column:
    return Column("id", Integer, primary_key=True)


def _when(name: str, nullable: bool = True) -> Column:
    return Column(name, UTCDateTime(), nullable=nullable)


def _s(name: str, length: int, nullable: bool = True, **kw) -> Column:
    return Column(name, String(length), nullable=nullable, **kw)


TemplateVersion = _Table(
    "template_versions", metadata, _pk(),
    _s("key", 64, False, index=True), _s("title", 200, False), _s("content_hash", 64, False, unique=True),
    _s("source_name", 500, False), Column("source_text", Text, nullable=False), _when("published_at", False),
    _s("published_by", 64))

# The People's Congresses of the deployment (市·县区·乡镇), a tree; NULL organisation_id elsewhere is the root's.
Organisation = _Table(
    "organisations", metadata, _pk(), _s("code", 64, False, unique=True), _s("name", 200, False), _s("level", 16, False),
    Column("parent_id", Integer, ForeignKey("organisations.id")), _s("slip_code", 20))
# A version published to an organisation (NULL: the root's, which every organisation below it uses too).
TemplateScope = _Table(
    "template_scopes", metadata, _pk(), Column("version_id", Integer, ForeignKey("template_versions.id"), nullable=False),
    Column("organisation_id", Integer, ForeignKey("organisations.id")), _when("published_at", False), _s("published_by", 64))

OrgUnit = _Table(
    "org_units", metadata, _pk(), _s("code", 64, False, unique=True), _s("name", 200, False),
    _s("kind", 32, False),  # group, committee, council, office, department, district
    Column("applies_to_all", Boolean, nullable=False, default=False),
    _s("webhook_url", 500),  # a group robot (政务微信/钉钉-style) that receives the unit's notices as JSON
    Column("organisation_id", Integer, ForeignKey("organisations.id", name="fk_org_units_organisation")))

Person = _Table(
    "people", metadata, _pk(),
    _s("code", 64, False, unique=True), _s("name", 100, False), _s("email", 200), _s("title", 100),
    Column("active", Boolean, nullable=False, default=True),
    Column("admin", Boolean, nullable=False, default=False, server_default=text("false")),
    Column("password_hash", Text))  # the workbench's password: an argon2id hash, set by the operator

# Failed logins of a name as typed (its SHA-256, trimmed and lower-cased), whether or not anyone has it: five
# within fifteen minutes lock the name for a minute, the same for a real name and an unknown one.
LoginThrottle = _Table(
    "login_throttle", metadata,
    _s("name", 64, False, primary_key=True), Column("failures", Integer, nullable=False), _when("since", False),
    _when("locked_until"))

# A person holds `role` for items of a unit (or of every item when the unit applies to all).
Membership = _Table(
    "memberships", metadata, _pk(),
    Column("unit_id", Integer, ForeignKey("org_units.id"), nullable=False, index=True),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False, index=True),
    _s("role", 64, False),
    UniqueConstraint("unit_id", "person_id", "role"))

OPEN_ID_COLUMNS = ("template_version_id", "state", "paused_at", "due_at", "yellow_at", "group_unit_id")
OPEN_STATE_COLUMNS = ("template_key", "paused_at", "state", "template_version_id", "due_at", "yellow_at", "group_unit_id",
                      "finished_at")

Item = _Table(
    "items", metadata, _pk(),
    Column("template_version_id", Integer, ForeignKey("template_versions.id"), nullable=False),
    _s("template_key", 64, False), _s("title", 500, False), _s("state", 64, False),
    _s("owner_role", 64),  # the current state's owner role
    Column("version", Integer, nullable=False, default=1),
    Column("fields", JSON, nullable=False, default=dict), Column("counters", JSON, nullable=False, default=dict),
    Column("group_unit_id", Integer, ForeignKey("org_units.id"), index=True),
    Column("current_step_id", Integer),
    # Denormalised from the current step, so lists and light filters need no join.
    _when("due_at"), _when("yellow_at"), _when("paused_at"), _when("created_at", False), _s("created_by", 64),
    _when("finished_at"),
    # The time of the item's last recorded action (not refusals, not escalations): no later action may predate it.
    _when("updated_at"),
    Column("organisation_id", Integer, ForeignKey("organisations.id", name="fk_items_organisation"), index=True),
    Index("ix_items_template_state", "template_key", "state"),
    Index("ix_items_open_due", "due_at", postgresql_where=text("finished_at IS NULL"), sqlite_where=text("finished_at IS NULL")),
    # The open items at given steps (the workbench's inbox): a few percent of all items, whatever the years kept;
    # covering, so that an inbox reads no item row but its page's.
    Index("ix_items_open_state", *OPEN_STATE_COLUMNS, postgresql_where=text("finished_at IS NULL"),
          sqlite_where=text("finished_at IS NULL")),
    # An open item by id (a group member's inbox probes his thousand items, nine in ten of them finished): on
    # PostgreSQL a small index that answers for the finished ones at once and holds the open ones' inbox columns.
    Index("ix_items_open_id", "id", postgresql_include=list(OPEN_ID_COLUMNS), postgresql_where=text("finished_at IS NULL"),
          sqlite_where=text("finished_at IS NULL")))

# One visit of an item to a state: entered, due, left, its escalation progress and the values entered in it.
Step = _Table(
    "steps", metadata, _pk(),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("seq", Integer, nullable=False), _s("state", 64, False),
    _when("entered_at", False), _s("entered_by", 64), _s("entered_via", 64),  # trigger
    _when("due_at"), _s("due_rule", 300), Column("provisional", Boolean, nullable=False, default=False),
    _when("yellow_at"), _when("next_escalation_at"),
    Column("next_rung", Integer, nullable=False, default=0),  # index into the state's ladder
    _s("status", 16, False, default="open"), _when("paused_at"),
    Column("extra_units", Integer, nullable=False, default=0),  # clock lost to pauses, in the deadline's unit
    Column("extended_to", Date),  # last day granted by an approved extension
    _when("left_at"), _s("left_by", 64), _s("left_via", 64),
    # The field values entered during this visit (its round): what the moves from it may count on.
    Column("fields", JSON),
    UniqueConstraint("item_id", "seq"),
    Index("ix_steps_left_by", "left_by", "left_at"),  # the items a person moved (已办)
    # The board reads steps by state (stage reached, rectification), by the move that left them (votes, 退办) and
    # open at a day (left_at NULL or later), never all of them: those are counted in progress_counts.
    Index("ix_steps_state", "state", "entered_at"),
    Index("ix_steps_left_via", "left_via", "left_at"),
    Index("ix_steps_left_at", "left_at", "entered_at"),
    Index("ix_steps_next_escalation", "next_escalation_at",
          postgresql_where=text("next_escalation_at IS NOT NULL"), sqlite_where=text("next_escalation_at IS NOT NULL")),
    Index("ix_steps_provisional", "provisional",
          postgresql_where=text("provisional AND left_at IS NULL"), sqlite_where=text("provisional AND left_at IS NULL")))

Assignment = _Table(
    "assignments", metadata, _pk(),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    _s("role", 64, False), Column("person_id", Integer, ForeignKey("people.id"), nullable=False),
    _when("assigned_at", False), _s("assigned_by", 64),
    UniqueConstraint("item_id", "role", "person_id"),  # also the index of every lookup by item
    Index("ix_assignments_person_role", "person_id", "role", "item_id"))  # a person's roles and items (the workbench)

# A single row: the last audit event's sequence number and hash; locked to append.
AuditHead = _Table(
    "audit_head", metadata, _pk(),
    Column("last_seq", Integer, nullable=False, default=0), _s("last_hash", 64, False),
    _s("mac", 64),  # HMAC of (last_seq, last_hash, bound_seq) under the audit key: cutting the tail needs the key
    Column("bound_seq", Integer))  # the binding checkpoint (the first event of the trail's key): signed from here on

AuditEvent = _Table(
    "audit_events", metadata, _pk(),
    Column("seq", Integer, nullable=False, unique=True), _when("at", False), _s("actor", 64), _s("kind", 32, False),
    Column("item_id", Integer, index=True), _s("from_state", 64), _s("to_state", 64),
    Column("data", JSON, nullable=False, default=dict), _s("prev_hash", 64, False), _s("hash", 64, False),
    _s("mac", 64))  # HMAC of `hash` under the audit key (kept outside the database); empty without a key

# A claimed rung: the row's uniqueness on (step, rung) is what makes a rung fire once.
Escalation = _Table(
    "escalations", metadata, _pk(),
    Column("step_id", Integer, ForeignKey("steps.id"), nullable=False),
    Column("item_id", Integer, nullable=False, index=True), _s("rung", 64, False), _s("status", 16, False),
    _when("due_at", False), _when("claimed_at", False), _s("claimed_by", 100),
    _s("slip_no", 64), _when("limit_at"),  # a fired 督办单's number and the new 限期 it set
    UniqueConstraint("step_id", "rung"))

# The last 督办单 number of each series (the number's text with {n} open; '' the year's counter before 0016) and
# year: incremented under its row lock as the rung fires, so numbers have no gaps (a rollback gives it back).
SlipCounter = _Table(
    "slip_counters", metadata, _s("series", 200, False, primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False), Column("last", Integer, nullable=False))

Outbox = _Table(
    "outbox", metadata, _pk(),
    _s("message_id", 200, False, unique=True),
    # No indexes on these two: no query looks messages up by them, and each index costs a write per notice.
    # No foreign key either: see migration 0002 (its check made a burst of notices quadratic on PostgreSQL).
    Column("escalation_id", Integer), Column("item_id", Integer),
    _s("notice", 64, False), Column("person_id", Integer), _s("to_addr", 200, False), _s("to_name", 100, False),
    Column("context", JSON, nullable=False),  # rendered at delivery
    _s("subject", 500),  # filled once rendered
    _s("status", 16, False, default="pending"), Column("attempts", Integer, nullable=False, default=0),
    _when("next_attempt_at", False), _when("lease_until"), Column("last_error", Text), _when("created_at", False),
    _when("sent_at"),
    # One message, several readers: {"to": [[name, address], …], "cc": [[name, address], …]} (null: to_addr alone).
    Column("recipients", JSON),
    _s("channel", 16, False, default="email", server_default="email"),  # email | webhook (to_addr is then the URL)
    Index("ix_outbox_ready", "status", "next_attempt_at"))

ExtensionRequest = _Table(
    "extension_requests", metadata, _pk(),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False, index=True),
    Column("step_id", Integer, ForeignKey("steps.id"), nullable=False),
    _s("requested_by", 64, False), _when("requested_at", False), Column("reason", Text, nullable=False),
    _when("old_due_at", False), Column("new_date", Date, nullable=False), _s("status", 16, False, default="pending"),
    _s("decided_by", 64), _when("decided_at"), Column("decision_comment", Text))

# A logged-in browser: the cookie holds a random token, the table only its SHA-256 (`id`).
Session = _Table(
    "sessions", metadata,
    _s("id", 64, False, primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False, index=True),
    _s("csrf", 64, False), _when("created_at", False), _when("last_seen_at", False), _when("expires_at", False),
    _when("revoked_at"), _s("client", 200))

# An API token: random 256 bits shown once; the table keeps its SHA-256.
ApiToken = _Table(
    "api_tokens", metadata, _pk(),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False, index=True),
    _s("digest", 64, False, unique=True), _when("created_at", False), _s("created_by", 64),
    _when("revoked_at"), _when("last_used_at"))

# Facts about the database itself: that it is a demo's simulation, which audit key signs its trail.
Meta = _Table(
    "meta", metadata,
    _s("key", 64, False, primary_key=True), Column("value", Text, nullable=False))

# A meeting items refer to (a field of type `meeting` holds its id): moving it moves every deadline counted from it.
Meeting = _Table(
    "meetings", metadata, _pk(),
    _s("kind", 32, False), Column("day", Date, nullable=False), _s("title", 200, False),
    _when("created_at", False), _s("created_by", 64), _when("moved_at"),
    Index("ix_meetings_day", "day"))

# A sub-item: a child item created for one unit when its parent entered a step that hands work out (`spawn`).
# position 0 is the lead unit (主办). closed_at/closed_reason: the child was closed because its parent left that step.
SubItem = _Table(
    "sub_items", metadata, _pk(),
    Column("parent_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("parent_step_id", Integer, ForeignKey("steps.id"), nullable=False),
    Column("child_id", Integer, ForeignKey("items.id"), nullable=False, unique=True),
    Column("unit_id", Integer, ForeignKey("org_units.id"), nullable=False),
    Column("position", Integer, nullable=False),
    _when("closed_at"), _s("closed_reason", 500),
    UniqueConstraint("parent_step_id", "unit_id"),
    Index("ix_sub_items_parent", "parent_id", "parent_step_id"))

# A deputies' activity on an item (视察, 调研, 执法检查, 座谈, 专题询问), and the deputies who attended it.
Activity = _Table(
    "activities", metadata, _pk(),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False, index=True),
    _s("kind", 20, False), Column("day", Date, nullable=False), _s("note", 500),
    _when("created_at", False), _s("created_by", 64),
    Index("ix_activities_day", "day"))  # the board's attendances of a year

ActivityDeputy = _Table(
    "activity_deputies", metadata,
    Column("activity_id", Integer, ForeignKey("activities.id"), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id"), primary_key=True, index=True))

# An evaluator's 比创新 score for a unit in a scorecard's year: once per evaluator, unit and year.
Score = _Table(
    "scores", metadata, _pk(),
    _s("scorecard", 32, False), Column("year", Integer, nullable=False),
    Column("unit_id", Integer, ForeignKey("org_units.id"), nullable=False),
    Column("evaluator_id", Integer, ForeignKey("people.id"), nullable=False),
    Column("score", Integer, nullable=False), _s("comment", 500), _when("at", False),
    UniqueConstraint("scorecard", "year", "unit_id", "evaluator_id"))

# The 通报 digest of one period: the row is the claim (its unique key), as an escalation row is for a rung.
Digest = _Table(
    "digests", metadata, _pk(),
    _s("scorecard", 32, False), _s("period", 16, False), _when("created_at", False), Column("messages", Integer, nullable=False),
    UniqueConstraint("scorecard", "period"))

# The board's progress counts, kept as items are created and steps close (in the transaction that does it): per
# unit, template, year of the items' creation and Shanghai day, the items created, the counted steps closed, those
# closed on time and their working days late. Rebuilt from the steps when a calendar year is imported.
ProgressCount = _Table(
    "progress_counts", metadata, _pk(),
    Column("unit_id", Integer, ForeignKey("org_units.id"), nullable=False),
    _s("template_key", 64, False), Column("year", Integer, nullable=False), Column("day", Date, nullable=False),
    Column("items", Integer, nullable=False, default=0), Column("closed", Integer, nullable=False, default=0),
    Column("on_time", Integer, nullable=False, default=0), Column("late_workdays", Integer, nullable=False, default=0),
    UniqueConstraint("unit_id", "template_key", "year", "day"))

# A day from an imported State Council notice: a holiday or a 调休 make-up workday.
CalendarDay = _Table(
    "calendar_days", metadata,
    Column("day", Date, primary_key=True), Column("year", Integer, nullable=False, index=True),
    Column("is_workday", Boolean, nullable=False), _s("name", 100, False))

CalendarImport = _Table(
    "calendar_imports", metadata, _pk(),
    Column("year", Integer, nullable=False, index=True), _s("source", 500, False),
    _s("digest", 64, False),  # sha256 over every import so far: names the calendar's content
    _when("imported_at", False), _s("imported_by", 64))
