"""The escalation sweep: claim each due rung once in the database and queue its notices."""

from __future__ import annotations

import os
import socket
from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import audit, people, registry
from .calendar_store import calendar_for
from .db import Store
from .deadlines import fmt, start_rung
from .errors import InvalidInput
from .escalation import decide, plan
from .models import Escalation, Item, RungStatus, Step, StepStatus
from .notices import context, enqueue, recipients


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _insert(session: Session):
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert


def _claim(session: Session, step: Step, rung: str, status: str, due: datetime, now: datetime, worker: str) -> int | None:
    """Insert the (step, rung) row; None when it exists already: someone else fired or skipped it."""
    stmt = (_insert(session)(Escalation)
            .values(step_id=step.id, item_id=step.item_id, rung=rung, status=status, due_at=due, claimed_at=now, claimed_by=worker)
            .on_conflict_do_nothing(index_elements=["step_id", "rung"]).returning(Escalation.id))
    return session.execute(stmt).scalar_one_or_none()


def _escalate(session: Session, step: Step, item: Item, now: datetime, worker: str, counts: Counter, cals: dict) -> None:
    defn = registry.definition_by_id(session, item.template_version_id)
    state = defn.states[step.state]
    cal = cals.get(defn.calendar)
    if cal is None:
        cal = cals[defn.calendar] = calendar_for(session, defn)
    urgent = start_rung(defn, item.fields)
    d = decide(plan(cal, state, step.due_at, urgent), step.next_rung, now)
    step.next_rung, step.next_escalation_at = d.next_rung, d.next_at
    if d.fire is None:
        return
    for sk in d.skipped:
        if _claim(session, step, sk.rung.name, RungStatus.SKIPPED, sk.at, now, worker) is not None:
            counts["skipped"] += 1
    esc_id = _claim(session, step, d.fire.rung.name, RungStatus.FIRED, d.fire.at, now, worker)
    if esc_id is None:
        counts["already_claimed"] += 1
        return
    counts["fired"] += 1
    holders = people.holders(session, item.id)
    rung = d.fire.rung
    to = recipients(defn, step.state, rung.notify, holders)
    skipped = [s.rung.label for s in d.skipped]
    ctx = context(defn, item, step, holders, now, contact_roles=rung.notify,
                  rung={"name": rung.name, "label": rung.label}, skipped=skipped)
    queued, missing = enqueue(session, notice=rung.notice, key=f"e{esc_id}", people=to, ctx=ctx, item_id=item.id,
                              now=now, escalation_id=esc_id)
    counts["queued"] += queued
    audit.append(session, at=now, actor="scheduler", kind="escalated", item_id=item.id, from_state=step.state,
                 to_state=step.state,
                 data={"step_id": step.id, "rung": rung.name, "label": rung.label, "due": fmt(step.due_at),
                       "rung_due": d.fire.at.isoformat(), "skipped": [s.rung.name for s in d.skipped],
                       "urgent_start": urgent, "recipients": [p.code for _l, p in to], "no_email": missing,
                       "worker": worker})


def sweep(store: Store, now: datetime, *, worker: str | None = None, batch: int = 200, max_batches: int | None = None) -> dict[str, int]:
    """Fire every rung due at `now`, in committed batches; safe to run in several processes at once.

    After downtime a step gets only its highest rung now due; the lower ones are recorded as
    skipped. Paused steps and finished items have no next escalation time and are never looked at.
    """
    if now.tzinfo is None:
        raise InvalidInput("the sweep time must carry a time zone")
    worker = worker or worker_name()
    counts: Counter = Counter()
    batches = 0
    while max_batches is None or batches < max_batches:
        with store.transaction() as s:
            q = (select(Step).where(Step.next_escalation_at <= now, Step.status == StepStatus.OPEN)
                 .order_by(Step.next_escalation_at, Step.id).limit(batch))
            if s.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            steps = s.execute(q).scalars().all()
            if not steps:
                break
            items = {i.id: i for i in s.execute(select(Item).where(Item.id.in_({st.item_id for st in steps}))).scalars()}
            cals: dict = {}
            for step in steps:
                counts["steps"] += 1
                _escalate(s, step, items[step.item_id], now, worker, counts, cals)
        batches += 1
        if len(steps) < batch:
            break
    counts["batches"] = batches
    return dict(counts)
