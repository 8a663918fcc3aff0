"""Queue notices in the outbox: the context a notice renders from, one row per recipient."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from .deadlines import fmt
from .definition import OWNER, Definition
from .models import Item, Outbox, OutboxStatus, Person, Step


def org_name() -> str:
    return os.environ.get("WUZHUAN_ORG_NAME", "市人大常委会")


def mail_domain() -> str:
    return os.environ.get("WUZHUAN_MAIL_DOMAIN", "wuzhuan.local")


def recipients(defn: Definition, step_state: str, roles: tuple[str, ...], holders: dict[str, list[Person]]) -> list[tuple[str, Person]]:
    """(role label, person) for each distinct person holding one of the roles; `owner` is the step's owner role."""
    owner = defn.states[step_state].owner
    out: dict[int, tuple[str, Person]] = {}
    for role in roles:
        real = owner if role == OWNER else role
        for p in holders.get(real or "", []):
            out.setdefault(p.id, (defn.roles.get(real, real), p))
    return list(out.values())


def context(defn: Definition, item: Item, step: Step, holders: dict[str, list[Person]], now: datetime,
            contact_roles: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
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


def outbox_rows(*, notice: str, key: str, people: list[tuple[str, Person]], ctx: dict[str, Any], item_id: int,
                now: datetime, escalation_id: int | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """One outbox row per person with an email; returns (rows, names of people without email)."""
    rows, missing = [], []
    for _label, p in people:
        if not p.email:
            missing.append(p.name)
            continue
        rows.append({
            "message_id": f"<wuzhuan.{key}.{p.id}@{mail_domain()}>", "escalation_id": escalation_id, "item_id": item_id,
            "notice": notice, "person_id": p.id, "to_addr": p.email, "to_name": p.name,
            "context": ctx | {"recipient": {"name": p.name, "email": p.email},
                              "contacts": [c for c in ctx.get("contacts", []) if c.get("email") != p.email]},
            "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now,
        })
    return rows, missing


def enqueue(session: Session, **kw: Any) -> tuple[int, list[str]]:
    """Queue outbox_rows(**kw) in the caller's transaction; returns (rows queued, people without email)."""
    rows, missing = outbox_rows(**kw)
    if rows:
        session.connection().execute(_INSERT, rows)
    return len(rows), missing


_INSERT = insert(Outbox)
