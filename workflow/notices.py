"""Queue notices in the outbox, and rebuild the data a notice renders from when it is delivered.

An outbox row keeps only what cannot be looked up again (step, rung, skipped rungs, who handed
over, comment); the rest of the notice's data is read from the step, the item and its role holders
at delivery. A queued row costs a few hundred bytes instead of a rendered copy of the notice.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from . import people, registry
from .db import connection_of
from .deadlines import fmt
from .definition import OWNER, Definition
from .driver import Prepared
from .models import Item, Outbox, OutboxStatus, Step
from .people import Holder


def org_name() -> str:
    return os.environ.get("WUZHUAN_ORG_NAME", "市人大常委会")


def mail_domain() -> str:
    return os.environ.get("WUZHUAN_MAIL_DOMAIN", "wuzhuan.local")


def recipients(defn: Definition, step_state: str, roles: tuple[str, ...], holders: dict[str, list[Holder]]) -> list[tuple[str, Holder]]:
    """(role label, person) for each distinct person holding one of the roles; `owner` is the step's owner role."""
    owner = defn.states[step_state].owner
    out: dict[int, tuple[str, Holder]] = {}
    for role in roles:
        real = owner if role == OWNER else role
        for p in holders.get(real or "", []):
            out.setdefault(p.id, (defn.roles.get(real, real), p))
    return list(out.values())


def context(defn: Definition, item: Any, step: Any, holders: dict[str, list[Holder]], now: datetime,
            contact_roles: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    """The data every notice renders from (see notifier.render.sample_context for its shape)."""
    state = defn.states[step.state]
    owners = [p.name for p in holders.get(state.owner or "", [])]
    contacts = [{"name": p.name, "email": p.email or "", "role": label}
                for label, p in recipients(defn, step.state, tuple(r for r in contact_roles if r not in (OWNER, state.owner)), holders)]
    late = (now - step.due_at).days if step.due_at and now > step.due_at else 0
    left = (step.due_at - now).days if step.due_at and now < step.due_at else 0
    urgency = item.fields.get(defn.urgency.field, "") if defn.urgency else ""
    return {
        "org": org_name(),
        "item": {"id": item.id, "title": item.title, "template": defn.title, "urgency": urgency},
        "step": {"name": step.state, "label": state.label, "owner_role": defn.roles.get(state.owner or "", "—"),
                 "owners": owners, "entered": fmt(step.entered_at), "due": fmt(step.due_at), "due_rule": step.due_rule or "无时限"},
        "rung": {"name": "", "label": ""}, "days_late": late, "days_left": left,
        "actions": [t.label for t in defn.transitions_from(step.state)], "contacts": contacts,
        "skipped": [], "handed_by": "", "comment": "",
    } | extra


def outbox_rows(*, notice: str, key: str, people: list[tuple[str, Holder]], step_id: int, item_id: int, now: datetime,
                escalation_id: int | None = None, **extra: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """One outbox row per person with an email; returns (rows, names of people without email).

    `extra` (rung, skipped, handed_by, comment) is stored with the row; see expand().
    """
    rows, missing = [], []
    domain = mail_domain()
    for _label, p in people:
        if not p.email:
            missing.append(p.name)
            continue
        rows.append({
            "message_id": f"<wuzhuan.{key}.{p.id}@{domain}>", "escalation_id": escalation_id, "item_id": item_id,
            "notice": notice, "person_id": p.id, "to_addr": p.email, "to_name": p.name,
            "context": {"step_id": step_id, **extra},
            "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now,
        })
    return rows, missing


_INSERT = Prepared(insert(Outbox).values({c: bindparam(c) for c in (
    "message_id", "escalation_id", "item_id", "notice", "person_id", "to_addr", "to_name", "context", "status", "attempts",
    "next_attempt_at", "created_at")}))


def enqueue(session: Session, **kw: Any) -> tuple[int, list[str]]:
    """Queue outbox_rows(**kw) in the caller's transaction; returns (rows queued, people without email)."""
    rows, missing = outbox_rows(**kw)
    conn = connection_of(session)
    for row in rows:  # one or two people a handover: a prepared INSERT each beats executemany's set-up
        _INSERT.run(conn, row)
    return len(rows), missing


def expand(session: Session, rows: list[Outbox]) -> dict[int, dict[str, Any]]:
    """The full notice data for each outbox row, as of the moment it was queued (its created_at)."""
    stored = {r.id: r.context or {} for r in rows}
    step_ids = {c["step_id"] for c in stored.values() if "step_id" in c}
    steps = {s.id: s for s in session.execute(select(Step).where(Step.id.in_(step_ids or [-1]))).scalars()}
    items = {i.id: i for i in session.execute(select(Item).where(Item.id.in_({s.item_id for s in steps.values()} or [-1]))).scalars()}
    holders = people.holders_many(session, list(items))
    out = {}
    for r in rows:
        c = stored[r.id]
        step = steps.get(c.get("step_id"))
        if step is None:  # a row queued with its full data (or one whose step is gone): render what it has
            out[r.id] = c
            continue
        item = items[step.item_id]
        defn = registry.definition_by_id(session, item.template_version_id)
        rung = c.get("rung") or {"name": "", "label": ""}
        ladder = {x.name: x for x in defn.states[step.state].ladder}
        contact_roles = ladder[rung["name"]].notify if rung["name"] in ladder else ()
        extra = {k: v for k, v in c.items() if k != "step_id"}
        ctx = context(defn, item, step, holders[item.id], r.created_at, contact_roles=contact_roles, **extra)
        ctx["recipient"] = {"name": r.to_name, "email": r.to_addr}
        ctx["contacts"] = [x for x in ctx["contacts"] if x.get("email") != r.to_addr]
        out[r.id] = ctx
    return out
