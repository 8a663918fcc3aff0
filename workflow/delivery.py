"""Delivering the outbox: lease due messages, render and send them, record the outcome; retry and list."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select

from notifier.render import NoticeError, render
from notifier.transports import (
    DeliveryError,
    FileTransport,
    MailConfig,
    Outgoing,
    SMTPTransport,
    Transport,
)

from . import audit
from .config import Settings
from .db import Store
from .errors import InvalidInput, NotFound
from .models import Outbox, OutboxStatus
from .notices import expand

LEASE = timedelta(minutes=5)


def transport_for(settings: Settings) -> Transport:
    """SMTP when a host is configured, else `.eml` files in the outbox directory."""
    cfg = MailConfig(sender=settings.mail_from, sender_name=settings.mail_from_name)
    if settings.smtp_host:
        return SMTPTransport(settings.smtp_host, settings.smtp_port, settings.smtp_security, settings.smtp_user,
                             settings.smtp_password, cfg=cfg)
    return FileTransport(Path(settings.outbox_dir), cfg=cfg)


def deliver_with(store: Store, settings: Settings, now: datetime) -> dict[str, int]:
    """deliver() with the transport and retry policy from the settings (the CLI and the scheduler)."""
    return deliver(store, transport_for(settings), now, max_attempts=settings.max_attempts,
                   retry_base=settings.retry_base_seconds, retry_max=settings.retry_max_seconds, notice_dir=settings.notice_dir)


def _lease(store: Store, now: datetime, batch: int, lease: timedelta = LEASE) -> list[Outbox]:
    with store.transaction() as s:
        q = (select(Outbox)
             .where(or_(and_(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= now),
                        and_(Outbox.status == OutboxStatus.SENDING, Outbox.lease_until <= now)))
             .order_by(Outbox.id).limit(batch).with_for_update(skip_locked=True))
        rows = s.execute(q).scalars().all()
        for r in rows:
            r.status, r.lease_until = OutboxStatus.SENDING, now + lease
        return rows


def deliver(store: Store, transport: Transport, now: datetime, *, max_attempts: int = 8, retry_base: int = 60,
            retry_max: int = 3600, batch: int = 100, notice_dir: str | None = None,
            max_batches: int | None = None, lease: timedelta = LEASE) -> dict[str, int]:
    """Send what is due. A message is leased before sending, so a crash re-sends it with the same Message-ID.

    A failed message waits retry_base × 2^(attempts−1) seconds, at most retry_max, before the next try.
    """
    counts = {"sent": 0, "failed": 0, "dead": 0}
    batches = 0
    while max_batches is None or batches < max_batches:
        rows = _lease(store, now, batch, lease)
        if not rows:
            break
        batches += 1
        with store.read() as s:
            contexts = expand(s, rows)
        outcome: dict[int, tuple[str, str | None, str | None]] = {}
        with transport:
            for r in rows:
                try:
                    rendered = render(r.notice, contexts[r.id], notice_dir)
                except NoticeError as e:
                    outcome[r.id] = ("dead", str(e), None)
                    continue
                try:
                    transport.send(Outgoing(r.message_id, r.to_addr, r.to_name, rendered.subject, rendered.text,
                                            rendered.html, r.created_at))
                    outcome[r.id] = ("sent", None, rendered.subject)
                except DeliveryError as e:
                    outcome[r.id] = ("failed", str(e), rendered.subject)
                except Exception as e:  # whatever a transport raises fails this message, never the batch
                    outcome[r.id] = ("failed", f"{type(e).__name__}: {e}", rendered.subject)
        with store.transaction() as s:
            for r in s.execute(select(Outbox).where(Outbox.id.in_(list(outcome)))).scalars():
                what, error, subject = outcome[r.id]
                r.subject = subject or r.subject
                r.lease_until = None
                r.attempts += 1
                if what == "sent":
                    r.status, r.sent_at, r.last_error = OutboxStatus.SENT, now, None
                    counts["sent"] += 1
                    continue
                r.last_error = error
                if what == "dead" or r.attempts >= max_attempts:
                    r.status = OutboxStatus.DEAD
                    counts["dead"] += 1
                else:
                    r.status = OutboxStatus.PENDING
                    r.next_attempt_at = now + timedelta(seconds=min(retry_max, retry_base * 2 ** min(r.attempts - 1, 30)))
                    counts["failed"] += 1
        if len(rows) < batch:
            break
    return counts


def list_outbox(store: Store, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    if status is not None and status not in {s.value for s in OutboxStatus}:
        raise InvalidInput(f"status '{status}' is not one of {', '.join(s.value for s in OutboxStatus)}")
    with store.read() as s:
        q = select(Outbox).order_by(Outbox.id.desc()).limit(limit)
        if status:
            q = q.where(Outbox.status == status)
        return [{"id": r.id, "message_id": r.message_id, "item": r.item_id, "notice": r.notice, "to": f"{r.to_name} <{r.to_addr}>",
                 "subject": r.subject, "status": r.status, "attempts": r.attempts,
                 "next_attempt_at": r.next_attempt_at.isoformat(), "last_error": r.last_error,
                 "sent_at": r.sent_at.isoformat() if r.sent_at else None}
                for r in s.execute(q).scalars()]


def retry(store: Store, now: datetime, ids: list[int] | None = None, actor: str | None = None) -> int:
    """Revive dead messages (given ids, or all dead ones): pending again, attempts reset."""
    with store.transaction() as s:
        q = select(Outbox).where(Outbox.status == OutboxStatus.DEAD)
        if ids:
            found = s.execute(select(Outbox).where(Outbox.id.in_(ids))).scalars().all()
            missing = set(ids) - {r.id for r in found}
            if missing:
                raise NotFound(f"no outbox message {', '.join(map(str, sorted(missing)))}")
            not_dead = [r.id for r in found if r.status != OutboxStatus.DEAD]
            if not_dead:
                raise InvalidInput(f"message(s) {', '.join(map(str, not_dead))} are not dead; only dead messages are retried")
            q = q.where(Outbox.id.in_(ids))
        rows = s.execute(q).scalars().all()
        for r in rows:
            r.status, r.attempts, r.next_attempt_at, r.last_error = OutboxStatus.PENDING, 0, now, None
        if rows:
            audit.append(s, at=now, actor=actor, kind="outbox_retried", data={"messages": [r.id for r in rows]})
        return len(rows)
