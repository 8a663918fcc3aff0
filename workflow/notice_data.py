"""What a notice says and to whom, pure: its readers (To and Cc), the data it renders from, its outbox rows.

A notice's data is composed once, when it is queued (`compose`, then `addressed` per outbox row), stored with
the row and rendered from it at delivery: what the reader gets is what was true when the notice was sent, and
nothing is looked up twice. Rows queued by wuzhuan 0.2.0 and earlier kept only what could not be looked up again
(step, rung, slip number, …); delivery composes theirs from the step with the same functions (`is_composed`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .calendar import EVERY_DAY, WorkCalendar, overdue_workdays
from .channels import CHANNELS, Reader
from .definition import OWNER, WATCH, WATCH_LABEL, Definition
from .present import fmt
from .rows import Holder, OutboxStatus, UnitRow

# The parts of a notice's data that are mappings, with every key a template may use: a row queued by an older
# wuzhuan that knew fewer keys still renders (what it lacks is empty), never a dead letter.
NESTED = {"rung": {"name": "", "label": "", "meaning": ""}, "slip": {"no": "", "limit": ""},
          "meeting": {"id": None, "title": "", "kind": "", "from": "", "to": ""}}


# What a notice's data holds when nothing is said: a stored row leaves these out and `full` puts them back.
EMPTY: dict[str, Any] = {"days_late": 0, "days_left": 0, "overdue": "", "actions": [], "contacts": [], "to": [], "cc": [],
                         "start_reason": "", "skipped": [], "handed_by": "", "comment": "", "documents": [],
                         "attach_slip": False, **NESTED}


def stored(ctx: dict[str, Any]) -> dict[str, Any]:
    """The notice's data as an outbox row keeps it: without what `EMPTY` says anyway (a handover row ~40% smaller)."""
    return {k: v for k, v in ctx.items() if k not in EMPTY or v != EMPTY[k]}


def full(data: dict[str, Any]) -> dict[str, Any]:
    """A row's stored data with what it left out put back: what the templates render from."""
    return _merged(EMPTY, data)


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
    (抄送) the others informed. When the owner is not among the roles, everyone named is To. On a 联动 sub-item
    of another organisation, the holders of `watch` (the parent's side) are always in Cc: a copy (知会), never
    a notice addressed to them."""
    owner = defn.states[step_state].owner
    acting = tuple(r for r in roles if r in (OWNER, owner))
    if not acting:
        to, cc = recipients(defn, step_state, roles, holders), []
    else:
        to = recipients(defn, step_state, acting, holders)
        seen = {p.id for _l, p in to}
        cc = [(lbl, p) for lbl, p in recipients(defn, step_state, tuple(r for r in roles if r not in acting), holders)
              if p.id not in seen]
    if holders.get(WATCH):
        seen = {p.id for _l, p in to + cc}
        cc += [(WATCH_LABEL, p) for p in holders[WATCH] if p.active and p.id not in seen]
    return to, cc


def item_link(base_url: str | None, item_id: int) -> str:
    """The item's page on the workbench, or "" when no base_url is set."""
    return f"{base_url.rstrip('/')}/items/{item_id}" if base_url else ""


def file_link(base_url: str | None, item_id: int, file_id: int) -> str:
    """A document's download address on the workbench, or "" when no base_url is set."""
    return f"{item_link(base_url, item_id)}/files/{file_id}" if base_url else ""


def documents(defn: Definition, item: Any, state: str, base_url: str | None) -> list[dict[str, str]]:
    """The documents the step shows its owner (its `shows` file fields), each with its label, name and download
    address on the workbench: a notice links them, never attaches them (a 50 MB report must not travel by mail)."""
    spec = defn.states.get(state)
    out = []
    for name in spec.shows if spec else ():
        f, value = defn.fields.get(name), item.fields.get(name)
        if f is None or f.type != "file" or not isinstance(value, list):
            continue
        out += [{"label": f.label, "name": str(r.get("name", "")),
                 "link": file_link(base_url, item.id, r["id"])}
                for r in value if isinstance(r, dict) and isinstance(r.get("id"), int)]
    return out


def overdue_text(cal: WorkCalendar, due: datetime | None, now: datetime) -> str:
    """How long past the due time, counted as the workbench counts it (calendar.overdue_workdays): "3个工作日"
    (every day counts for a template on `calendar: none`: "3日"); "9小时" before a working day has begun; ""
    when not late."""
    if due is None or now <= due:
        return ""
    days = overdue_workdays(cal, due, now)
    if days:
        return f"{days}日" if cal is EVERY_DAY else f"{days}个工作日"
    return f"{max(1, int((now - due).total_seconds() // 3600))}小时"


def context(defn: Definition, item: Any, step: Any, holders: dict[str, list[Holder]], now: datetime, *, org: str,
            cal: WorkCalendar,
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
        "overdue": overdue_text(cal, step.due_at, now),
        "actions": [t.label for t in defn.transitions_from(step.state)], "contacts": contacts,
        "to": [], "cc": [], "slip": {"no": "", "limit": ""}, "start_reason": "",
        "skipped": [], "handed_by": "", "comment": "", "documents": documents(defn, item, step.state, base_url),
    }
    return _merged(base, extra)


COMPOSED = 2  # the `composed` mark of a row's data: composed at queue time (rows without it predate it)


def is_composed(data: dict[str, Any]) -> bool:
    """Whether a row's stored data is the notice's whole data (else: a 0.2.0 row that names its step)."""
    return data.get("composed") == COMPOSED or "step_id" not in data


def addressed(ctx: dict[str, Any], recipients: dict[str, Any] | None, to_name: str, to_addr: str) -> dict[str, Any]:
    """The notice's data as one outbox row's readers get it: its To and Cc, the recipient, and contacts other
    than those already addressed."""
    readers_ = recipients or {"to": [[to_name, to_addr, ctx["step"]["owner_role"]]], "cc": []}
    out = dict(ctx)
    out["to"] = [{"name": n, "email": e, "role": role} for n, e, role in readers_.get("to", [])]
    out["cc"] = [{"name": n, "email": e, "role": role} for n, e, role in readers_.get("cc", [])]
    out["recipient"] = {"name": names(out["to"]) or to_name, "email": to_addr}
    seen = {x["email"] for x in out["to"] + out["cc"]} | {to_addr}
    out["contacts"] = [x for x in ctx.get("contacts", []) if x.get("email") not in seen]
    return out


def names(readers_: list[dict[str, str]]) -> str:
    """"王芳、李明" — the names of a notice's readers."""
    return "、".join(r["name"] for r in readers_)


def message_rows(*, notice: str, key: str, to: list[Reader], cc: list[Reader], defn: Definition, item: Any, step: Any,
                 holders: dict[str, list[Holder]], now: datetime, settings: Any, cal: WorkCalendar,
                 escalation_id: int | None = None,
                 webhooks: list[UnitRow] = (), contact_roles: tuple[str, ...] = (),
                 **extra: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The notice's outbox rows, as each registered channel addresses it (the e-mail: To those who must act, Cc
    those informed; a webhook post per unit in `webhooks` that has one), each with the notice's data composed
    now; returns (rows, names of people without an address). `settings` gives the domain, the organisation's
    name and the workbench's address.

    The Message-ID is `<wuzhuan.KEY@domain>` plus the channel's suffix (a webhook's `<wuzhuan.KEY.uUNIT@domain>`):
    the outbox's unique Message-ID keeps the same notice from being queued twice. `extra` (rung, slip, skipped, …)
    joins the data.
    """
    missing = [p.name for _l, p in to + cc if not p.email]
    ctx = context(defn, item, step, holders, now, org=settings.org_name, cal=cal, contact_roles=contact_roles,
                  base_url=settings.base_url, **extra) | {"step_id": step.id, "composed": COMPOSED}
    rows = outbox_rows(notice=notice, key=key, to=to, cc=cc, now=now, domain=settings.message_domain, context=ctx,
                       units=webhooks, escalation_id=escalation_id, item_id=item.id)
    for r in rows:
        r["context"] = stored(addressed(ctx, r["recipients"], r["to_name"], r["to_addr"]))
    return rows, missing


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
