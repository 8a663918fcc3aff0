"""What a notice says and to whom, pure: recipients of a rung, the data a notice renders from, outbox rows.

An outbox row keeps only what cannot be looked up again (step, rung, skipped rungs, who handed
over, comment); the rest of the notice's data is rebuilt from the step, the item and its role
holders at delivery. A queued row costs a few hundred bytes instead of a rendered copy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .definition import OWNER, Definition
from .present import fmt
from .rows import Holder

PENDING = "pending"


def recipients(defn: Definition, step_state: str, roles: tuple[str, ...], holders: dict[str, list[Holder]]) -> list[tuple[str, Holder]]:
    """(role label, person) for each distinct active person holding one of the roles; `owner` is the step's owner role."""
    owner = defn.states[step_state].owner
    out: dict[int, tuple[str, Holder]] = {}
    for role in roles:
        real = owner if role == OWNER else role
        for p in holders.get(real or "", []):
            if p.active:
                out.setdefault(p.id, (defn.roles.get(real, real), p))
    return list(out.values())


def item_link(base_url: str | None, item_id: int) -> str:
    """The item's page on the workbench, or "" when no base_url is set."""
    return f"{base_url.rstrip('/')}/items/{item_id}" if base_url else ""


def context(defn: Definition, item: Any, step: Any, holders: dict[str, list[Holder]], now: datetime, *, org: str,
            contact_roles: tuple[str, ...] = (), base_url: str | None = None, **extra: Any) -> dict[str, Any]:
    """The data every notice renders from (see notifier.render.sample_context for its shape)."""
    state = defn.states[step.state]
    owners = [p.name for p in holders.get(state.owner or "", [])]
    contacts = [{"name": p.name, "email": p.email or "", "role": label}
                for label, p in recipients(defn, step.state, tuple(r for r in contact_roles if r not in (OWNER, state.owner)), holders)]
    late = (now - step.due_at).days if step.due_at and now > step.due_at else 0
    left = (step.due_at - now).days if step.due_at and now < step.due_at else 0
    urgency = item.fields.get(defn.urgency.field, "") if defn.urgency else ""
    return {
        "org": org,
        "item": {"id": item.id, "title": item.title, "template": defn.title, "urgency": urgency,
                 "link": item_link(base_url, item.id)},
        "step": {"name": step.state, "label": state.label, "owner_role": defn.roles.get(state.owner or "", "—"),
                 "owners": owners, "entered": fmt(step.entered_at), "due": fmt(step.due_at), "due_rule": step.due_rule or "无时限"},
        "rung": {"name": "", "label": ""}, "days_late": late, "days_left": left,
        "actions": [t.label for t in defn.transitions_from(step.state)], "contacts": contacts,
        "skipped": [], "handed_by": "", "comment": "",
    } | extra


def outbox_rows(*, notice: str, key: str, people: list[tuple[str, Holder]], step_id: int, item_id: int, now: datetime,
                domain: str, escalation_id: int | None = None, **extra: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """One outbox row per person with an email; returns (rows, names of people without email).

    The Message-ID is `<wuzhuan.KEY.PERSON@domain>`: the same notice to the same person is the
    same message, and the outbox's unique Message-ID keeps it from being queued twice.
    `extra` (rung, skipped, handed_by, comment) is stored with the row.
    """
    rows, missing = [], []
    for _label, p in people:
        if not p.email:
            missing.append(p.name)
            continue
        rows.append({
            "message_id": f"<wuzhuan.{key}.{p.id}@{domain}>", "escalation_id": escalation_id, "item_id": item_id,
            "notice": notice, "person_id": p.id, "to_addr": p.email, "to_name": p.name,
            "context": {"step_id": step_id, **extra},
            "status": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now,
        })
    return rows, missing
