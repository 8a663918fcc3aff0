"""What a person may start (立项) in the browser: the templates, the groups he may start each for, its first fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...store import Store, directory
from ...store import organisations as org_store
from ...store import templates as template_store
from .. import common
from .page import first_fields
from .viewer import Viewer, person_needed

NO_GROUP = ""  # the choice "不指定小组": the item's roles come from the units that apply to all items


@dataclass(frozen=True)
class Startable:
    """One template a person may start: where (groups by code and name) and with which fields of its first step."""
    key: str
    title: str
    groups: tuple[tuple[str, str], ...]  # (code, name); NO_GROUP first when the all-items units suffice
    fields: tuple[dict, ...] = field(default=())


def startable(store: Store, viewer: Viewer) -> list[Startable]:
    """The templates he may start an item of, each with the groups it may be for — decided as create_item decides:
    he must hold a role of the first step through the group's or the all-items units (an administrator: any).
    Templates of sub-items (those another template's step spawns) are left out: their parent starts them."""
    with store.read() as tx:
        who = person_needed(tx, viewer)
        mine = directory.units_of(tx, who.id)
        orgs = list(dict.fromkeys(u.organisation_id for u in mine)) or [None]
        every = directory.units_of(tx, None)
        if who.admin:
            orgs = list(dict.fromkeys([None, *(u.organisation_id for u in every)]))
        groups = [u for u in every if u.kind == "group" and u.organisation_id in orgs]
        out: dict[str, tuple[str, list[tuple[str, str]], tuple[dict, ...]]] = {}
        for org in orgs:
            chain = org_store.chain(tx, org)
            versions = [tv for key in template_store.keys(tx) if (tv := template_store.latest(tx, key, chain))]
            defns = [common.definition_of(tv) for tv in versions]
            spawned = {st.spawn.template for d in defns for st in d.states.values() if st.spawn}
            defns = [d for d in defns if d.key not in spawned]  # a sub-item's template is started by its parent's step
            roles = sorted({r for d in defns for r in d.roles})
            places = [(NO_GROUP, "不指定小组", [])] + [(g.code, g.name, [g.id]) for g in groups if g.organisation_id == org]
            for code, name, unit_ids in places:
                holders = {} if who.admin else directory.default_holders(tx, unit_ids, roles, org)
                for d in defns:
                    first = {r for t in d.transitions_from(d.initial) for r in t.roles}
                    if who.admin or any(who.id in holders.get(r, []) for r in first):
                        entry = out.setdefault(d.key, (d.title, [], first_fields(d)))
                        if (code, name) not in entry[1]:
                            entry[1].append((code, name))
    return [Startable(key, title, tuple(places), fields) for key, (title, places, fields) in out.items()]
