"""What every use case shares: the acting person, refusals recorded, time checks, templates and calendars."""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from .. import authority, caches, loader
from ..calendar import EVERY_DAY, WorkCalendar, build_calendar
from ..definition import Definition
from ..errors import (
    Backdated,
    Conflict,
    DefinitionError,
    Hidden,
    InvalidInput,
    NotFound,
    NotPermitted,
    Problem,
    WuzhuanError,
)
from ..present import fmt
from ..rows import Holder, ItemRow, LockedItem, PersonRow, TemplateVersionRow
from ..store import Store, Tx, directory
from ..store import audit as audit_store
from ..store import calendar as calendar_store
from ..store import inbox as inbox_store
from ..store import items as item_store
from ..store import meetings as meeting_store
from ..store import meta as meta_store
from ..store import organisations as org_store
from ..store import templates as template_store

T = TypeVar("T")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def check_now(now: datetime) -> datetime:
    """The time an action is dated: aware, and within the years wuzhuan counts (1970–2199)."""
    if now.tzinfo is None:
        raise InvalidInput("时间须带时区（如 2026-03-01T09:00+08:00）", parameter="now")
    if not EARLIEST <= now < LATEST:
        raise InvalidInput(f"时间 {now.isoformat()} 超出了本系统处理的年份范围（1970–2199 年）", parameter="now")
    return now


RACE = timedelta(seconds=2)
AHEAD = timedelta(minutes=5)


def simulation(store: Store) -> str | None:
    """Why this store may act at times ahead of the clock (a demo's database, or the setting), or None."""
    if store.settings.clock_simulation:
        return "the setting clock.simulation"
    cached = getattr(store, "_simulation", False)
    if cached is False:
        with store.read() as tx:
            cached = meta_store.get(tx, meta_store.SIMULATION)
        store._simulation = cached
    return f"a {cached} database" if cached else None


def check_clock(store: Store, now: datetime) -> datetime:
    """check_now, and no action dated more than five minutes ahead of the wall clock on a real database."""
    check_now(now)
    wall = store.wall_clock()
    if now > wall + AHEAD and simulation(store) is None:
        raise InvalidInput(f"办理时间 {fmt(now)} 晚于当前时间（{fmt(wall)}）：正式数据库上不能以将来的时间办理"
                           "（演练用的数据库可在 wuzhuan.toml 中设置 clock.simulation = true）", parameter="now")
    return now


def not_backdated(now: datetime, locked: LockedItem) -> None:
    """Time only moves forward on an item: an action may not be dated before its last recorded event.

    Two people acting within a moment of each other, the later-stamped one committing first, is not
    backdating but a race: that is "changed meanwhile" (Conflict), and the second simply looks again.
    """
    last = locked.last_event_at
    if last is not None and now < last:
        if last - now <= RACE:
            raise Conflict(f"事项 {locked.item.id} 在此期间（{fmt(last)}）已被他人更新：请重新查看后再办理",
                           item=locked.item.id, next="show_item")
        raise Backdated(f"事项 {locked.item.id}：办理时间 {fmt(now)} 早于该事项最近一次记录的时间 {fmt(last)}，"
                           "不能把办理记在已发生的事情之前", item=locked.item.id)


def acting(tx: Tx, code: str | None) -> PersonRow:
    """The person acting: must exist and be active (NotPermitted otherwise)."""
    if not code:
        raise NotPermitted("请说明由谁办理", parameter="actor")
    if not _CODE.match(code):
        raise NotPermitted(f"“{shown(code)}”不是本系统登记的人员，不能办理", person=shown(code), next="list_people")
    who = tx.memo.get(("acting", code))
    if who is None:  # read once a transaction: the visibility check and the use case both ask
        who = tx.memo[("acting", code)] = authority.acting_person(directory.person(tx, code), code)
    return who


_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def is_code(text: str) -> bool:
    """Whether text could be a person's code (letters, digits, '.', '-', '_'; at most 64)."""
    return bool(_CODE.match(text))


_NUL_OR_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def text_in(value: str, what: str, one_line: bool = False) -> str:
    """Text from outside, refused (InvalidInput) if it holds NUL or control characters (line breaks and tabs
    are fine in free text; a one-line text such as a title holds no line breaks or direction overrides)."""
    bad = (_LINE_BREAKING if one_line else _NUL_OR_CONTROL).search(value)
    if bad:
        raise InvalidInput(f"{what}含有控制字符 U+{ord(bad.group()):04X}，请删去后重新填写")
    return value


def shown(text: str, limit: int = 64) -> str:
    """Text from outside as a message may quote it: control characters escaped, cut at `limit`."""
    out = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return out if len(out) <= limit else out[: limit - 1] + "…"


def person(tx: Tx, code: str) -> PersonRow:
    p = directory.person(tx, code)
    if p is None:
        raise NotFound(f"没有代码为“{shown(code)}”的人员", person=shown(code), next="list_people")
    return p


def locked_item(tx: Tx, item_id: int) -> LockedItem:
    locked = item_store.lock(tx, item_id)
    if locked is None:
        raise NotFound(f"事项 {item_id} 不存在", item=item_id)
    return locked


def item(tx: Tx, item_id: int) -> ItemRow:
    row = item_store.get(tx, item_id)
    if row is None:
        raise NotFound(f"事项 {item_id} 不存在", item=item_id)
    return row


def check_version(item: ItemRow, expected: int | None) -> None:
    if expected is not None and item.version != expected:
        raise Conflict(f"事项 {item.id} 在此期间已被他人更新（您看到的是第 {expected} 版，现为第 {item.version} 版，"
                       f"环节“{item.state}”）：请重新查看后再办理", item=item.id, expected=expected, version=item.version,
                       state=item.state, next="show_item")


def refused(store: Store, item_id: int | None, actor: str | None, now: datetime, what: str, err: WuzhuanError) -> None:
    """Record a refused attempt in its own transaction (the attempt's own work was rolled back).

    A refusal is not an event of the item for any other rule: it moves no clock and no version.
    """
    actor = shown(actor) if actor else actor  # as given: possibly not a person at all, so made safe to store
    try:
        with store.transaction() as tx:
            item = item_store.get(tx, item_id) if item_id is not None else None
            state = item.state if item else None
            audit_store.append(tx, at=now, actor=actor, kind="refused", item_id=item_id if state else None,
                               from_state=state, to_state=state, data={"attempt": shown(what, 200), "reason": str(err)})
    except WuzhuanError:
        pass  # the refusal itself is what the caller must see


def load_act(tx: Tx, actor: str, item_id: int) -> tuple[PersonRow, LockedItem, Definition, dict[str, list[Holder]], set[str]]:
    """What every act on an item decides on, loaded in one place: the acting person, the item row-locked with its
    step, its template, its role holders and the roles the person holds on it."""
    who = acting(tx, actor)
    locked = locked_item(tx, item_id)
    defn = definition(tx, locked.item.template_version_id)
    holders = item_store.holders(tx, item_id)
    return who, locked, defn, holders, authority.roles_held(holders, who.id)


def may_see(tx: Tx, who: PersonRow, item_id: int, holds: bool | None = None) -> bool:
    """The one rule of who sees an item: the office and council staff of its organisation (人大) its items, anyone
    else the items he holds a role on (`holds`, when the caller has read it already). Being an administrator
    (publishing, importing, retrying for the whole deployment) grants no view of items."""
    if holds is None:
        holds = inbox_store.holds_any_role(tx, item_id, who.id)
    return holds or org_store.staff_sees(tx, who.id, item_id)


def see(tx: Tx, actor: str, item_id: int) -> None:
    """The first check of any act on an item, whichever shell asks: the item exists and the actor may see it
    (whether it exists and whether he holds a role on it in one statement)."""
    who = acting(tx, actor)
    found, holds = inbox_store.presence(tx, item_id, who.id)
    if not found:
        raise NotFound(f"事项 {item_id} 不存在", item=item_id)
    if not may_see(tx, who, item_id, holds):
        raise Hidden(f"事项 {item_id} 不存在", item=item_id)


def guarded(store: Store, actor: str | None, now: datetime, what: str, item_id: int | None,
            work: Callable[[Tx], T]) -> T:
    """Run `work` in one write transaction, after `see` when it acts on an item (visibility → authority → version →
    fields, in that order for every shell); a refusal (NotPermitted, Backdated, Hidden) is recorded, then re-raised."""
    check_clock(store, now)
    try:
        with store.transaction() as tx:
            if item_id is not None and actor:
                see(tx, actor, item_id)
            return work(tx)
    except (NotPermitted, Backdated, Hidden) as e:
        refused(store, item_id, actor, now, what, e)
        raise


# --- templates and calendars, cached by content ------------------------------------------------

_defs: dict[str, Definition] = caches.register("definitions", {})
_hash_of: weakref.WeakKeyDictionary = caches.register("version_hashes", weakref.WeakKeyDictionary())  # engine → {id: hash}
_calendars: dict[str, WorkCalendar] = caches.register("calendars", {})


def definition_of(tv: TemplateVersionRow) -> Definition:
    """The Definition of a stored version, parsed once per content hash.

    A stored version was validated when it was published and cannot change (its hash is checked),
    so it is only parsed here: items finish on their version even if a later wuzhuan checks more.
    """
    d = _defs.get(tv.content_hash)
    if d is None:
        d = loader.load_trusted(tv.source_text, tv.source_name)
        if d.content_hash != tv.content_hash:
            raise DefinitionError([Problem(tv.source_name, 1, 1, f"stored version {tv.id} does not match its hash")])
        _defs[tv.content_hash] = d
    return d


def definition(tx: Tx, version_id: int) -> Definition:
    """The Definition of a stored version, cached by content hash (ids repeat across databases, hashes do not)."""
    known = _hash_of.setdefault(tx.conn.engine, {})
    h = known.get(version_id)
    if h is None:
        h = template_store.hash_of(tx, version_id)
        if h is None:
            raise NotFound(f"流程模板版本 {version_id} 不存在")
        known[version_id] = h  # a version row never changes
    d = _defs.get(h)
    if d is None:
        d = definition_of(template_store.by_id(tx, version_id))
    return d


def definition_with_state(tx: Tx, version_id: int, key: str, state: str) -> Definition:
    """The item's definition, or — for a step it visited before a live migration renamed or dropped its state —
    the newest other version of its template that has that state (the item's own definition if none has)."""
    d = definition(tx, version_id)
    if state in d.states:
        return d
    for v in reversed([v for v in template_store.all_versions(tx) if v.key == key and v.id != version_id]):
        other = definition(tx, v.id)
        if state in other.states:
            return other
    return d


def state_label(tx: Tx, defn: Definition, version_id: int, state: str) -> str:
    """A state's label, also for a state an earlier version of the template had (the id itself as a last resort)."""
    if state in defn.states:
        return defn.states[state].label
    other = definition_with_state(tx, version_id, defn.key, state)
    return other.states[state].label if state in other.states else state


_spawning: dict[tuple[int, ...], tuple[tuple[int, str], ...]] = caches.register("spawning_states", {})


def spawning(tx: Tx, ids: tuple[int, ...] | None = None) -> tuple[tuple[int, str], ...]:
    """(version id, state) of every step that hands work to sub-items: only items there have a light made of
    their children's too (lists probe the children of those alone). `ids`: every version's, when the caller has them."""
    if ids is None:
        ids = tuple(v for v, _k, _t in template_store.index(tx))
    found = _spawning.get(ids)
    if found is None:
        found = _spawning[ids] = tuple((v, s.name) for v in ids for s in definition(tx, v).states.values() if s.spawn)
    return found


def dated(tx: Tx, defn: Definition, fields: dict[str, Any]) -> dict[str, Any]:
    """The values deadlines count from: a `meeting` field's id replaced by the meeting's (current) date."""
    names = [n for n in defn.meeting_fields() if fields.get(n) is not None]
    if not names:
        return fields
    days = meeting_store.days(tx, [int(fields[n]) for n in names])
    return fields | {n: days[int(fields[n])].isoformat() for n in names if int(fields[n]) in days}


def latest_version(tx: Tx, key: str, chain: tuple[int | None, ...] = (None,)) -> tuple[TemplateVersionRow, Definition]:
    tv = template_store.latest(tx, key, chain)
    if tv is None:
        known = template_store.keys(tx)
        raise NotFound(f"没有已发布的流程模板“{shown(key)}”（已发布：{'、'.join(known) or '无'}）", template=shown(key),
                       published=known, next="publish")
    return tv, definition_of(tv)


def calendar(tx: Tx, defn: Definition | None = None, digest: str | None = None) -> WorkCalendar:
    """The calendar a template counts with: China's working days (with imports) or every day.

    `digest` is the latest import's digest when the caller has read it already.
    """
    if defn is not None and defn.calendar == "none":
        return EVERY_DAY
    key = digest if digest is not None else calendar_store.latest_digest(tx)
    cal = _calendars.get(key)
    if cal is None:
        cal = _calendars[key] = build_calendar(calendar_store.days(tx), calendar_store.imported_years(tx))
    return cal


