"""What a notice says and to whom, pure: its readers (To and Cc), the data it renders from, its outbox rows.

An outbox row keeps only what cannot be looked up again (step, rung, slip number, 限期, skipped rungs,
who handed over, comment) and its readers; the rest of the notice's data is rebuilt from the step, the
item and its role holders at delivery. A queued row costs a few hundred bytes instead of a rendered copy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .channels import CHANNELS, Reader
from .definition import OWNER, Definition
from .present import fmt
from .rows import Holder, OutboxStatus, UnitRow

# The parts of a notice's data that are mappings, with every key a template may use: a row queued by an older
# wuzhuan that knew fewer keys still renders (what it lacks is empty), never a dead letter.
NESTED = {"rung": {"name": "", "label": "", "meaning": ""}, "slip": {"no": "", "limit": ""},
          "meeting": {"id": None, "title": "", "kind": "", "from": "", "to": ""}}


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = base | extra
    for k, default in NESTED.items():
        if isinstance(extra.get(k), dict):
            out[k] = default | extra[k]
    return out


def recipients(defn: Definition, step_state: str, roles: tuple[str, ...], holders: dict[str, list[Holder]]) -> list[Reader]:
    """(role label, person) for each distinct active person holding one of the roles; `owner` is the step's owner role."""
    owner = defn.states[step_state].owner
    out: dict[int, Reader] = {}
    for role in roles:
        real = owner if role == OWNER else role
        for p in holders.get(real or "", []):
            if p.active:
                out.setdefault(p.id, (defn.roles.get(real, real), p))
    return list(out.values())


def readers(defn: Definition, step_state: str, roles: tuple[str, ...], holders: dict[str, list[Holder]]) -> tuple[list[Reader], list[Reader]]:
    """(To, Cc) of a notice about a step that goes to `roles`: To is whoever must act (the step's owner), Cc
    (抄送) the others informed. When the owner is not among the roles, everyone named is To."""
    owner = defn.states[step_state].owner
    acting = tuple(r for r in roles if r in (OWNER, owner))
    if not acting:
        return recipients(defn, step_state, roles, holders), []
    to = recipients(defn, step_state, acting, holders)
    seen = {p.id for _l, p in to}
    cc = [(lbl, p) for lbl, p in recipients(defn, step_state, tuple(r for r in roles if r not in acting), holders) if p.id not in seen]
    return to, cc


def item_link(base_url: str | None, item_id: int) -> str:
    """The item's page on the workbench, or "" when no base_url is set."""
    return f"{base_url.rstrip('/')}/items/{item_id}" if base_url else ""


def overdue_text(due: datetime | None, now: datetime) -> str:
    """How long past the due time, in words: "9小时", "3日" ("" when not late)."""
    if due is None or now <= due:
        return ""
    hours = int((now - due).total_seconds() // 3600)
    return f"{hours}小时" if hours < 24 else f"{hours // 24}日"


def context(defn: Definition, item: Any, step: Any, holders: dict[str, list[Holder]], now: datetime, *, org: str,
            contact_roles: tuple[str, ...] = (), base_url: str | None = None, **extra: Any) -> dict[str, Any]:
    """The data every notice renders from (docs/escalation.md lists it; notifier.render.sample_context has its shape)."""
    state = defn.states[step.state]
    owners = [p.name for p in holders.get(state.owner or "", [])]
    contacts = [{"name": p.name, "email": p.email or "", "role": label}
                for label, p in recipients(defn, step.state, tuple(r for r in contact_roles if r not in (OWNER, state.owner)), holders)]
    late = (now - step.due_at).days if step.due_at and now > step.due_at else 0
    left = (step.due_at - now).days if step.due_at and now < step.due_at else 0
    urgency = item.fields.get(defn.urgency.field, "") if defn.urgency else ""
    base = {
        "org": org,
        "item": {"id": item.id, "title": item.title, "template": defn.title, "urgency": urgency,
                 "link": item_link(base_url, item.id)},
        "step": {"name": step.state, "label": state.label, "owner_role": defn.roles.get(state.owner or "", "—"),
                 "owner_role_id": state.owner or "", "owners": owners, "entered": fmt(step.entered_at),
                 "due": fmt(step.due_at), "due_rule": step.due_rule or "无时限"},
        "rung": {"name": "", "label": "", "meaning": ""}, "days_late": late, "days_left": left,
        "overdue": overdue_text(step.due_at, now),
        "actions": [t.label for t in defn.transitions_from(step.state)], "contacts": contacts,
        "to": [], "cc": [], "slip": {"no": "", "limit": ""}, "start_reason": "",
        "skipped": [], "handed_by": "", "comment": "",
    }
    return _merged(base, extra)


def names(readers_: list[dict[str, str]]) -> str:
    """"王芳、李明" — the names of a notice's readers."""
    return "、".join(r["name"] for r in readers_)


def message_rows(*, notice: str, key: str, to: list[Reader], cc: list[Reader], step_id: int, item_id: int, now: datetime,
                 domain: str, escalation_id: int | None = None, webhooks: list[UnitRow] = (),
                 **extra: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The notice's outbox rows, as each registered channel addresses it (the e-mail: To those who must act, Cc
    those informed; a webhook post per unit in `webhooks` that has one); returns (rows, names of people without
    an address).

    The Message-ID is `<wuzhuan.KEY@domain>` plus the channel's suffix (a webhook's `<wuzhuan.KEY.uUNIT@domain>`):
    the outbox's unique Message-ID keeps the same notice from being queued twice. `extra` (rung, slip, skipped, …)
    is stored with the row.
    """
    missing = [p.name for _l, p in to + cc if not p.email]
    return outbox_rows(notice=notice, key=key, to=to, cc=cc, now=now, domain=domain, context={"step_id": step_id, **extra},
                       units=webhooks, escalation_id=escalation_id, item_id=item_id), missing


def outbox_rows(*, notice: str, key: str, to: list[Reader], cc: list[Reader], now: datetime, domain: str,
                context: dict[str, Any], units: list[UnitRow] = (), escalation_id: int | None = None,
                item_id: int | None = None, only: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """The rows of one notice, as each registered channel (or those `only` names) addresses it: the one place an
    outbox row is made."""
    base = {"escalation_id": escalation_id, "item_id": item_id, "notice": notice, "context": context,
            "status": OutboxStatus.PENDING.value, "attempts": 0, "next_attempt_at": now, "created_at": now}
    return [base | {"message_id": f"<wuzhuan.{key}{a.key_suffix}@{domain}>", "person_id": a.person_id,
                    "to_addr": a.to_addr, "to_name": a.to_name, "recipients": a.recipients, "channel": name}
            for name, ch in CHANNELS.items() if only is None or name in only for a in ch.address(to, cc, units)]
