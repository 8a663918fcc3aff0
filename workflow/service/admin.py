"""Administration, each by an administrator: publish templates, import people and calendar years, revive dead notices.

The first people import into an empty directory needs no administrator (it is how the first
one arrives) and must mark at least one; it is recorded in the audit trail like any other.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from .. import authority, calendar_notice, people_file, templates
from ..deadlines import step_times
from ..errors import FileError, InvalidInput, NotFound, NotPermitted, Problem
from ..present import exact
from ..rows import PersonRow
from ..store import OutboxStatus, StepStatus, Store, Tx, directory
from ..store import audit as audit_store
from ..store import calendar as calendar_store
from ..store import items as item_store
from ..store import meta as meta_store
from ..store import organisations as org_store
from ..store import outbox as outbox_store
from ..store import progress as progress_store
from ..store import templates as template_store
from . import common


@dataclass
class Published:
    key: str
    title: str
    version: int
    hash: str
    file: str
    created: bool


@dataclass
class PeopleImported:
    file: str
    people: int
    units: int
    memberships: int
    new_people: int
    new_memberships: int
    bootstrap: bool


@dataclass
class CalendarImported:
    year: int
    source: str
    holidays: int
    workdays: int
    recomputed_steps: int


@dataclass
class Retried:
    count: int
    ids: list[int]


def administrator(tx: Tx, actor: str | None, what: str) -> PersonRow:
    if not actor:
        raise NotPermitted(f"{what}需要管理员：请说明由哪位管理员办理", parameter="actor")
    who = common.acting(tx, actor)
    authority.administrator(who, what)
    return who


def mark_simulation(store: Store, why: str, now: datetime) -> None:
    """Mark a new, empty database as a simulation (the demo's): its actions may be dated ahead of the clock.

    The mark lives in the database, so a copy of the file stays a simulation; a database that holds
    people already cannot be marked (a real one cannot be turned into a rehearsal to dodge the clock).
    """
    common.check_now(now)
    with store.transaction() as tx:
        if directory.count_people(tx):
            raise InvalidInput("只有新建的空数据库才能标记为演练数据库")
        meta_store.put(tx, meta_store.SIMULATION, why)
        audit_store.append(tx, at=now, actor=None, kind="simulation_marked", data={"why": why})
    store._simulation = why


def set_simulation_clock(store: Store, at: datetime) -> None:
    """Record the moment a simulation's story has reached (the demo's 2026-04-20 09:10), where `serve --clock demo`
    starts the workbench's clock. Only on a simulation."""
    common.check_now(at)
    with store.transaction() as tx:
        if meta_store.get(tx, meta_store.SIMULATION) is None:
            raise InvalidInput("只有演示（模拟）数据库才有演示时钟")
        meta_store.put(tx, meta_store.SIMULATION_CLOCK, at.astimezone(UTC).isoformat())


def simulation_clock(store: Store) -> datetime:
    """Where the workbench's clock starts on a simulation (`serve --clock demo`): the moment its story reached, or
    the last event about an item if a workbench has acted later than that (never before what is recorded)."""
    with store.read() as tx:
        if meta_store.get(tx, meta_store.SIMULATION) is None:
            raise InvalidInput("演示时钟只能用于演示（模拟）数据库：这是正式数据库，工作台按实际时间办理",
                               parameter="clock")
        told = meta_store.get(tx, meta_store.SIMULATION_CLOCK)
        last = audit_store.latest_item_event(tx)
    start = datetime.fromisoformat(told) if told else None
    moments = [t for t in (start, last) if t is not None]
    if not moments:
        raise InvalidInput("这个演示数据库还没有任何事项，无从确定演示时钟", parameter="clock")
    return max(moments)


def running_from(start: datetime) -> Callable[[], datetime]:
    """A clock that starts at `start` and runs on with the wall clock (the demo's workbench)."""
    t0 = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - t0)


def publish(store: Store, actor: str | None, path: str | Path, now: datetime, org: str | None = None) -> Published:
    """Store a validated template file as an immutable version (same content → the same version, unchanged) and
    publish it to the root or, `org`, to that organisation and those below it (docs/people.md, "Organisations")."""
    return _publish(store, actor, now, Path(path).name, lambda: templates.validate_paths([path], store.settings.notice_dir)[0],
                    org)


def publish_text(store: Store, actor: str | None, name: str, text: str, now: datetime) -> Published:
    """publish() for template text (an upload to the workbench)."""
    return _publish(store, actor, now, name, lambda: templates.validate_text(text, name, store.settings.notice_dir))


def _publish(store: Store, actor: str | None, now: datetime, name: str, validated, org: str | None = None) -> Published:
    def run(tx: Tx) -> Published:
        if directory.count_people(tx) == 0:
            raise InvalidInput("发布流程模板需要管理员，但尚未登记任何人员：请先导入人员文件（第一次导入无需管理员），"
                               "并用 admin: true 标明管理员", next="import_people")
        administrator(tx, actor, "发布流程模板")
        target = None
        if org is not None:
            found = org_store.by_code(tx, org)
            if found is None:
                raise InvalidInput(f"没有编码为“{common.shown(org)}”的组织", field="org", parameter="org", next="list_orgs")
            target = None if found.parent_id is None else found.id  # the root's publications are stored as NULL
        defn = validated()
        existing = template_store.by_hash(tx, defn.content_hash)
        if existing is not None and template_store.scoped(tx, existing.id, target):
            return Published(existing.key, existing.title, existing.id, existing.content_hash, existing.source_name, False)
        vid = existing.id if existing is not None else template_store.insert_version(
            tx, key=defn.key, title=defn.title, content_hash=defn.content_hash, source_name=name,
            source_text=defn.source_text, at=now, by=actor)
        template_store.add_scope(tx, vid, target, now, actor)
        audit_store.append(tx, at=now, actor=actor, kind="template_published",
                           data={"key": defn.key, "version_id": vid, "hash": defn.content_hash, "file": name,
                                 **({"organisation": org} if org is not None else {})})
        return Published(defn.key, defn.title, vid, defn.content_hash, name, True)

    return common.guarded(store, actor, now, "publish template", None, run)


def import_people(store: Store, actor: str | None, path: str | Path, now: datetime) -> PeopleImported:
    """Create or update people, units and memberships from a YAML or CSV file; all of it, or nothing.

    Raises FileError listing every located problem (nothing is imported then).
    """

    def run(tx: Tx) -> PeopleImported:
        bootstrap = directory.count_people(tx) == 0
        if not bootstrap:
            administrator(tx, actor, "导入人员")
        data = people_file.read(path)
        in_file = {p.code for p in data.people}
        referenced = {m.person for u in data.units for m in u.members}
        known = directory.known_codes(tx, referenced - in_file)
        problems = [Problem(data.name, m.line or u.line or 1, 1,
                            f"unit '{u.code}': unknown person '{m.person}' (list them under `people`)")
                    for u in data.units for m in u.members if m.person not in in_file and m.person not in known]
        orgs = {o.code for o in data.organisations} | set(directory.org_ids_of(tx))
        problems += [Problem(data.name, u.line or 1, 1, f"单位“{u.code}”所属的组织“{u.organisation}”既不在本文件的 "
                                                      f"organisations 中，也未在系统中登记")
                     for u in data.units if u.organisation is not None and u.organisation not in orgs]
        if problems:
            raise FileError(problems)
        if bootstrap and not any(p.admin and p.active for p in data.people):
            raise FileError([Problem(data.name, 1, 1, "the first people file must mark at least one administrator "
                                                      "(`admin: true`): nobody could publish templates or import anything after it")])
        counts = directory.apply_import(tx, data)
        if not directory.admins(tx):
            raise FileError([Problem(data.name, 1, 1, "this file would leave no active administrator; keep `admin: true` "
                                                      "on at least one person")])
        flags = directory.flags(tx)
        audit_store.append(tx, at=now, actor=actor if not bootstrap else (actor or "bootstrap"), kind="people_imported",
                           data={"file": Path(path).name, "people": counts.people, "units": counts.units,
                                 "memberships": counts.memberships, "bootstrap": bootstrap, **flags})
        return PeopleImported(Path(path).name, counts.people, counts.units, counts.memberships, counts.new_people,
                              counts.new_memberships, bootstrap)

    return common.guarded(store, actor, now, "import people", None, run)


def import_calendar(store: Store, actor: str | None, path: str | Path, now: datetime) -> CalendarImported:
    """Replace a year's calendar with a State Council notice's days, then recompute provisional open steps."""

    def run(tx: Tx) -> CalendarImported:
        administrator(tx, actor, "导入节假日安排")
        year, source, days = calendar_notice.parse(path)
        previous = calendar_store.latest_digest(tx)
        digest = hashlib.sha256(json.dumps([previous, year, [(d.isoformat(), w, n) for d, w, n in days]],
                                           ensure_ascii=False).encode()).hexdigest()
        calendar_store.replace_year(tx, year, days, source=source, digest=digest, at=now, by=actor)
        recomputed = recompute_provisional(tx)
        # the board's working days late, counted as steps closed, change from the notice's first day on
        progress_store.rebuild(tx, common.calendar(tx), since=min([date(year, 1, 1)] + [d for d, _w, _n in days]))
        audit_store.append(tx, at=now, actor=actor, kind="calendar_imported",
                           data={"year": year, "source": source, "days": len(days), "recomputed_steps": len(recomputed),
                                 "steps": recomputed})
        return CalendarImported(year, source, sum(1 for _, w, _ in days if not w), sum(1 for _, w, _ in days if w),
                                len(recomputed))

    return common.guarded(store, actor, now, "import calendar", None, run)


def recompute_provisional(tx: Tx) -> dict[str, str | None]:
    """Recompute the due times of open steps that were computed from provisional calendar data; → step id (as text,
    a JSON key) → its due time now, to the microsecond (what the audit trail records)."""
    out: dict[str, str | None] = {}
    for step, item in item_store.open_provisional_steps(tx):
        defn = common.definition(tx, item.template_version_id)
        t = step_times(common.calendar(tx, defn), defn, defn.states[step.state], common.dated(tx, defn, item.fields), entered_at=step.entered_at,
                       extended_to=step.extended_to, extra_units=step.extra_units, next_rung=step.next_rung,
                       running=step.status == StepStatus.OPEN)
        item_store.update_step(tx, step.id, due_at=t.due_at, due_rule=t.due_rule, provisional=t.provisional,
                               yellow_at=t.yellow_at, next_escalation_at=t.next_escalation_at)
        if item.current_step_id == step.id:
            item_store.update_item(tx, item.id, due_at=t.due_at, yellow_at=t.yellow_at)
        out[str(step.id)] = exact(t.due_at)
    return out


@dataclass
class Recounted:
    rows: int


def recount_progress(store: Store, actor: str | None, now: datetime) -> Recounted:
    """Count the board's progress again from the items and steps (an administrator): after rows were loaded or
    restored outside the engine. The moves keep the counts by themselves; this changes nothing when they agree."""

    def run(tx: Tx) -> Recounted:
        administrator(tx, actor, "重算比进度统计")
        rows = progress_store.rebuild(tx, common.calendar(tx))
        audit_store.append(tx, at=now, actor=actor, kind="progress_recounted", data={"rows": rows})
        return Recounted(rows)

    return common.guarded(store, actor, now, "recount progress", None, run)


def retry_outbox(store: Store, actor: str | None, now: datetime, ids: list[int] | None = None) -> Retried:
    """Revive dead messages (the given ids, or every dead one): pending again, attempts reset."""

    def run(tx: Tx) -> Retried:
        administrator(tx, actor, "重发发送失败的通知")
        if ids:
            found = outbox_store.by_ids(tx, ids)
            missing = set(ids) - {r.id for r in found}
            if missing:
                raise NotFound(f"发件箱中没有消息 {'、'.join(map(str, sorted(missing)))}")
            not_dead = [r.id for r in found if r.status != OutboxStatus.DEAD]
            if not_dead:
                raise InvalidInput(f"消息 {'、'.join(map(str, not_dead))} 并未发送失败：只有发送失败的消息可以重发")
        rows = outbox_store.dead(tx, ids)
        outbox_store.revive(tx, [r.id for r in rows], now)
        if rows:
            audit_store.append(tx, at=now, actor=actor, kind="outbox_retried", data={"messages": [r.id for r in rows]})
        return Retried(len(rows), [r.id for r in rows])

    return common.guarded(store, actor, now, "retry outbox", None, run)


