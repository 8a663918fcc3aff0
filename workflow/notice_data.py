"""What a notice says and to whom, pure: its readers (To and Cc), the data it renders from, its outbox rows.

An outbox row keeps only what cannot be looked up again (step, rung, slip number, 限期, skipped rungs,
who handed over, comment) and its readers; the rest of the notice's data is rebuilt from the step, the
item and its role holders at delivery. A queued row costs a few hundred bytes instead of a rendered copy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .definition import OWNER, Definition
from .present import fmt
from .rows import Holder, UnitRow

PENDING = "pending"
Reader = tuple[str, Holder]  # (role label, person)
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
    """One e-mail for the notice (To: those who must act, Cc: those informed) and one webhook post per unit
    in `webhooks`; returns (rows, names of people without an address).

    The Message-ID is `<wuzhuan.KEY@domain>` (a webhook's `<wuzhuan.KEY.uUNIT@domain>`): the outbox's unique
    Message-ID keeps the same notice from being queued twice. `extra` (rung, slip, skipped, …) is stored with the row.
    """
    def entries(readers_: list[Reader]) -> list[list[str]]:
        return [[p.name, p.email or "", label] for label, p in readers_]

    missing = [p.name for _l, p in to + cc if not p.email]
    to_mail = [r for r in entries(to) if r[1]]
    cc_mail = [r for r in entries(cc) if r[1] and r[1] not in {t[1] for t in to_mail}]
    if not to_mail:  # nobody who must act has an address: those informed still are
        to_mail, cc_mail = cc_mail, []
    readers_all = {"to": entries(to), "cc": entries(cc)}
    base = {"escalation_id": escalation_id, "item_id": item_id, "notice": notice, "context": {"step_id": step_id, **extra},
            "status": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
    rows = []
    if to_mail:
        shown = "、".join(r[0] for r in to_mail)
        rows.append(base | {"message_id": f"<wuzhuan.{key}@{domain}>", "person_id": next(p.id for _l, p in to + cc if p.email == to_mail[0][1]),
                            "to_addr": to_mail[0][1], "to_name": shown if len(shown) <= 100 else shown[:99] + "…",
                            "recipients": {"to": to_mail, "cc": cc_mail}, "channel": "email"})
    for u in webhooks:
        if u.webhook_url:
            rows.append(base | {"message_id": f"<wuzhuan.{key}.u{u.id}@{domain}>", "person_id": None, "to_addr": u.webhook_url[:200],
                                "to_name": u.name[:100], "recipients": readers_all | {"url": u.webhook_url},
                                "channel": "webhook"})
    return rows, missing
