"""What waits for a person: his inbox (待办), the items he moved (已办) or holds a role on (我参与的)."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime

from ... import caches
from ...calendar import overdue_workdays
from ...errors import InvalidInput, NotFound
from ...rows import PersonRow
from ...store import Store, Tx, directory
from ...store import extensions as ext_store
from ...store import inbox as inbox_store
from ...store import items as item_store
from ...store import sub_items as sub_store
from ...store import templates as template_store
from .. import common
from .items import summaries, summary
from .shapes import Inbox, InboxEntry, Listing
from .viewer import Viewer, person_needed

PAGE = 50


@dataclass(eq=False)
class _Pairs:
    """Where each role may act, over every published version: what an inbox query is built from."""

    moves: list[tuple[str, int, str]]  # (role, version, state): the role may move an item on from there
    pauses: list[tuple[str, int, str]]  # (role, version, state): the role may resume a paused item there
    key_of: dict[int, str]  # version id → template key
    roles: list[str]  # every role that may do either
    all_roles: list[str]  # every role a template names (held, perhaps, without acting anywhere)
    templates: list[tuple[str, str]]  # (key, title) for the filter
    spawning: tuple[tuple[int, str], ...]  # (version, state) of the steps that hand work to sub-items


# engine → {version ids: pairs}. Versions are immutable: in one database the same set of ids gives the same pairs;
# another database (a test's, a second deployment's in one process) has ids of its own, so each has its own entry.
_PAIRS: weakref.WeakKeyDictionary = caches.register("inbox_pairs", weakref.WeakKeyDictionary())


def pairs_of(tx: Tx) -> _Pairs:
    index = template_store.index(tx)
    ids = tuple(v for v, _k, _t in index)
    known = _PAIRS.setdefault(tx.conn.engine, {})
    found = known.get(ids)
    if found is None:
        moves, pauses = [], []
        for vid, _key, _title in index:
            defn = common.definition(tx, vid)
            for state in defn.states.values():
                if state.final:
                    continue
                moves += [(role, vid, state.name) for role in sorted({r for t in defn.transitions_from(state.name) for r in t.roles})]
                pauses += [(role, vid, state.name) for role in state.pause_roles]
        roles = sorted({r for r, _v, _s in moves + pauses})
        every = sorted({r for vid, _k, _t in index for r in common.definition(tx, vid).roles})
        found = known[ids] = _Pairs(moves, pauses, {v: k for v, k, _t in index}, roles, every,
                                     sorted({(k, t) for _v, k, t in index}), common.spawning(tx, ids))
    return found


def inbox(store: Store, viewer: Viewer, now: datetime, *, light: str | None = None, template: str | None = None,
          group: str | None = None, offset: int = 0, limit: int = PAGE, sort: str = "due") -> Inbox:
    """The items the person may act on now, in `sort`'s order (soonest due first unless told), with counts per
    light; and extension requests he may decide."""
    common.check_now(now)
    if sort not in inbox_store.SORTS:
        raise InvalidInput(f"排序“{common.shown(sort)}”不是 due（按时限）、light（按亮灯）、updated（按更新）之一",
                           field="sort", parameter="sort")
    if light is not None and light not in ("green", "yellow", "red"):
        raise InvalidInput(f"灯色“{common.shown(light)}”不是 green、yellow、red 之一", field="light", parameter="light")
    _paging(offset, limit)
    with store.read() as tx:
        who = person_needed(tx, viewer)
        group_id = None
        if group:
            unit = directory.unit(tx, group)
            if unit is None:
                raise NotFound(f"没有编码为“{common.shown(group)}”的单位", unit=common.shown(group))
            group_id = unit.id
        pairs = pairs_of(tx)
        mine, few = inbox_store.reach(tx, who.id, pairs.roles)
        moves = [p for p in pairs.moves if p[0] in mine]
        pauses = [p for p in pairs.pauses if p[0] in mine]
        rows, held, counts = inbox_store.inbox(tx, who.id, moves, pauses, pairs.key_of, now, light=light, template=template,
                                              group_id=group_id, limit=limit, offset=offset, few=few, spawning=pairs.spawning,
                                              sort=sort)
        cal = common.calendar(tx)
        # only an item at a step that hands out sub-items has open ones (leaving the step closes them), and only
        # there does its light take theirs in (as the counts above, made in SQL, do)
        waiting = set(pairs.spawning)
        kids = sub_store.open_clocks(tx, [item.id for item, _g in rows if (item.template_version_id, item.state) in waiting])
        names = directory.unit_names(tx, {code for _i, code in rows if code})
        entries = [_entry(tx, item, code, held[item.id], now, cal, kids.get(item.id), names.get(code)) for item, code in rows]
        decisions = _decisions(tx, who, pairs.all_roles, now)
        return Inbox(counts, entries, decisions, pairs.templates, _groups(tx, who), counts[light or "all"])


def _groups(tx: Tx, who) -> list[tuple[str, str]]:
    """The groups of the organisations he belongs to, for the filter (every group to an administrator)."""
    units = directory.units_of(tx, None)
    orgs = {u.organisation_id for u in directory.units_of(tx, who.id)}
    return [(u.code, u.name) for u in units if u.kind == "group" and (who.admin or u.organisation_id in orgs)]


def _entry(tx: Tx, item, group_code, held: set[str], now: datetime, cal, kids: list[tuple] | None,
           group_name: str | None = None) -> InboxEntry:
    defn = common.definition(tx, item.template_version_id)
    if item.paused_at is not None:
        actions = ["恢复（挂起中）"] if held & set(defn.states[item.state].pause_roles) else []
    else:
        actions = list(dict.fromkeys(t.label for t in defn.transitions_from(item.state) if held & set(t.roles)))
    late = overdue_workdays(cal, item.due_at, now) if item.due_at and not item.paused_at else 0
    return InboxEntry(summary(defn, item, group_code, now, kids, group_name), late, actions)


def _decisions(tx: Tx, who: PersonRow, roles: list[str], now: datetime) -> list[InboxEntry]:
    """Extension requests he may decide: on items where he holds, of `roles` (every role a template names: one that
    decides extensions may do nothing else), one that decides them at the request's step; not his own requests."""
    out = []
    for req in ext_store.pending_for(tx, who.id):
        if req.requested_by == who.code:
            continue
        item = item_store.get(tx, req.item_id)
        defn = common.definition(tx, item.template_version_id)
        step = item_store.step_by_id(tx, req.step_id)
        if step.left_at is not None:  # the step moved on: nothing left to decide
            continue
        held = inbox_store.roles_on(tx, who.id, roles, [item.id])[item.id]
        if held & set(defn.states[step.state].extension_approvers):
            out.append(InboxEntry(summary(defn, item, None, now), 0, [f"审批延期申请 #{req.id}（至 {req.new_date}）"]))
    return out


LIST_SORTS = ("recent", *inbox_store.SORTS)


def _sorted(sort: str) -> str:
    if sort not in LIST_SORTS:
        raise InvalidInput(f"排序“{common.shown(sort)}”不是 recent（最近）、due（按时限）、light（按亮灯）、updated（按更新）之一",
                           field="sort", parameter="sort")
    return sort


def _paging(offset: int, limit: int) -> None:
    if not 0 <= offset <= 10**9 or not 1 <= limit <= 500:
        raise InvalidInput("页码超出范围", parameter="offset")


def moved(store: Store, viewer: Viewer, now: datetime, offset: int = 0, limit: int = PAGE, sort: str = "recent") -> Listing:
    """Items the person moved on (已办), most recent first unless `sort` says, one page and how many in all."""
    _paging(offset, limit)
    with store.read() as tx:
        who = person_needed(tx, viewer)
        rows, total = inbox_store.moved_by(tx, who.code, limit, offset, _sorted(sort), now)
        return Listing(summaries(tx, rows, now), total)


def involved(store: Store, viewer: Viewer, now: datetime, offset: int = 0, limit: int = PAGE, sort: str = "recent") -> Listing:
    """Items on which the person holds any role (我参与的), newest first unless `sort` says, one page and how many."""
    _paging(offset, limit)
    with store.read() as tx:
        who = person_needed(tx, viewer)
        roles = sorted(inbox_store.roles_anywhere(tx, who.id, pairs_of(tx).all_roles))
        rows, total = inbox_store.involving(tx, who.id, roles, limit, offset, _sorted(sort), now)
        return Listing(summaries(tx, rows, now), total)
