"""The escalation sweep: claim each due rung once in the database and queue its notices."""

from __future__ import annotations

import os
import socket
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import audit, people, registry
from .calendar_store import calendar_for
from .db import Store, connection_of
from .deadlines import fmt, start_rung
from .definition import Definition
from .driver import insert_rows
from .errors import InvalidInput
from .escalation import Decision, decide, plan
from .models import Escalation, Item, Outbox, RungStatus, Step, StepStatus
from .notices import outbox_rows, recipients


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


_CLAIM_COLS = ("step_id", "item_id", "rung", "status", "due_at", "claimed_at", "claimed_by")
_RETURN = (Escalation.id, Escalation.step_id, Escalation.rung)
# SQLite: one multi-row INSERT per batch (SQLAlchemy's insertmanyvalues).
_CLAIM_SQLITE = sqlite.insert(Escalation).on_conflict_do_nothing(index_elements=["step_id", "rung"]).returning(*_RETURN)
# PostgreSQL: the batch as one array per column, unnested into rows: one statement with seven
# parameters instead of seven per claim (measured: 43 → 19 µs a claim).
_CLAIM_PG = (postgresql.insert(Escalation)
             .from_select(_CLAIM_COLS, select(func.unnest(*[bindparam(c, type_=postgresql.ARRAY(Escalation.__table__.c[c].type))
                                                            for c in _CLAIM_COLS]).table_valued(*_CLAIM_COLS).render_derived()))
             .on_conflict_do_nothing(index_elements=["step_id", "rung"]).returning(*_RETURN))


def _claim(conn, claims: list[dict[str, Any]]) -> dict[tuple[int, str], int]:
    """Insert the claims that nobody made before; {(step id, rung): escalation id} for those only."""
    if not claims:
        return {}
    if conn.dialect.name == "postgresql":
        rows = conn.execute(_CLAIM_PG, {c: [cl[c] for cl in claims] for c in _CLAIM_COLS})
    else:
        rows = conn.execute(_CLAIM_SQLITE, claims)
    return {(r.step_id, r.rung): r.id for r in rows}


_ITEMS = select(Item.id, Item.title, Item.fields, Item.template_version_id).where(Item.id.in_(bindparam("ids", expanding=True)))
_MOVE = (update(Step).where(Step.id == bindparam("sid"))
         .values(next_rung=bindparam("nr"), next_escalation_at=bindparam("na")))


def _batch(s: Session, steps: list[Any], now: datetime, worker: str, counts: Counter) -> None:
    """Decide every step of the batch, then write claims, notices, audit events and pointers in bulk."""
    conn = connection_of(s)
    items = {i.id: i for i in conn.execute(_ITEMS, {"ids": list({st.item_id for st in steps})})}
    holders = people.holders_many(s, list(items))
    cals: dict[str, Any] = {}
    decisions: list[tuple[Any, Any, Definition, Decision, str | None]] = []
    claims: list[dict[str, Any]] = []
    for step in steps:
        item = items[step.item_id]
        defn = registry.definition_by_id(s, item.template_version_id)
        if defn.calendar not in cals:
            cals[defn.calendar] = calendar_for(s, defn)
        urgent = start_rung(defn, item.fields)
        d = decide(plan(cals[defn.calendar], defn.states[step.state], step.due_at, urgent, step.next_rung, now), step.next_rung, now)
        decisions.append((step, item, defn, d, urgent))
        if d.fire is not None:
            for p, status in [(sk, RungStatus.SKIPPED) for sk in d.skipped] + [(d.fire, RungStatus.FIRED)]:
                claims.append({"step_id": step.id, "item_id": step.item_id, "rung": p.rung.name, "status": status,
                               "due_at": p.at, "claimed_at": now, "claimed_by": worker})
    claimed = _claim(conn, claims)
    outbox: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
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
        to = recipients(defn, step.state, rung.notify, holders[item.id])
        rows, missing = outbox_rows(notice=rung.notice, key=f"e{esc_id}", people=to, step_id=step.id, item_id=item.id, now=now,
                                    escalation_id=esc_id, rung={"name": rung.name, "label": rung.label},
                                    skipped=[sk.rung.label for sk in d.skipped])
        outbox += rows
        events.append({"at": now, "actor": "scheduler", "kind": "escalated", "item_id": item.id, "from_state": step.state,
                       "to_state": step.state,
                       "data": {"step_id": step.id, "rung": rung.name, "label": rung.label, "due": fmt(step.due_at),
                                "rung_due": d.fire.at.isoformat(), "skipped": [sk.rung.name for sk in d.skipped],
                                "urgent_start": urgent, "recipients": [p.code for _l, p in to], "no_email": missing,
                                "worker": worker}})
    insert_rows(conn, Outbox.__table__, outbox)
    counts["queued"] += len(outbox)
    audit.append_many(s, events)
    conn.execute(_MOVE, [{"sid": st.id, "nr": d.next_rung, "na": d.next_at} for st, _i, _d, d, _u in decisions])


def sweep(store: Store, now: datetime, *, worker: str | None = None, batch: int = 500, max_batches: int | None = None) -> dict[str, int]:
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
            q = (select(Step.id, Step.item_id, Step.state, Step.due_at, Step.due_rule, Step.entered_at, Step.next_rung)
                 .where(Step.next_escalation_at <= now, Step.status == StepStatus.OPEN)
                 .order_by(Step.next_escalation_at, Step.id).limit(batch).with_for_update(skip_locked=True))
            steps = connection_of(s).execute(q).all()
            if not steps:
                break
            _batch(s, steps, now, worker, counts)
        batches += 1
        if len(steps) < batch:
            break
    counts["batches"] = batches
    return dict(counts)
