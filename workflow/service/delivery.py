"""Delivering the outbox: lease due messages, render and send them, record the outcome; list messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from notifier import render as render_module
from notifier.render import NoticeError, render
from notifier.transports import (
    DeliveryError,
    FileTransport,
    MailConfig,
    Outgoing,
    SMTPTransport,
    Transport,
    WebhookTransport,
)

from .. import caches, notice_data
from ..config import Settings
from ..errors import InvalidInput, NotPermitted
from ..present import local_iso
from ..rows import OutboxRow, PersonRow
from ..store import OutboxStatus, Store, Tx
from ..store import items as item_store
from ..store import outbox as outbox_store
from . import common

LEASE = timedelta(minutes=5)
caches.register("notice_environments", render_module.environment)  # the notifier keeps its Jinja2 environments


@dataclass
class Delivered:
    sent: int = 0
    failed: int = 0
    dead: int = 0


@dataclass
class Message:
    id: int
    message_id: str
    item: int | None
    notice: str
    to: str
    subject: str | None
    status: str
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    sent_at: str | None
    cc: str = ""  # those informed (抄送), by name
    channel: str = "email"  # email | webhook


def transport_for(settings: Settings) -> Transport:
    """SMTP when a host is configured, else `.eml` files in the outbox directory."""
    cfg = MailConfig(sender=settings.mail_from, sender_name=settings.mail_from_name)  # Date headers in Asia/Shanghai
    if settings.smtp_host:
        return SMTPTransport(settings.smtp_host, settings.smtp_port, settings.smtp_security, settings.smtp_user,
                             settings.smtp_password, cfg=cfg)
    return FileTransport(Path(settings.outbox_dir), cfg=cfg)


def deliver_with(store: Store, now: datetime) -> Delivered:
    """deliver() with the transport and retry policy of the store's settings (the CLI and the scheduler)."""
    s = store.settings
    return deliver(store, transport_for(s), now, max_attempts=s.max_attempts, retry_base=s.retry_base_seconds,
                   retry_max=s.retry_max_seconds)


def expand(tx: Tx, store: Store, rows: list[OutboxRow]) -> dict[int, dict[str, Any]]:
    """The full notice data for each outbox row, as of the moment it was queued (its created_at)."""
    stored = {r.id: r.context or {} for r in rows}
    steps = item_store.steps_by_ids(tx, list({c["step_id"] for c in stored.values() if "step_id" in c}))
    items = item_store.items_by_ids(tx, list({s.item_id for s in steps.values()}))
    holders = item_store.holders_many(tx, list(items))
    out = {}
    for r in rows:
        c = stored[r.id]
        step = steps.get(c.get("step_id"))
        if step is None:  # a row queued with its full data (or one whose step is gone): render what it has
            out[r.id] = c
            continue
        item = items[step.item_id]
        # a notice about a step visited before a live migration renamed its state: that state's version words it
        defn = common.definition_with_state(tx, item.template_version_id, item.template_key, step.state)
        rung = c.get("rung") or {"name": "", "label": ""}
        ladder = {x.name: x for x in defn.states[step.state].ladder}
        contact_roles = ladder[rung.get("name")].notify if rung.get("name") in ladder else ()
        extra = {k: v for k, v in c.items() if k != "step_id"}
        if rung.get("name") in ladder:  # a row queued before a rung's words were stored with it: the template's
            known = ladder[rung["name"]]
            extra["rung"] = {"label": known.label, "meaning": known.meaning} | rung
        ctx = notice_data.context(defn, item, step, holders[item.id], r.created_at, org=store.settings.org_name,
                                  contact_roles=contact_roles, base_url=store.settings.base_url, **extra)
        readers = r.recipients or {"to": [[r.to_name, r.to_addr, ctx["step"]["owner_role"]]], "cc": []}
        ctx["to"] = [{"name": n, "email": e, "role": role} for n, e, role in readers.get("to", [])]
        ctx["cc"] = [{"name": n, "email": e, "role": role} for n, e, role in readers.get("cc", [])]
        ctx["recipient"] = {"name": notice_data.names(ctx["to"]) or r.to_name, "email": r.to_addr}
        addressed = {x["email"] for x in ctx["to"] + ctx["cc"]} | {r.to_addr}
        ctx["contacts"] = [x for x in ctx["contacts"] if x.get("email") not in addressed]
        out[r.id] = ctx
    return out


def outgoing(r: OutboxRow, rendered: Any) -> Outgoing:
    """What a transport sends for an outbox row: To and Cc of an e-mail, the URL of a webhook."""
    readers = r.recipients or {}
    if r.channel == "webhook":
        return Outgoing(r.message_id, readers.get("url") or r.to_addr, r.to_name, rendered.subject, rendered.text,
                        rendered.html, r.created_at)
    return Outgoing(r.message_id, r.to_addr, r.to_name, rendered.subject, rendered.text, rendered.html, r.created_at,
                    to=tuple((n, e) for n, e, _r in readers.get("to", [])), cc=tuple((n, e) for n, e, _r in readers.get("cc", [])))


def deliver(store: Store, transport: Transport, now: datetime, *, max_attempts: int = 8, retry_base: int = 60,
            retry_max: int = 3600, batch: int = 100, max_batches: int | None = None, lease: timedelta = LEASE,
            webhook: Transport | None = None) -> Delivered:
    """Send what is due: e-mails by `transport`, webhook posts by `webhook` (default: WebhookTransport()).

    A message is leased before sending, so a crash re-sends it with the same Message-ID.

    A failed message waits retry_base × 2^(attempts−1) seconds, at most retry_max, before the next try.
    """
    common.check_clock(store, now)
    notice_dir = store.settings.notice_dir
    counts = {"sent": 0, "failed": 0, "dead": 0}
    batches = 0
    webhook = webhook or WebhookTransport()
    while max_batches is None or batches < max_batches:
        with store.transaction() as tx:
            rows = outbox_store.lease(tx, now, batch, lease)
        if not rows:
            break
        batches += 1
        with store.read() as tx:
            contexts = expand(tx, store, rows)
        outcome: dict[int, tuple[str, str | None, str | None]] = {}
        with transport, webhook:
            for r in rows:
                try:
                    rendered = render(r.notice, contexts[r.id], notice_dir)
                except NoticeError as e:
                    outcome[r.id] = ("dead", str(e), None)
                    continue
                try:
                    (webhook if r.channel == "webhook" else transport).send(outgoing(r, rendered))
                    outcome[r.id] = ("sent", None, rendered.subject)
                except DeliveryError as e:
                    outcome[r.id] = ("failed", str(e), rendered.subject)
                except Exception as e:  # whatever a transport raises fails this message, never the batch
                    outcome[r.id] = ("failed", f"{type(e).__name__}: {e}", rendered.subject)
        with store.transaction() as tx:
            for r in outbox_store.by_ids(tx, list(outcome)):
                what, error, subject = outcome[r.id]
                attempts = r.attempts + 1
                values: dict[str, Any] = {"subject": subject or r.subject, "lease_until": None, "attempts": attempts}
                if what == "sent":
                    values.update(status=OutboxStatus.SENT, sent_at=now, last_error=None)
                    counts["sent"] += 1
                elif what == "dead" or attempts >= max_attempts:
                    values.update(status=OutboxStatus.DEAD, last_error=error)
                    counts["dead"] += 1
                else:
                    wait = min(retry_max, retry_base * 2 ** min(attempts - 1, 30))
                    values.update(status=OutboxStatus.PENDING, last_error=error, next_attempt_at=now + timedelta(seconds=wait))
                    counts["failed"] += 1
                outbox_store.record(tx, r.id, **values)
        if len(rows) < batch:
            break
    return Delivered(**counts)


def list_outbox(store: Store, status: str | None = None, limit: int = 50, *, viewer: PersonRow | None = None) -> list[Message]:
    """Messages, newest first. `viewer`: the person on the workbench, who must be an administrator (the notices name
    every person and address); None is the operator at the server's shell, who can read the database anyway."""
    if viewer is not None and not viewer.admin:
        raise NotPermitted("发件箱仅管理员可见。", viewer=viewer.code)
    if status is not None and status not in {s.value for s in OutboxStatus}:
        raise InvalidInput(f"status '{status}' is not one of {', '.join(s.value for s in OutboxStatus)}")
    if not 1 <= limit <= 100_000:
        raise InvalidInput("条数应在 1 到 100000 之间", field="limit", parameter="limit")
    with store.read() as tx:
        return [Message(r.id, r.message_id, r.item_id, r.notice, _to(r), r.subject, r.status,
                        r.attempts, local_iso(r.next_attempt_at), r.last_error, local_iso(r.sent_at),
                        "、".join(c[0] for c in (r.recipients or {}).get("cc", [])) if r.channel == "email" else "", r.channel)
                for r in outbox_store.search(tx, status, limit)]


def _to(r: OutboxRow) -> str:
    if r.channel == "webhook":
        return f"{r.to_name} <{(r.recipients or {}).get('url') or r.to_addr}>"
    to = (r.recipients or {}).get("to") or [[r.to_name, r.to_addr, ""]]
    return "、".join(f"{n} <{e}>" for n, e, *_ in to)
