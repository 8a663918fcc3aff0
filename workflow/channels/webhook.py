"""Webhooks: one JSON post per notice to each unit's robot (钉钉, 企业微信), the unit's `webhook` in the people file."""

from __future__ import annotations

from typing import Any

from notifier.transports import Outgoing, Transport, WebhookTransport

from ..config import Settings
from ..rows import OutboxRow
from .base import Addressed, Channel, Reader, cut, entries


def address(to: list[Reader], cc: list[Reader], units) -> list[Addressed]:
    readers = {"to": entries(to), "cc": entries(cc)}
    return [Addressed(f".u{u.id}", u.webhook_url[:200], cut(u.name), readers | {"url": u.webhook_url})
            for u in units if u.webhook_url]


def outgoing(r: OutboxRow, rendered: Any) -> Outgoing:
    url = (r.recipients or {}).get("url") or r.to_addr
    return Outgoing(r.message_id, url, r.to_name, rendered.subject, rendered.text, rendered.html, r.created_at)


def transport(settings: Settings) -> Transport:
    return WebhookTransport()


def shown(r: OutboxRow) -> tuple[str, str]:
    return f"{r.to_name} <{(r.recipients or {}).get('url') or r.to_addr}>", ""


CHANNEL = Channel("webhook", "群机器人", address, outgoing, transport, shown)
