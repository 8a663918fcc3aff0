"""Meetings items refer to: add, list, and move one — with every deadline counted from it, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from .. import authority, notice_data
from ..calendar import parse_date
from ..deadlines import step_times
from ..errors import InvalidInput, NotFound, NotPermitted
from ..present import exact, fmt, local_iso
from ..rows import PersonRow
from ..store import StepStatus, Store, Tx, directory
from ..store import audit as audit_store
from ..store import items as item_store
from ..store import meetings as meeting_store
from ..store import outbox as outbox_store
from ..store import templates as template_store
from . import common

MAX_TITLE = 200
MOVED_NOTICE = "deadline_moved"


@dataclass
class MeetingInfo:
    id: int
    kind: str
    day: str
    title: str
    created_by: str | None
    moved_at: str | None


@dataclass
class Dependent:
    item: int
    title: str
    state: str
    state_label: str
    field: str
    old_due: str
    new_due: str
    notified: list[str]


@dataclass
class MeetingMoved:
    meeting: int
    old_day: str
    day: str
    applied: bool
    items: list[Dependent]


def _staff(tx: Tx, actor: str | None, what: str) -> PersonRow:
    """Meetings are kept by the office and the council (and administrators)."""
    if not actor:
        raise NotPermitted(f"{what}须说明由谁办理（常委会办公室、主任会议或管理员）", parameter="actor")
    who = common.acting(tx, actor)
    authority.keep_meetings(who, directory.is_staff(tx, who.id), what)
    return who


def _day(text: str) -> date:
    d = parse_date(text, "会议日期")
    if not 1970 <= d.year <= 2199:
        raise InvalidInput(f"会议日期 {d} 超出了 1970–2199 年", parameter="date")
    return d


def add_meeting(store: Store, actor: str, kind: str, day: str, title: str, now: datetime) -> MeetingInfo:
    kind = common.text_in((kind or "").strip(), "会议类别", one_line=True)
    title = common.text_in((title or "").strip(), "会议名称", one_line=True)
    if not kind or len(kind) > 32:
        raise InvalidInput("请写明会议类别（不超过 32 个字，如 常委会会议、主任会议）", parameter="kind")
    if not title or len(title) > MAX_TITLE:
        raise InvalidInput(f"请写明会议名称（不超过 {MAX_TITLE} 个字）", parameter="title")
    d = _day(day)

    def run(tx: Tx) -> MeetingInfo:
        who = _staff(tx, actor, "登记会议")
        mid = meeting_store.add(tx, kind=kind, day=d, title=title, at=now, by=who.code)
        audit_store.append(tx, at=now, actor=actor, kind="meeting_added", data={"meeting": mid, "kind": kind, "day": d.isoformat(),
                                                                                "title": title})
        return MeetingInfo(mid, kind, d.isoformat(), title, who.code, None)

    common.check_clock(store, now)
    return common.guarded(store, actor, now, "add a meeting", None, run)


def list_meetings(store: Store, since: str | None = None, limit: int = 100) -> list[MeetingInfo]:
    if not 1 <= limit <= 100_000:
        raise InvalidInput("条数应在 1 到 100000 之间", field="limit", parameter="limit")
    first = _day(since) if since else None
    with store.read() as tx:
        return [MeetingInfo(m.id, m.kind, m.day.isoformat(), m.title, m.created_by, local_iso(m.moved_at))
                for m in meeting_store.search(tx, first, limit)]


def move_meeting(store: Store, actor: str, meeting_id: int, to: str, now: datetime, *, apply: bool = False) -> MeetingMoved:
    """Move a meeting: every open step whose deadline counts from it gets its due time recomputed (listed first
    with `apply` False); applied in one transaction, each such item's owners are told by a notice."""
    new_day = _day(to)
    common.check_clock(store, now)

    def run(tx: Tx) -> MeetingMoved:
        _staff(tx, actor, "调整会议日期")
        m = meeting_store.get(tx, meeting_id, lock=apply)
        if m is None:
            raise NotFound(f"会议 {meeting_id} 不存在", meeting=meeting_id, next="list_meetings")
        if m.day == new_day:
            raise InvalidInput(f"会议 {meeting_id} 已经定在 {new_day}", meeting=meeting_id)
        out = MeetingMoved(meeting_id, m.day.isoformat(), new_day.isoformat(), apply, [])
        if apply:
            meeting_store.move(tx, meeting_id, new_day, now)
            seq = audit_store.append(tx, at=now, actor=actor, kind="meeting_moved",
                                     data={"meeting": meeting_id, "from": m.day.isoformat(), "to": new_day.isoformat()})
        with_meetings = sorted({v.key for v in template_store.all_versions(tx) if common.definition_of(v).meeting_fields()})
        for candidate in meeting_store.open_items_of(tx, with_meetings):
            defn = common.definition(tx, candidate.template_version_id)
            refs = [n for n in defn.meeting_fields() if candidate.fields.get(n) == meeting_id]
            if not refs:
                continue
            locked = common.locked_item(tx, candidate.id) if apply else None
            item = locked.item if locked else candidate
            step = locked.step if locked else item_store.step_by_id(tx, item.current_step_id)
            follows = {defn.fields[n].sets: new_day.isoformat() for n in refs if defn.fields[n].sets}  # the dates that follow it
            state = defn.states.get(item.state)
            counted = (state is not None and state.deadline is not None and step.extended_to is None
                       and state.deadline.field in set(refs) | set(follows))
            t = None
            if counted:
                values = common.dated(tx, defn, item.fields | follows) | {n: new_day.isoformat() for n in refs}
                t = step_times(common.calendar(tx, defn), defn, state, values, entered_at=step.entered_at,
                               extra_units=step.extra_units, next_rung=step.next_rung, running=step.status == StepStatus.OPEN)
            moved = t is not None and t.due_at != step.due_at
            dep = Dependent(item.id, item.title, item.state, state.label if state else item.state,
                            "、".join(refs + list(follows)), fmt(step.due_at), fmt(t.due_at if t else step.due_at), [])
            out.items.append(dep)
            changed = {k: [item.fields.get(k), v] for k, v in follows.items() if item.fields.get(k) != v}
            if not apply or not (changed or moved):
                continue  # a dry run, or nothing of the item changes
            values_item: dict = {"version": item.version + 1, "updated_at": now}
            if changed:
                values_item["fields"] = item.fields | follows
            if moved:
                item_store.update_step(tx, step.id, due_at=t.due_at, due_rule=t.due_rule, provisional=t.provisional,
                                       yellow_at=t.yellow_at, next_escalation_at=t.next_escalation_at)
                values_item.update(due_at=t.due_at, yellow_at=t.yellow_at)
            item_store.update_item(tx, item.id, **values_item)
            audit_store.append(tx, at=now, actor=actor, kind="deadline_moved", item_id=item.id, from_state=item.state,
                               to_state=item.state, data={"meeting": meeting_id, "step_id": step.id, "old_due": dep.old_due,
                                                          "due": dep.new_due, "due_at": exact(t.due_at if moved else step.due_at),
                                                          "from": m.day.isoformat(), "to": new_day.isoformat(),
                                                          **({"fields_changed": changed} if changed else {})})
            if not moved or not state.owner:
                continue
            holders = item_store.holders(tx, item.id)
            to, cc = notice_data.readers(defn, item.state, (state.owner,), holders)
            now_step = replace(step, due_at=t.due_at, due_rule=t.due_rule, yellow_at=t.yellow_at)
            now_item = replace(item, fields=values_item.get("fields", item.fields))
            rows, _missing = notice_data.message_rows(notice=MOVED_NOTICE, key=f"mv{seq}.s{step.id}", to=to, cc=cc,
                                                      defn=defn, item=now_item, step=now_step, holders=holders, now=now,
                                                      settings=store.settings, cal=common.calendar(tx, defn), old_due=dep.old_due,
                                                      meeting={"id": meeting_id, "title": m.title, "kind": m.kind,
                                                               "from": m.day.isoformat(), "to": new_day.isoformat()})
            outbox_store.queue(tx, rows)
            dep.notified = [p.name for _l, p in to]
        return out

    return common.guarded(store, actor, now, "move a meeting", None, run)  # the dry run writes nothing
