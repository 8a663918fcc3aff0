"""Presentation: times and lights as a clerk reads them, and a template as plain data for display."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from .calendar import TZ
from .definition import Definition

LIGHT_CN = {"green": "绿", "yellow": "黄", "red": "红"}
# What each kind of audit event is called on a page or in `items history` (the kind itself stays in --json).
KIND_CN = {"created": "立项", "advanced": "办理", "fields_set": "修改填报", "assigned": "授予角色", "unassigned": "撤回角色",
           "paused": "挂起", "resumed": "恢复", "extension_requested": "申请延期", "extension_approved": "同意延期",
           "extension_rejected": "不同意延期", "escalated": "督办", "refused": "被拒绝的操作", "migrated": "迁移版本",
           "deadline_moved": "会议改期，时限调整", "meeting_added": "新增会议", "meeting_moved": "会议改期",
           "spawned": "分别交办子事项", "closed": "随上级事项关闭",
           "commented": "留言", "reminded": "催办", "acknowledged": "签收", "returned": "退回", "activity_added": "登记代表活动",
           "activity_announced": "发布代表活动", "activity_signup": "代表报名", "activity_confirmed": "确认签到",
           "proposal_screened": "审查代表建议"}


# The notices as a person names them (the outbox page); a notice a committee added keeps its file name.
NOTICE_CN = {"duban": "督办单", "duban_blue": "蓝色督办单", "duban_yellow": "黄色督办单", "duban_red": "红色督办单",
             "reminder": "到期提醒", "handover": "交办通知", "comment": "沟通留言", "urge": "催办通知", "returned": "退回通知",
             "deadline_moved": "时限调整", "digest": "督办通报"}
OUTBOX_STATUS_CN = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "dead": "发送失败"}


def kind_label(kind: str) -> str:
    return KIND_CN.get(kind, kind)


def actor_label(actor: str | None, names: dict[str, str]) -> str | None:
    """Who acted, as a person reads it: his name; 督办系统 for the scheduler's sweeps; 服务器操作员 for an operator at the
    server's shell (`operator:USER@HOST`, audited so); None when the trail names nobody."""
    if not actor:
        return None
    if actor == "scheduler":
        return "督办系统"
    if actor.startswith("operator:"):
        return f"服务器操作员（{actor.removeprefix('operator:')}）"
    return names.get(actor, actor)

# Characters that would move the cursor, end a line, hide text or reverse its direction on a terminal.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _escape(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}"


def width(text: str) -> int:
    """Columns a text takes on a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def safe(value: Any, limit: int | None = None) -> str:
    """Text from users as one line for a terminal: control and direction characters shown escaped, cut with … at
    `limit` columns."""
    text = _UNSAFE.sub(_escape, "" if value is None else str(value))
    if limit is not None and 2 * len(text) > limit and width(text) > limit:  # no character is wider than two
        out, used = [], 0
        for c in text:
            used += 2 if unicodedata.east_asian_width(c) in "WF" else 1
            if used > limit - 1:
                break
            out.append(c)
        text = "".join(out) + "…"
    return text


def fmt(at: datetime | None) -> str:
    """A due time as a clerk reads it: local time, midnight shown as 24:00 of the day before."""
    if at is None:
        return "—"
    local = at.astimezone(TZ)
    if local.hour == 0 and local.minute == 0 and local.second == 0:
        return (local - timedelta(days=1)).strftime("%Y-%m-%d") + " 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


def exact(at: datetime | None) -> str | None:
    """An aware time to the microsecond, in UTC (what the audit trail records of a due time, to be checked against)."""
    return None if at is None else at.astimezone(UTC).isoformat(timespec="microseconds")


def local_iso(at: datetime | None) -> str | None:
    """An aware time as ISO 8601 in Asia/Shanghai (what JSON output carries)."""
    return None if at is None else at.astimezone(TZ).isoformat(timespec="seconds")


def _rung(r) -> dict[str, Any]:
    return {"rung": r.name, "label": r.label, "when": f"{'到期前' if r.direction == 'before' else '到期后'}{r.offset}",
            "notify": list(r.notify), "notice": r.notice, "meaning": r.meaning, "limit": str(r.limit) if r.limit else None,
            "slip": r.slip}


def describe(defn: Definition) -> dict[str, Any]:
    """Every key of a template, resolved (defaults applied, ladders named), for `definitions show`."""
    return {
        "key": defn.key, "title": defn.title, "version": defn.content_hash[:12], "calendar": defn.calendar,
        "description": defn.description, "initial": defn.initial,
        "roles": [{"role": r, "label": label, "assignable_by": list(defn.assigners_of(r))} for r, label in defn.roles.items()],
        "tags": defn.tags,
        "fields": [{"name": f.name, "label": f.label, "type": f.type, "choices": list(f.choices), "keep": f.keep,
                    "editable_by": list(f.editable_by) if f.editable_by is not None else None,
                    "tally": ({"members": f.tally.members, "for": f.tally.for_, "against": f.tally.against,
                               "abstain": f.tally.abstain, "basic": f.tally.basic, "results": list(f.tally.choices())}
                              if f.tally else None)}
                   for f in defn.fields.values()],
        "counters": defn.counters,
        "urgency": {"field": defn.urgency.field, "start_rung": defn.urgency.start_rung} if defn.urgency else None,
        "handover_notice": defn.handover_notice, "slip_pattern": defn.slip_pattern,
        "states": [
            {"name": s.name, "label": s.label, "owner": defn.roles.get(s.owner or "", "—"), "owner_role": s.owner,
             "deadline": defn.deadline_text(s) if s.deadline else "—", "tags": list(s.tags),
             "yellow": f"到期前{s.yellow}" if s.deadline else None,
             "ladder": " → ".join(f"{r.label}({'-' if r.direction == 'before' else '+'}{r.offset})" for r in s.ladder) or "—",
             "rungs": [_rung(r) for r in s.ladder], "pause_roles": list(s.pause_roles),
             "extension_approvers": list(s.extension_approvers), "cc": list(s.cc), "final": s.final}
            for s in defn.states.values()
        ],
        "transitions": [
            {"trigger": t.trigger, "label": t.label, "from": list(t.sources), "to": t.dest,
             "roles": [defn.roles[r] for r in t.roles], "role_ids": list(t.roles), "requires": list(t.requires),
             "comment_required": t.comment_required, "guards": [g.describe() for g in t.guards],
             "increments": list(t.increments)}
            for t in defn.transitions
        ],
    }
