"""The escalation sweep: claim each due rung once in the database and queue its notices."""

from __future__ import annotations

import os
import socket
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import notice_data
from ..calendar import TZ, WorkCalendar, end_of_day, last_day, shift
from ..deadlines import start_rung
from ..definition import Definition, Rung
from ..escalation import Decision, decide, plan
from ..present import fmt
from ..store import RungStatus, Store, Tx, directory
from ..store import audit as audit_store
from ..store import escalations as esc_store
from ..store import items as item_store
from ..store import organisations as org_store
from ..store import outbox as outbox_store
from . import common


@dataclass
class Swept:
    fired: int = 0
    skipped: int = 0
    queued: int = 0
    steps: int = 0
    already_claimed: int = 0
    batches: int = 0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _batch(tx: Tx, store: Store, steps: list[Any], now: datetime, worker: str, counts: Counter) -> None:
    """Decide every step of the batch, then write claims, notices, audit events and pointers in bulk."""
    items = item_store.items_by_ids(tx, list({st.item_id for st in steps}))
    holders = item_store.holders_many(tx, list(items))
    cals: dict[str, Any] = {}
    decisions: list[tuple[Any, Any, Definition, Decision, str | None]] = []
    claims: list[dict[str, Any]] = []
    for step in steps:
        item = items[step.item_id]
        defn = common.definition(tx, item.template_version_id)
        if defn.calendar not in cals:
            cals[defn.calendar] = common.calendar(tx, defn)
        urgent = start_rung(defn, item.fields)
        d = decide(plan(cals[defn.calendar], defn.states[step.state], step.due_at, urgent, step.next_rung, now), step.next_rung, now)
        decisions.append((step, item, defn, d, urgent))
        if d.fire is not None:
            for p, status in [(sk, RungStatus.SKIPPED) for sk in d.skipped] + [(d.fire, RungStatus.FIRED)]:
                claims.append({"step_id": step.id, "item_id": step.item_id, "rung": p.rung.name, "status": status,
                               "due_at": p.at, "claimed_at": now, "claimed_by": worker})
    claimed = esc_store.claim(tx, claims)
    outbox: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    fired = [(step, item, defn, d, urgent) for step, item, defn, d, urgent in decisions
             if d.fire is not None and (step.id, d.fire.rung.name) in claimed]
    people = {p.id for _s, item, _d, _x, _u in fired for ps in holders[item.id].values() for p in ps}
    webhooks = directory.webhooks_of(tx, list(people)) if fired else {}
    for step, item, defn, d, urgent in decisions:
        counts["steps"] += 1
        if d.fire is None:
            continue
        counts["skipped"] += sum(1 for sk in d.skipped if (step.id, sk.rung.name) in claimed)
        esc_id = claimed.get((step.id, d.fire.rung.name))
        if esc_id is None:  # another process fired (or skipped) it already: never twice
            counts["already_claimed"] += 1
            continue
        counts["fired"] += 1
        rung = d.fire.rung
        to, cc = notice_data.readers(defn, step.state, rung.notify, holders[item.id])
        slip = _slip(tx, defn, cals[defn.calendar], rung, now, esc_id, item.organisation_id)
        reason = _start_reason(defn, item, urgent, rung.name)
        units = {u.id: u for _l, p in to + cc for u in webhooks.get(p.id, [])}
        rows, missing = notice_data.message_rows(notice=rung.notice, key=f"e{esc_id}", to=to, cc=cc, defn=defn, item=item,
                                                 step=step, holders=holders[item.id], now=now, settings=store.settings,
                                                 cal=cals[defn.calendar],
                                                 escalation_id=esc_id, webhooks=list(units.values()),
                                                 contact_roles=rung.notify,
                                                 rung={"name": rung.name, "label": rung.label, "meaning": rung.meaning},
                                                 slip=slip, start_reason=reason,
                                                 attach_slip=bool(rung.attach_slip and slip["no"]),
                                                 skipped=[sk.rung.label for sk in d.skipped])
        outbox += rows
        events.append({"at": now, "actor": "scheduler", "kind": "escalated", "item_id": item.id, "from_state": step.state,
                       "to_state": step.state,
                       "data": {"step_id": step.id, "rung": rung.name, "label": rung.label, "due": fmt(step.due_at),
                                "rung_due": d.fire.at.isoformat(), "skipped": [sk.rung.name for sk in d.skipped],
                                "urgent_start": urgent, "to": [p.code for _l, p in to], "cc": [p.code for _l, p in cc],
                                "no_email": missing, "worker": worker,
                                **({"slip_no": slip["no"]} if slip["no"] else {}),
                                **({"limit": slip["limit"]} if slip["limit"] else {})}})
    outbox_store.queue(tx, outbox)
    counts["queued"] += len(outbox)
    audit_store.append_many(tx, events)
    esc_store.move_pointers(tx, [(st.id, d.next_rung, d.next_at) for st, _i, _d, d, _u in decisions])


_N = "{n}"  # the number's place in a series' text (its key in slip_counters)


def _slip(tx: Tx, defn: Definition, cal: WorkCalendar, rung: Rung, now: datetime, esc_id: int,
          organisation_id: int | None) -> dict[str, str]:
    """A 督办单's number (numbered rungs) and the new 限期 it sets (rungs with a `limit`), recorded on the claim.
    Numbers count per series — the pattern with the year and the organisation's 代字 filled in — and year."""
    no = ""
    if rung.slip:
        year = now.astimezone(TZ).year
        series = defn.slip_pattern.format(year=year, org=org_store.slip_code_of(tx, organisation_id), n=_N)
        no = series.replace(_N, str(esc_store.next_slip(tx, year, series)))
    limit_at = None
    if rung.limit:  # hours from the moment it fires; days, working days and months to the end of the day they reach
        limit_at = shift(cal, now, rung.limit, "after")[0]
        if rung.limit.unit != "hours":
            limit_at = end_of_day(last_day(limit_at))
    if no or limit_at:
        esc_store.set_slip(tx, esc_id, no or None, limit_at)
    return {"no": no, "limit": fmt(limit_at) if limit_at else ""}


def _start_reason(defn: Definition, item: Any, urgent: str | None, rung: str) -> str:
    """Why an urgent item's first 督办单 is already at a higher level (its 紧急程度), "" otherwise."""
    if not urgent or urgent != rung or defn.urgency is None:
        return ""
    spec = defn.fields.get(defn.urgency.field)
    return f"{spec.label if spec else defn.urgency.field}为「{item.fields.get(defn.urgency.field)}」，按规定直接以此级别督办"


def sweep(store: Store, now: datetime, *, worker: str | None = None, batch: int = 500, max_batches: int | None = None) -> Swept:
    """Fire every rung due at `now`, in committed batches; safe to run in several processes at once.

    After downtime a step gets only its highest rung now due; the lower ones are recorded as
    skipped. Paused steps and finished items have no next escalation time and are never looked at.
    """
    common.check_clock(store, now)
    worker = worker or worker_name()
    counts: Counter = Counter()
    batches = 0
    while max_batches is None or batches < max_batches:
        with store.transaction() as tx:
            steps = esc_store.due_steps(tx, now, batch)
            if not steps:
                break
            _batch(tx, store, steps, now, worker, counts)
        batches += 1
        if len(steps) < batch:
            break
    return Swept(counts["fired"], counts["skipped"], counts["queued"], counts["steps"], counts["already_claimed"], batches)
