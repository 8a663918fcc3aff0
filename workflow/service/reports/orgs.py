"""The roll-up of organisations: per 人大 and those below it, items open and closed, lights, on-time rate, lateness."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from ...calendar import overdue_workdays
from ...deadlines import light
from ...errors import NotPermitted
from ...people_file import LEVEL_CN
from ...store import Store
from ...store import organisations as org_store
from .. import common
from ..reads.viewer import Viewer, person_of
from .basis import day_of, midnight


@dataclass(eq=False)
class OrgRollup:
    """One organisation's figures, counted over its own items (not those of the organisations below it, which are
    its children's rows): `on_time_rate` of the steps with a deadline closed so far, None (无数据) when none has;
    `late_workdays` those steps' working days late plus the open steps' working days overdue at the day's end."""

    code: str
    name: str
    level: str
    level_label: str
    items: dict[str, int]  # total, open, closed, green, yellow, red
    on_time_rate: float | None
    late_workdays: int
    no_data: bool
    children: list[OrgRollup] = field(default_factory=list)


def org_rollup(store: Store, viewer: Viewer, as_of: str | date) -> list[OrgRollup]:
    """The organisations the viewer may look over — those whose office or council he belongs to, with every
    organisation below them (the operator: the whole tree) — as a tree of figures as of the end of `as_of`.
    Only counts: no item of another organisation is opened to him."""
    day = day_of(as_of, "统计日期（as_of）")
    cut = midnight(day + timedelta(days=1))
    with store.read() as tx:
        who = person_of(tx, viewer)
        orgs = org_store.all_orgs(tx)
        clocks = org_store.item_clocks(tx, cut)
        closed = org_store.closed_counts(tx, day)
        mine = None if who is None else set(org_store.staff_orgs(tx, who.id))
        cal = common.calendar(tx)
    if mine is not None and not mine:
        raise NotPermitted("组织汇总仅各级人大常委会办公室和主任会议可看", viewer=who.code)
    root = next((o for o in orgs if o.parent_id is None), None)
    key = {o.id: (None if o is root else o.id) for o in orgs}  # the root's units and items are stored as NULL
    figures: dict[int | None, dict[str, int]] = {}
    overdue: dict[int | None, int] = {}
    for org_id, finished, due, yellow, paused in clocks:
        f = figures.setdefault(org_id, dict.fromkeys(("total", "open", "closed", "green", "yellow", "red"), 0))
        f["total"] += 1
        if finished is not None and finished < cut:
            f["closed"] += 1
        else:
            f["open"] += 1
            f[light(due, yellow, cut, paused)] += 1
            if due is not None and (paused or cut) > due:
                overdue[org_id] = overdue.get(org_id, 0) + overdue_workdays(cal, due, paused or cut)

    def node(o) -> OrgRollup:
        k = key[o.id]
        n, on_time, late = closed.get(k, (0, 0, 0))
        items = figures.get(k) or dict.fromkeys(("total", "open", "closed", "green", "yellow", "red"), 0)
        return OrgRollup(o.code, o.name, o.level, LEVEL_CN.get(o.level, o.level), items,
                         round(on_time / n, 3) if n else None, late + overdue.get(k, 0), items["total"] == 0 and n == 0,
                         [node(c) for c in sorted(orgs, key=lambda x: x.code) if c.parent_id == o.id])

    if root is None:  # no organisation named: the deployment is one
        items = figures.get(None) or dict.fromkeys(("total", "open", "closed", "green", "yellow", "red"), 0)
        n, on_time, late = closed.get(None, (0, 0, 0))
        return [OrgRollup("", store.settings.org_name, "city", LEVEL_CN["city"], items, round(on_time / n, 3) if n else None,
                          late + overdue.get(None, 0), items["total"] == 0 and n == 0)]
    tops = [root] if mine is None or None in mine else [o for o in orgs if o.id in mine]
    below = {o.id for o in tops}
    return [node(o) for o in tops if o.parent_id not in below or o is root]
