"""E-mail: one message per notice, To those who must act, Cc those informed; SMTP, or .eml files without a host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from notifier.transports import FileTransport, MailConfig, Outgoing, SMTPTransport, Transport

from ..config import Settings
from ..rows import OutboxRow
from .base import Addressed, Channel, Reader, cut, entries


def address(to: list[Reader], cc: list[Reader], units) -> list[Addressed]:
    to_mail = [r for r in entries(to) if r[1]]
    cc_mail = [r for r in entries(cc) if r[1] and r[1] not in {t[1] for t in to_mail}]
    if not to_mail:  # nobody who must act has an address: those informed still are
        to_mail, cc_mail = cc_mail, []
    if not to_mail:
        return []
    first = next(p.id for _l, p in list(to) + list(cc) if p.email == to_mail[0][1])
    return [Addressed("", to_mail[0][1], cut("、".join(r[0] for r in to_mail)), {"to": to_mail, "cc": cc_mail}, first)]


def outgoing(r: OutboxRow, rendered: Any) -> Outgoing:
    readers = r.recipients or {}
    return Outgoing(r.message_id, r.to_addr, r.to_name, rendered.subject, rendered.text, rendered.html, r.created_at,
                    to=tuple((n, e) for n, e, _r in readers.get("to", [])), cc=tuple((n, e) for n, e, _r in readers.get("cc", [])))


def transport(settings: Settings) -> Transport:
    """SMTP when a host is configured, else `.eml` files in the outbox directory."""
    cfg = MailConfig(sender=settings.mail_from, sender_name=settings.mail_from_name)  # Date headers in Asia/Shanghai
    if settings.smtp_host:
        return SMTPTransport(settings.smtp_host, settings.smtp_port, settings.smtp_security, settings.smtp_user,
                             settings.smtp_password, cfg=cfg)
    return FileTransport(Path(settings.outbox_dir), cfg=cfg)


def shown(r: OutboxRow) -> tuple[str, str]:
    readers = r.recipients or {}
    to = readers.get("to") or [[r.to_name, r.to_addr, ""]]
    return "、".join(f"{n} <{e}>" for n, e, *_ in to), "、".join(c[0] for c in readers.get("cc", []))


CHANNEL = Channel("email", "电子邮件", address, outgoing, transport, shown)
