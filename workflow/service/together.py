"""Working together on an item: its comment thread (沟通), 催办 (a reminder now to the step's owners), and the
owner's 签收 (acknowledging the step) or 退回 (returning a misassigned item to the office, with a reason)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .. import authority, notice_data
from ..calendar import TZ
from ..errors import Conflict, InvalidInput
from ..store import Store, Tx
from ..store import audit as audit_store
from ..store import outbox as outbox_store
from . import common

MAX_COMMENT = 2000  # characters of one comment


@dataclass
class Commented:
    item: int
    seq: int  # the audit event that holds it
    notified: list[str]  # names of the step's owners told of it


@dataclass
class Reminded:
    item: int
    step: str  # the step's label
    to: list[str]  # names of its owners, reminded


def _owners(defn, item, holders, who=None) -> list:
    state = defn.states[item.state]
    return [(defn.role_label(state.owner), p) for p in holders.get(state.owner or "", []) if who is None or p.id != who.id]


def _said(value: str | None, what: str, empty: str, name: str) -> str:
    """Free text a person wrote (a comment, a reason): stripped, not empty, no control characters, ≤ MAX_COMMENT."""
    text = common.text_in(str(value or ""), what).strip()
    if not text:
        raise InvalidInput(empty, field=name, parameter=name)
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"{what}有 {len(text)} 个字，最多 {MAX_COMMENT} 个", field=name, parameter=name)
    return text


def comment(store: Store, actor: str, item_id: int, text: str, now: datetime) -> Commented:
    """Add a comment to the item's thread: anyone holding a role on the item (or an administrator); the current
    step's owners (but the writer) are told by a notice; the comment is an audit event of the item."""
    text = _said(text, "留言", "留言不能为空", "text")

    def work(tx: Tx) -> Commented:
        who, locked, defn, holders, held = common.load_act(tx, actor, item_id)
        item = locked.item
        authority.comment(defn, who, held, item.id, holders)
        seq = audit_store.append(tx, at=now, actor=who.code, kind="commented", item_id=item.id, from_state=item.state,
                                 to_state=item.state, data={"text": text})
        notified = []
        step = locked.step if item.finished_at is None else None
        if step is not None and (to := _owners(defn, item, holders, who)):
            rows, _missing = notice_data.message_rows(notice="comment", key=f"c{seq}", to=to, cc=[], defn=defn, item=item,
                                                      step=step, holders=holders, now=now, settings=store.settings, cal=common.calendar(tx, defn),
                                                      handed_by=who.name, comment=text)
            outbox_store.queue(tx, rows)
            notified = [p.name for _l, p in to]
        return Commented(item.id, seq, notified)
    return common.guarded(store, actor, now, "comment", item_id, work)


def remind(store: Store, actor: str, item_id: int, now: datetime) -> Reminded:
    """催办: the office or the item's group lead sends the current step's owners a reminder now, through the
    outbox; at most once a day (Asia/Shanghai) per step — a second the same day is a Conflict and sends nothing."""

    def work(tx: Tx) -> Reminded:
        who, locked, defn, holders, held = common.load_act(tx, actor, item_id)
        item, step = locked.item, locked.step
        authority.remind(defn, who, held, item.id, holders)
        if item.finished_at is not None or step is None:
            raise InvalidInput(f"事项 {item.id} 已办结，无需催办", item=item.id)
        label = defn.states[item.state].label
        to = _owners(defn, item, holders)
        if not to:
            raise InvalidInput(f"事项 {item.id} 的「{label}」环节没有承办人，请先指定{defn.role_label(defn.states[item.state].owner)}",
                               item=item.id)
        day = now.astimezone(TZ).date()
        rows, missing = notice_data.message_rows(notice="urge", key=f"u{step.id}.d{day:%Y%m%d}", to=to, cc=[], defn=defn,
                                                 item=item, step=step, holders=holders, now=now, settings=store.settings, cal=common.calendar(tx, defn),
                                                 handed_by=who.name, comment="")
        if not rows:
            raise InvalidInput(f"「{label}」环节的承办人{'、'.join(missing)}没有联系方式，无法催办", item=item.id)
        if not outbox_store.queue_once(tx, rows):
            raise Conflict(f"事项 {item.id} 的「{label}」环节今天（{day:%Y-%m-%d}）已催办过，每天最多催办一次", item=item.id)
        names = [p.name for _l, p in to]
        audit_store.append(tx, at=now, actor=who.code, kind="reminded", item_id=item.id, from_state=item.state,
                           to_state=item.state, data={"step_id": step.id, "to": [p.code for _l, p in to]})
        return Reminded(item.id, label, names)
    return common.guarded(store, actor, now, "remind", item_id, work)


@dataclass
class Acknowledged:
    item: int
    step: str  # the step's label
    by: str  # the name of who acknowledged


@dataclass
class Returned:
    item: int
    step: str
    reason: str
    notified: list[str]  # the office's people told to reassign


def _owned_step(tx: Tx, actor: str, item_id: int, verb: str):
    """(who, item, definition, holders, the current step), the item locked, when the actor holds the step's
    owner role (or NotPermitted)."""
    who, locked, defn, holders, held = common.load_act(tx, actor, item_id)
    item, step = locked.item, locked.step
    if item.finished_at is not None or step is None:
        raise InvalidInput(f"事项 {item.id} 已办结，无需{verb}", item=item.id)
    authority.own_step(defn, who, held, item, holders, verb)
    return who, item, defn, holders, step


def acknowledged_steps(events) -> set[int]:
    """The ids of the steps their owners acknowledged (签收), among an item's audit events."""
    return {e.data.get("step_id") for e in events if e.kind == "acknowledged"}


def acknowledge(store: Store, actor: str, item_id: int, now: datetime) -> Acknowledged:
    """签收: the current step's owner acknowledges that the step is his to do; once a step (again: Conflict)."""

    def work(tx: Tx) -> Acknowledged:
        who, item, defn, _holders, step = _owned_step(tx, actor, item_id, "签收")
        label = defn.states[item.state].label
        if step.id in acknowledged_steps(audit_store.of_item(tx, item.id)):
            raise Conflict(f"事项 {item.id} 的「{label}」环节已签收", item=item.id)
        audit_store.append(tx, at=now, actor=who.code, kind="acknowledged", item_id=item.id, from_state=item.state,
                           to_state=item.state, data={"step_id": step.id})
        return Acknowledged(item.id, label, who.name)
    return common.guarded(store, actor, now, "acknowledge", item_id, work)


def return_item(store: Store, actor: str, item_id: int, reason: str, now: datetime) -> Returned:
    """退回: the current step's owner says the item is not his (misassigned), with a reason; the item's office is
    told by a 退回通知 to give the owner role to the right unit (`assign --replace`); the step keeps running."""
    reason = _said(reason, "退回理由", "请说明退回理由", "reason")

    def work(tx: Tx) -> Returned:
        who, item, defn, holders, step = _owned_step(tx, actor, item_id, "退回")
        label = defn.states[item.state].label
        office = [(defn.role_label("office"), p) for p in holders.get("office", []) if p.id != who.id]
        if not office:
            raise InvalidInput(f"事项 {item.id} 没有常委会办公室的人员可以重新交办，请直接联系办公室", item=item.id)
        seq = audit_store.append(tx, at=now, actor=who.code, kind="returned", item_id=item.id, from_state=item.state,
                                 to_state=item.state, data={"step_id": step.id, "reason": reason})
        rows, _missing = notice_data.message_rows(notice="returned", key=f"r{seq}", to=office, cc=[], defn=defn, item=item,
                                                  step=step, holders=holders, now=now, settings=store.settings, cal=common.calendar(tx, defn),
                                                  handed_by=who.name, comment=reason)
        outbox_store.queue(tx, rows)
        return Returned(item.id, label, reason, [p.name for _l, p in office])
    return common.guarded(store, actor, now, "return", item_id, work)
