"""Working together on an item: its comment thread (沟通) and 催办, a reminder sent now to the step's owners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .. import authority, notice_data
from ..calendar import TZ
from ..errors import Conflict, InvalidInput
from ..present import fmt
from ..store import Store, Tx, directory
from ..store import audit as audit_store
from ..store import items as item_store
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


@dataclass
class Comment:
    seq: int
    at: str
    by: str
    by_name: str
    text: str


def _owners(defn, item, holders, who=None) -> list:
    state = defn.states[item.state]
    return [(defn.role_label(state.owner), p) for p in holders.get(state.owner or "", []) if who is None or p.id != who.id]


def comment(store: Store, actor: str, item_id: int, text: str, now: datetime) -> Commented:
    """Add a comment to the item's thread: anyone holding a role on the item (or an administrator); the current
    step's owners (but the writer) are told by a notice; the comment is an audit event of the item."""
    text = common.text_in(str(text or ""), "留言").strip()
    if not text:
        raise InvalidInput("留言不能为空", field="text", parameter="text")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"留言有 {len(text)} 个字，最多 {MAX_COMMENT} 个", field="text", parameter="text")

    def work(tx: Tx) -> Commented:
        who = common.acting(tx, actor)
        item = common.item(tx, item_id)
        defn = common.definition(tx, item.template_version_id)
        holders = item_store.holders(tx, item.id)
        authority.comment(defn, who, authority.roles_held(holders, who.id), item.id, holders)
        seq = audit_store.append(tx, at=now, actor=who.code, kind="commented", item_id=item.id, from_state=item.state,
                                 to_state=item.state, data={"text": text})
        notified = []
        step = item_store.step_by_id(tx, item.current_step_id) if item.current_step_id and not item.finished_at else None
        if step is not None and (to := _owners(defn, item, holders, who)):
            rows, _missing = notice_data.message_rows(notice="comment", key=f"c{seq}", to=to, cc=[], defn=defn, item=item,
                                                      step=step, holders=holders, now=now, settings=store.settings,
                                                      handed_by=who.name, comment=text)
            outbox_store.queue(tx, rows)
            notified = [p.name for _l, p in to]
        return Commented(item.id, seq, notified)
    return common.guarded(store, actor, now, "comment", item_id, work)


def comments(tx: Tx, item_id: int) -> list[Comment]:
    """The item's thread, oldest first (the caller has checked that the reader may see the item)."""
    events = [e for e in audit_store.of_item(tx, item_id) if e.kind == "commented"]
    names = directory.names_of(tx, {e.actor for e in events if e.actor})
    return [Comment(e.seq, fmt(e.at), e.actor or "", names.get(e.actor or "", e.actor or ""), e.data.get("text", ""))
            for e in events]


def remind(store: Store, actor: str, item_id: int, now: datetime) -> Reminded:
    """催办: the office or the item's group lead sends the current step's owners a reminder now, through the
    outbox; at most once a day (Asia/Shanghai) per step — a second the same day is a Conflict and sends nothing."""

    def work(tx: Tx) -> Reminded:
        who = common.acting(tx, actor)
        item = common.item(tx, item_id)
        defn = common.definition(tx, item.template_version_id)
        holders = item_store.holders(tx, item.id)
        authority.remind(defn, who, authority.roles_held(holders, who.id), item.id, holders)
        if item.finished_at is not None or not item.current_step_id:
            raise InvalidInput(f"事项 {item.id} 已办结，无需催办", item=item.id)
        step = item_store.step_by_id(tx, item.current_step_id)
        label = defn.states[item.state].label
        to = _owners(defn, item, holders)
        if not to:
            raise InvalidInput(f"事项 {item.id} 的「{label}」环节没有承办人，请先指定{defn.role_label(defn.states[item.state].owner)}",
                               item=item.id)
        day = now.astimezone(TZ).date()
        rows, missing = notice_data.message_rows(notice="urge", key=f"u{step.id}.d{day:%Y%m%d}", to=to, cc=[], defn=defn,
                                                 item=item, step=step, holders=holders, now=now, settings=store.settings,
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
