"""Recording a deputies' activity (视察, 调研, …) on an item: who took part, when, what kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ... import authority
from ...calendar import TZ
from ...errors import InvalidInput
from ...store import Store, Tx, directory
from ...store import audit as audit_store
from ...store import items as item_store
from ...store import reports as report_store
from .. import common
from .basis import MAX_NOTE, card_of, day_of


@dataclass
class ActivityAdded:
    id: int
    item: int
    kind: str
    day: str
    deputies: list[str]


def add_activity(store: Store, actor: str, item_id: int, *, kind: str, day: str, deputies: list[str], now: datetime,
                 note: str | None = None, card_path: str | Path | None = None) -> ActivityAdded:
    """Record a deputies' activity on an item (视察, 调研, …) with the deputies who attended: the office or the
    item's group lead; each deputy must be a person holding the `deputy` role in the directory."""
    card = card_of(card_path)
    if kind not in card.activity_kinds:
        raise InvalidInput(f"活动类别“{common.shown(kind)}”应是 {'、'.join(card.activity_kinds)} 之一", parameter="kind")
    when = day_of(day, "活动日期")
    today = now.astimezone(TZ).date()
    if when > today:  # recorded afterwards: an activity counts once it has taken place
        raise InvalidInput(f"活动日期 {when} 晚于今天（{today}）：只能登记已经举行的活动", parameter="date")
    if note is not None:
        note = common.text_in(note, "说明")
        if len(note) > MAX_NOTE:
            raise InvalidInput(f"说明有 {len(note)} 个字，最多 {MAX_NOTE} 个")
    codes = list(dict.fromkeys(c.strip() for c in deputies if c.strip()))
    if not codes:
        raise InvalidInput("请列出参加活动的代表", field="deputies", parameter="deputies")

    def work(tx: Tx) -> ActivityAdded:
        who = common.acting(tx, actor)
        item = common.item(tx, item_id)
        defn = common.definition(tx, item.template_version_id)
        holders = item_store.holders(tx, item.id)
        authority.record_activity(defn, who, authority.roles_held(holders, who.id), item.id, holders)
        people = []
        for code in codes:
            p = common.person(tx, code) if common.is_code(code) else None
            if p is None or "deputy" not in directory.membership_roles(tx, p.id):
                raise InvalidInput(f"“{common.shown(code)}”不是代表（人员名录中担任代表角色的人）", person=common.shown(code))
            people.append(p)
        aid = report_store.add_activity(tx, item_id=item.id, kind=kind, day=when, note=note,
                                        deputy_ids=[p.id for p in people], at=now, by=who.code)
        audit_store.append(tx, at=now, actor=who.code, kind="activity_added", item_id=item.id, from_state=item.state,
                           to_state=item.state, data={"activity": aid, "kind": kind, "day": when.isoformat(),
                                                      "deputies": [p.code for p in people], "note": note})
        return ActivityAdded(aid, item.id, kind, when.isoformat(), [p.name for p in people])
    return common.guarded(store, actor, now, f"activity {kind}", item_id, work)
