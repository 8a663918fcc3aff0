"""What a notice channel is: whom a notice goes to by it, what its transport sends, and how the outbox shows it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from notifier.transports import Outgoing, Transport

from ..config import Settings
from ..rows import Holder, OutboxRow, UnitRow

Reader = tuple[str, Holder]  # (role label, person)


@dataclass(frozen=True)
class Addressed:
    """One outbox row a channel makes of a notice."""

    key_suffix: str  # added to the notice's Message-ID key: "" for the one e-mail, ".u7" for unit 7's robot
    to_addr: str  # where it goes: an address, a URL, a file
    to_name: str  # whom it goes to, as the outbox shows it
    recipients: dict[str, Any]  # the readers ({"to": [[name, address, role]], "cc": …}) and anything the channel keeps
    person_id: int | None = None  # the person it is addressed to, if one


@dataclass(frozen=True)
class Channel:
    """A channel: its name (stored with each outbox row), its address rule, what it sends and its transport.

    - `address(to, cc, units)`: the rows a notice makes, from its readers (those who must act, those informed)
      and the units of the item that have a channel address of their own;
    - `outgoing(row, rendered)`: what the transport sends for a queued row, rendered (subject, text, html);
    - `transport(settings)`: the transport, from the settings in force (entered once per delivery batch);
    - `shown(row)`: (to, cc) as the outbox list shows them.
    """

    name: str
    label: str
    address: Callable[[Sequence[Reader], Sequence[Reader], Sequence[UnitRow]], list[Addressed]]
    outgoing: Callable[[OutboxRow, Any], Outgoing]
    transport: Callable[[Settings], Transport]
    shown: Callable[[OutboxRow], tuple[str, str]]


def entries(readers: Sequence[Reader]) -> list[list[str]]:
    """Readers as stored with a row: [name, address, role label]."""
    return [[p.name, p.email or "", label] for label, p in readers]


def cut(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
