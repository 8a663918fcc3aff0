"""The 通报 digest: the period's board and red items, queued once per period to the council."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from ... import notice_data
from ...calendar import TZ
from ...present import fmt
from ...scorecard import Scorecard
from ...store import Store, Tx, directory
from ...store import audit as audit_store
from ...store import items as item_store
from ...store import outbox as outbox_store
from ...store import reports as report_store
from .. import common
from .basis import card_of
from .board import board_in


@dataclass
class DigestSent:
    period: str
    sent: bool
    messages: int
    reason: str = ""


def period_of(card: Scorecard, now: datetime) -> tuple[str, date]:
    """The digest period `now` falls in ("2026-W05" or "2026-03") and the first day it may be sent."""
    d = now.astimezone(TZ).date()
    if card.digest_every == "month":
        first = d.replace(day=1)
        return f"{d.year}-{d.month:02d}", first
    iso = d.isocalendar()
    monday = d - timedelta(days=iso.weekday - 1)
    return f"{iso.year}-W{iso.week:02d}", monday + timedelta(days=card.digest_weekday - 1)


def send_digest(store: Store, now: datetime, card_path: str | Path | None = None) -> DigestSent:
    """Queue this period's 通报 to the council and office, once per period: the `digests` row is the claim (as an
    escalation row is for a rung), and the board, the red items and the rank changes go in the message."""
    card = card_of(card_path)
    common.check_now(now)
    period, first = period_of(card, now)
    if now.astimezone(TZ).date() < first:
        return DigestSent(period, False, 0, f"not before {first}")
    day = now.astimezone(TZ).date()
    back = day - (timedelta(days=7) if card.digest_every == "week" else timedelta(days=30))
    with store.transaction() as tx:
        if period in {p for p, _a, _n in report_store.digests(tx, card.key)}:
            return DigestSent(period, False, 0, "sent already")
        b = board_in(tx, card, day, back if back.year == day.year else None)
        red = _red_items(tx, card, now, store.settings.base_url)
        readers = directory.people_with_roles(tx, list(card.digest_to))
        to = [(label, p) for label, p in readers if p.email]
        ctx = {"digest": {"title": card.title, "period": period, "as_of": b.as_of, "previous": b.previous,
                          "rows": [{"rank": r.rank, "previous_rank": r.previous_rank, "change": r.change, "unit": r.unit_name,
                                    "score": r.score, "colour": r.colour_label} for r in b.rows],
                          "moved": [{"unit": r.unit_name, "change": r.change} for r in b.rows if r.change],
                          "red": red},
               "recipient": {"name": "、".join(p.name for _l, p in to), "email": to[0][1].email if to else ""},
               "org": store.settings.org_name, "base_url": store.settings.base_url or ""}
        rows = notice_data.outbox_rows(notice="digest", key=f"digest.{card.key}.{period}", to=to, cc=[], now=now,
                                       domain=store.settings.message_domain, context=ctx, only=("email",))
        if not report_store.claim_digest(tx, card.key, period, now, len(rows)):
            return DigestSent(period, False, 0, "sent already (by another process)")
        outbox_store.queue(tx, rows)
        audit_store.append(tx, at=now, actor=None, kind="digest_queued",
                           data={"scorecard": card.key, "period": period, "messages": len(rows), "red_items": len(red)})
    return DigestSent(period, True, len(rows), "" if rows else "nobody to send it to has an e-mail address")


def _red_items(tx: Tx, card: Scorecard, now: datetime, base_url: str | None) -> list[dict[str, Any]]:
    out = []
    for key in card.templates:
        for brief, group in item_store.search(tx, now, template=key, light="red", limit=200,
                                                 spawning=common.spawning(tx)):
            defn = common.definition(tx, brief.template_version_id)
            out.append({"id": brief.id, "title": brief.title, "group": group or "", "due": fmt(brief.due_at),
                        "state": defn.states[brief.state].label if brief.state in defn.states else brief.state,
                        "link": notice_data.item_link(base_url, brief.id)})
    return out
