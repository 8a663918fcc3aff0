"""我监督: the office or an item's group lead announces a supervision activity (视察, 调研, 执法检查, 座谈, 专题询问, 列席),
deputies sign up, and once the day has come the organiser confirms who attended (签到) — never himself. A confirmed
activity on an item is recorded as the item's activity, which the board counts; each step is an audit event."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import authority
from ..calendar import TZ
from ..errors import Conflict, InvalidInput, NotFound, NotPermitted
from ..present import fmt
from ..rows import PersonRow
from ..store import Store, Tx
from ..store import announcements as store_
from ..store import audit as audit_store
from ..store import items as item_store
from ..store import organisations as org_store
from ..store import reports as report_store
from . import common
from .deputies import deputy_orgs
from .reads.viewer import Viewer, person_of
from .reports.basis import MAX_NOTE, card_of, day_of


@dataclass(frozen=True)
class Attendee:
    code: str
    name: str
    signed_up: bool
    attended: bool


@dataclass(frozen=True)
class AnnouncementView:
    id: int
    kind: str
    day: str
    place: str | None
    note: str | None
    item: int | None
    organiser: str
    confirmed: str | None
    people: list[Attendee] = field(default_factory=list)
    signed_up: bool = False  # the viewer has signed up
    attended: bool = False  # the viewer's attendance is confirmed


def _view(r: store_.AnnouncementRow, people: list[store_.SignupRow], who: PersonRow | None) -> AnnouncementView:
    mine = next((p for p in people if who is not None and p.person_id == who.id), None)
    return AnnouncementView(r.id, r.kind, r.day.isoformat(), r.place, r.note, r.item_id, r.organiser,
                            fmt(r.confirmed_at) if r.confirmed_at else None,
                            [Attendee(p.code, p.name, p.signed_at is not None, p.attended) for p in people],
                            mine is not None and mine.signed_at is not None, mine is not None and mine.attended)


def _text(value: str | None, what: str, limit: int) -> str | None:
    if value is None or not str(value).strip():
        return None
    text = common.text_in(str(value).strip(), what, one_line=True)
    if len(text) > limit:
        raise InvalidInput(f"{what}有 {len(text)} 个字，最多 {limit} 个")
    return text


def announce(store: Store, actor: str, *, kind: str, day: str, now: datetime, place: str | None = None,
             item: int | None = None, note: str | None = None, card_path: str | Path | None = None) -> AnnouncementView:
    """Announce an activity for an item (its office or group lead) or for the organiser's 人大 (its staff)."""
    card = card_of(card_path)
    if kind not in card.activity_kinds:
        raise InvalidInput(f"活动类别“{common.shown(kind)}”应是 {'、'.join(card.activity_kinds)} 之一", parameter="kind")
    when = day_of(day, "活动日期")
    place, note = _text(place, "地点", 200), _text(note, "说明", MAX_NOTE)

    def work(tx: Tx) -> AnnouncementView:
        who = common.acting(tx, actor)
        if item is not None:
            it = common.item(tx, item)
            defn = common.definition(tx, it.template_version_id)
            holders = item_store.holders(tx, it.id)
            authority.record_activity(defn, who, authority.roles_held(holders, who.id), it.id, holders)
            org = it.organisation_id
        else:
            staff = org_store.staff_orgs(tx, who.id)
            if not staff:
                raise NotPermitted(f"{who.name}不能发布活动：由常委会办公室、主任会议或事项的组长发布", person=who.code)
            org = staff[0]
        aid = store_.add(tx, organisation_id=org, item_id=item, kind=kind, day=when, place=place, note=note,
                         organiser=who.code, created_at=now)
        audit_store.append(tx, at=now, actor=who.code, kind="activity_announced", item_id=item,
                           data={"announcement": aid, "kind": kind, "day": when.isoformat(), "place": place})
        return _view(store_.get(tx, aid), [], who)

    return common.guarded(store, actor, now, f"announce {kind}", item, work)


def _readable(tx: Tx, who: PersonRow | None, announcement_id: int, lock: bool = False) -> store_.AnnouncementRow:
    r = store_.get(tx, announcement_id, lock=lock)
    if r is None or who is not None and not (
            r.organiser == who.code or r.organisation_id in org_store.staff_orgs(tx, who.id)
            or r.organisation_id in deputy_orgs(tx, who)
            or r.item_id is not None and common.may_see(tx, who, r.item_id)
            or any(p.person_id == who.id for p in store_.signups(tx, [r.id])[r.id])):
        raise NotFound(f"活动 {announcement_id} 不存在", announcement=announcement_id)
    return r


def signup(store: Store, actor: str, announcement_id: int, now: datetime) -> AnnouncementView:
    """A deputy of its 人大 signs up, once, until the activity's day is over."""

    def work(tx: Tx) -> AnnouncementView:
        who = common.acting(tx, actor)
        r = _readable(tx, who, announcement_id, lock=True)
        if r.organisation_id not in deputy_orgs(tx, who):
            raise NotPermitted(f"{who.name}不是本级人大代表，不能报名参加活动 {announcement_id}", announcement=announcement_id)
        if r.confirmed_at is not None or r.day < now.astimezone(TZ).date():
            raise Conflict(f"活动 {announcement_id}（{r.day}）已经举行，不能再报名", announcement=announcement_id)
        if not store_.sign_up(tx, announcement_id, who.id, now):
            raise Conflict(f"您已报名参加活动 {announcement_id}", announcement=announcement_id)
        audit_store.append(tx, at=now, actor=who.code, kind="activity_signup", item_id=r.item_id,
                           data={"announcement": announcement_id})
        return _view(r, store_.signups(tx, [r.id])[r.id], who)

    return common.guarded(store, actor, now, "sign up for an activity", None, work)


def confirm(store: Store, actor: str, announcement_id: int, deputies: list[str], now: datetime) -> AnnouncementView:
    """签到: the organiser (or its 人大's office) confirms who attended, once its day has come; never himself. For an
    item's activity this records the item's activity with those deputies (the board counts it)."""
    codes = list(dict.fromkeys(c.strip() for c in deputies if c and c.strip()))
    if not codes:
        raise InvalidInput("请列出参加活动的代表", parameter="deputy")

    def work(tx: Tx) -> AnnouncementView:
        who = common.acting(tx, actor)
        r = _readable(tx, who, announcement_id, lock=True)
        if r.organiser != who.code and r.organisation_id not in org_store.staff_orgs(tx, who.id):
            raise NotPermitted(f"活动 {announcement_id} 的签到由发布人 {r.organiser} 或本级常委会办公室确认",
                               announcement=announcement_id)
        if r.day > now.astimezone(TZ).date():
            raise InvalidInput(f"活动 {announcement_id} 定于 {r.day} 举行：举行后才能确认签到", announcement=announcement_id)
        if r.confirmed_at is not None:
            raise Conflict(f"活动 {announcement_id} 的签到已于 {fmt(r.confirmed_at)} 确认", announcement=announcement_id)
        if who.code in codes:
            raise NotPermitted("不能确认自己的签到：请由另一位组织者确认", announcement=announcement_id)
        people = []
        for code in codes:
            p = common.person(tx, code)
            if r.organisation_id not in deputy_orgs(tx, p):
                raise InvalidInput(f"{p.name}（{p.code}）不是本级人大代表", person=p.code)
            people.append(p)
        store_.mark_attended(tx, announcement_id, [p.id for p in people])
        activity = None
        if r.item_id is not None:
            activity = report_store.add_activity(tx, item_id=r.item_id, kind=r.kind, day=r.day, note=r.note,
                                                 deputy_ids=[p.id for p in people], at=now, by=who.code)
        store_.confirmed(tx, announcement_id, by=who.code, at=now, activity_id=activity)
        audit_store.append(tx, at=now, actor=who.code, kind="activity_confirmed", item_id=r.item_id,
                           data={"announcement": announcement_id, "activity": activity, "deputies": [p.code for p in people]})
        return _view(store_.get(tx, announcement_id), store_.signups(tx, [r.id])[r.id], who)

    return common.guarded(store, actor, now, "confirm attendance", None, work)


def list_announcements(store: Store, viewer: Viewer) -> list[AnnouncementView]:
    """The newest announcements he may read: his 人大's (as its staff or deputy), his own, those he signed up for."""
    with store.read() as tx:
        who = person_of(tx, viewer)
        orgs = None if who is None else list(dict.fromkeys(org_store.staff_orgs(tx, who.id) + deputy_orgs(tx, who)))
        rows = store_.readable(tx, orgs, who.id if who else None, who.code if who else None)
        people = store_.signups(tx, [r.id for r in rows])
        return [_view(r, people[r.id], who) for r in rows]


@dataclass(frozen=True)
class AnnouncementPage:
    announcement: AnnouncementView
    may_signup: bool  # a deputy of its 人大 who has not signed up, before the day is over and attendance confirmed
    may_confirm: bool  # its organiser or its 人大's office, once the day has come, before attendance is confirmed


def announcement_page(store: Store, viewer: Viewer, announcement_id: int, now: datetime) -> AnnouncementPage:
    """The announcement with what the viewer may do on it (the workbench's page)."""
    with store.read() as tx:
        who = person_of(tx, viewer)
        r = _readable(tx, who, announcement_id)
        view = _view(r, store_.signups(tx, [r.id])[r.id], who)
        today, open_ = now.astimezone(TZ).date(), r.confirmed_at is None
        signup_ = (who is not None and open_ and r.day >= today and not view.signed_up
                   and r.organisation_id in deputy_orgs(tx, who))
        confirm_ = (who is not None and open_ and r.day <= today
                    and (r.organiser == who.code or r.organisation_id in org_store.staff_orgs(tx, who.id)))
        return AnnouncementPage(view, signup_, confirm_)


def activity_kinds(card_path: str | Path | None = None) -> list[str]:
    """The kinds an activity may be of (the scorecard's `activity_kinds`)."""
    return list(card_of(card_path).activity_kinds)
