"""Delivering the outbox: lease due messages, render and send them, record the outcome; list messages."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from notifier import render as render_module
from notifier.render import NoticeError, render
from notifier.transports import (
    DeliveryError,
    Outgoing,
    Transport,
)

from .. import caches, channels, notice_data, report_render
from ..config import Settings
from ..errors import InvalidInput, NotPermitted
from ..present import local_iso
from ..rows import OutboxRow, PersonRow
from ..store import OutboxStatus, Store, Tx
from ..store import items as item_store
from ..store import outbox as outbox_store
from . import common
from .reads.slips import Slip, issuer_of, slips_in

log = logging.getLogger("wuzhuan.delivery")
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
    channel: str = "email"  # the name of its channel (workflow.channels)


def transport_for(settings: Settings) -> Transport:
    """The e-mail transport of the settings: SMTP when a host is configured, else `.eml` files in the outbox directory."""
    return channels.channel("email").transport(settings)


def deliver_with(store: Store, now: datetime) -> Delivered:
    """deliver() with the transport and retry policy of the store's settings (the CLI and the scheduler)."""
    s = store.settings
    return deliver(store, transport_for(s), now, max_attempts=s.max_attempts, retry_base=s.retry_base_seconds,
                   retry_max=s.retry_max_seconds)


def expand(tx: Tx, store: Store, rows: list[OutboxRow]) -> dict[int, dict[str, Any]]:
    """The data each outbox row renders from: what was composed when it was queued; for a row queued by wuzhuan
    0.2.0 or earlier, which kept only its step and what could not be looked up again, composed now from the step
    as of the moment the row was queued (its created_at)."""
    stored = {r.id: r.context or {} for r in rows}
    out = {r.id: notice_data.full(c) for r in rows if notice_data.is_composed(c := stored[r.id])}
    old = [r for r in rows if r.id not in out]
    steps = item_store.steps_by_ids(tx, list({stored[r.id]["step_id"] for r in old}))
    items = item_store.items_by_ids(tx, list({s.item_id for s in steps.values()}))
    holders = item_store.holders_many(tx, list(items))
    for r in old:
        c = stored[r.id]
        step = steps.get(c["step_id"])
        if step is None:  # its step is gone: render what it has
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
                                  cal=common.calendar(tx, defn),
                                  contact_roles=contact_roles, base_url=store.settings.base_url, **extra)
        out[r.id] = notice_data.addressed(ctx, r.recipients, r.to_name, r.to_addr)
    return out


def slips_to_attach(tx: Tx, store: Store, rows: list[OutboxRow], contexts: dict[int, dict[str, Any]]) -> dict[int, Slip]:
    """Row id → the 督办单 its e-mail attaches (a rung with `attach_slip`): the slip as its audit event recorded it."""
    out: dict[int, Slip] = {}
    for r in rows:
        c = contexts[r.id]
        if r.channel != "email" or not c.get("attach_slip") or not c["slip"]["no"] or r.item_id is None:
            continue
        item = item_store.get(tx, r.item_id)
        found = next((s for s in slips_in(tx, item, issuer_of(store, tx, item)) if s.no == c["slip"]["no"]), None) if item else None
        if found is not None:
            out[r.id] = found
    return out


def slip_attachment(slip: Slip) -> tuple[tuple[str, str, bytes], ...]:
    """The slip's PDF as an e-mail attachment; none, logged, where the PDF cannot be made (no Pango): the notice
    still goes, its text and link say everything the PDF does."""
    try:
        return ((report_render.slip_file_name(slip), "application/pdf", report_render.slip_pdf(slip)),)
    except InvalidInput as e:
        log.warning("督办单 %s 未附 PDF：%s", slip.no, e)
        return ()


def outgoing(r: OutboxRow, rendered: Any) -> Outgoing:
    """What a transport sends for an outbox row, as its channel says (To and Cc of an e-mail, the URL of a webhook)."""
    return channels.channel(r.channel).outgoing(r, rendered)


def deliver(store: Store, transport: Transport, now: datetime, *, max_attempts: int = 8, retry_base: int = 60,
            retry_max: int = 3600, batch: int = 100, max_batches: int | None = None, lease: timedelta = LEASE,
            webhook: Transport | None = None, transports: dict[str, Transport] | None = None) -> Delivered:
    """Send what is due: e-mails by `transport`, webhook posts by `webhook` (default: the channel's own), any other
    registered channel's rows by `transports[name]` or else the transport its channel makes from the settings.

    A message is leased before sending, so a crash re-sends it with the same Message-ID.

    A failed message waits retry_base × 2^(attempts−1) seconds, at most retry_max, before the next try.
    """
    common.check_clock(store, now)
    notice_dir = store.settings.notice_dir
    counts = {"sent": 0, "failed": 0, "dead": 0}
    batches = 0
    given = {"email": transport, **({"webhook": webhook} if webhook else {}), **(transports or {})}
    while max_batches is None or batches < max_batches:
        with store.transaction() as tx:
            rows = outbox_store.lease(tx, now, batch, lease)
        if not rows:
            break
        batches += 1
        with store.read() as tx:
            contexts = expand(tx, store, rows)
            attach = slips_to_attach(tx, store, rows, contexts)
        outcome: dict[int, tuple[str, str | None, str | None]] = {}
        with contextlib.ExitStack() as open_transports:
            using: dict[str, Transport] = {}
            for r in rows:
                try:
                    rendered = render(r.notice, contexts[r.id], notice_dir)
                    ch = channels.channel(r.channel)
                except (NoticeError, InvalidInput) as e:
                    outcome[r.id] = ("dead", str(e), None)
                    continue
                try:
                    if ch.name not in using:  # each channel's transport, entered once a batch, only if used
                        using[ch.name] = open_transports.enter_context(given.get(ch.name) or ch.transport(store.settings))
                    out = ch.outgoing(r, rendered)
                    if r.id in attach:
                        out = replace(out, attachments=slip_attachment(attach[r.id]))
                    using[ch.name].send(out)
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
        raise InvalidInput(f"状态“{common.shown(status)}”应是 {'、'.join(s.value for s in OutboxStatus)} 之一", parameter="status")
    if not 1 <= limit <= 100_000:
        raise InvalidInput("条数应在 1 到 100000 之间", field="limit", parameter="limit")
    with store.read() as tx:
        return [_message(r) for r in outbox_store.search(tx, status, limit)]


def _message(r: OutboxRow) -> Message:
    to, cc = channels.channel(r.channel).shown(r) if r.channel in channels.CHANNELS else (f"{r.to_name} <{r.to_addr}>", "")
    return Message(r.id, r.message_id, r.item_id, r.notice, to, r.subject, r.status, r.attempts,
                   local_iso(r.next_attempt_at), r.last_error, local_iso(r.sent_at), cc, r.channel)
