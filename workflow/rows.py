"""The typed rows that cross the store's boundary: one plain dataclass per table, no ORM state.

The service layer reads these and hands back changes as keyword arguments; it never sees a
Session, an ORM object or a driver cursor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


@dataclass(slots=True, eq=False)
class ItemRow:
    id: int
    template_version_id: int
    template_key: str
    title: str
    state: str
    owner_role: str | None
    version: int
    fields: dict[str, Any]
    counters: dict[str, Any]
    group_unit_id: int | None
    current_step_id: int | None
    due_at: datetime | None
    yellow_at: datetime | None
    paused_at: datetime | None
    created_at: datetime
    created_by: str | None
    finished_at: datetime | None
    updated_at: datetime | None
    organisation_id: int | None = None  # None: the root organisation


@dataclass(slots=True, eq=False)
class ItemBrief:
    """An item as a list shows it: no field values (the lists never need them, and they are the row's bulk)."""

    id: int
    template_version_id: int
    template_key: str
    title: str
    state: str
    owner_role: str | None
    version: int
    due_at: datetime | None
    yellow_at: datetime | None
    paused_at: datetime | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(slots=True, eq=False)
class StepRow:
    id: int
    item_id: int
    seq: int
    state: str
    entered_at: datetime
    entered_by: str | None
    entered_via: str | None
    due_at: datetime | None
    due_rule: str | None
    provisional: bool
    yellow_at: datetime | None
    next_escalation_at: datetime | None
    next_rung: int
    status: str
    paused_at: datetime | None
    extra_units: int
    extended_to: date | None
    left_at: datetime | None
    left_by: str | None
    left_via: str | None
    fields: dict[str, Any] | None


@dataclass(slots=True, eq=False)
class PersonRow:
    id: int
    code: str
    name: str
    email: str | None
    title: str | None
    active: bool
    admin: bool


@dataclass(slots=True, eq=False)
class UnitRow:
    id: int
    code: str
    name: str
    kind: str
    applies_to_all: bool
    webhook_url: str | None = None
    organisation_id: int | None = None  # None: the root organisation


@dataclass(slots=True, eq=False)
class Holder:
    """A person as seen through a role on an item (an assignment joined with its person)."""

    id: int
    code: str
    name: str
    email: str | None
    active: bool = True
    admin: bool = False


@dataclass(slots=True, eq=False)
class TemplateVersionRow:
    id: int
    key: str
    title: str
    content_hash: str
    source_name: str
    source_text: str = field(repr=False)
    published_at: datetime | None = None
    published_by: str | None = None


@dataclass(slots=True, eq=False)
class AuditEventRow:
    id: int
    seq: int
    at: datetime
    actor: str | None
    kind: str
    item_id: int | None
    from_state: str | None
    to_state: str | None
    data: Any
    prev_hash: str
    hash: str
    mac: str | None = None


@dataclass(slots=True, eq=False)
class AuditHeadRow:
    last_seq: int
    last_hash: str
    mac: str | None = None
    bound_seq: int | None = None  # the binding checkpoint: the trail is signed from this event on


class OutboxStatus(StrEnum):
    """An outbox row's status: the one list of them (the table's column, the queue, the lists, the command line)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


@dataclass(slots=True, eq=False)
class OutboxRow:
    id: int
    message_id: str
    escalation_id: int | None
    item_id: int | None
    notice: str
    person_id: int | None
    to_addr: str
    to_name: str
    context: dict[str, Any]
    subject: str | None
    status: str
    attempts: int
    next_attempt_at: datetime
    lease_until: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    recipients: dict[str, Any] | None = None
    channel: str = "email"


@dataclass(slots=True, eq=False)
class ExtensionRow:
    id: int
    item_id: int
    step_id: int
    requested_by: str
    requested_at: datetime
    reason: str
    old_due_at: datetime
    new_date: date
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_comment: str | None


@dataclass(slots=True, eq=False)
class CalendarImportRow:
    id: int
    year: int
    source: str
    digest: str
    imported_at: datetime
    imported_by: str | None


@dataclass(slots=True, eq=False)
class LockedItem:
    """An item row-locked for a change, with what deciding on it needs from around it."""

    item: ItemRow
    step: StepRow | None
    calendar_digest: str
    last_escalation_at: datetime | None

    @property
    def last_event_at(self) -> datetime | None:
        """When the item last changed or escalated: an action may not be dated before it."""
        times = [t for t in (self.item.updated_at, self.last_escalation_at) if t is not None]
        return max(times) if times else None


@dataclass(slots=True, eq=False)
class AccountRow:
    """A person as the login sees him: his password hash."""

    person: PersonRow
    password_hash: str | None


@dataclass(slots=True, eq=False)
class ThrottleRow:
    """How logins with one name failed lately."""

    failures: int
    since: datetime
    locked_until: datetime | None


@dataclass(slots=True, eq=False)
class SessionRow:
    id: str
    person_id: int
    csrf: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    client: str | None


@dataclass(slots=True, eq=False)
class ApiTokenRow:
    id: int
    person_id: int
    digest: str
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(slots=True, eq=False)
class SubItemRow:
    """A child item handed to one unit by its parent's step, with the child's state and clocks."""

    id: int
    parent_id: int
    parent_step_id: int
    child_id: int
    unit_id: int
    unit_code: str
    unit_name: str
    position: int  # 0: the lead unit (主办)
    closed_at: datetime | None
    closed_reason: str | None
    title: str
    state: str
    template_version_id: int
    due_at: datetime | None
    yellow_at: datetime | None
    paused_at: datetime | None
    finished_at: datetime | None


@dataclass(slots=True, eq=False)
class FileRow:
    """A document given in a file field at a step (its `round`: the visit of that step's state)."""
    id: int
    item_id: int
    step_id: int
    field: str
    round: int
    name: str
    size: int
    kind: str
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
