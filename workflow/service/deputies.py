"""The deputies' registry as the staff read it: one row per deputy and mandate, by level and organisation."""

from __future__ import annotations

from dataclasses import dataclass

from ..deputy_file import LEVEL_CN, LEVELS
from ..errors import InvalidInput
from ..rows import PersonRow
from ..store import Store
from ..store import deputies as deputy_store
from ..store import proposals as proposal_store
from . import common
from .reads.viewer import Viewer, looked_over


@dataclass(frozen=True)
class DeputyInfo:
    code: str
    name: str
    active: bool
    level: str
    level_label: str  # 全国, 省, 市, 县（区）, 乡镇
    constituency: str | None
    team: str | None
    station: str | None
    term: int | None
    since: str | None
    until: str | None


def list_deputies(store: Store, viewer: Viewer, *, level: str | None = None, org: str | None = None) -> list[DeputyInfo]:
    """Every deputy's mandates (of one level; of the deputies in a unit of organisation `org`), by code: for the
    operator all of them; for the office and council staff of a 人大, those of the deputies in its units and in those
    of the 人大 below it; for anyone else, NotPermitted."""
    if level is not None and level not in LEVELS:
        raise InvalidInput(f"代表层级“{common.shown(level)}”应是 {'、'.join(LEVELS)} 之一"
                           f"（{'、'.join(LEVEL_CN[x] for x in LEVELS)}）", parameter="level")
    if org is not None and not common.is_code(org):
        raise InvalidInput(f"“{common.shown(org)}”不是组织代码", parameter="org")
    with store.read() as tx:
        orgs = looked_over(tx, viewer, "代表名册")
        rows = deputy_store.listed(tx, level=level, orgs=orgs, org_code=org)
    return [DeputyInfo(r.code, r.name, r.active, r.level, LEVEL_CN[r.level], r.constituency, r.team, r.station, r.term,
                       r.since.isoformat() if r.since else None, r.until.isoformat() if r.until else None) for r in rows]


def deputy_orgs(tx, who: PersonRow) -> list[int | None]:
    """The 人大 whose deputy he is (his deputies' units' organisations; None: the root), [] when he is none; a person
    with mandates but no such unit is the root's deputy."""
    orgs = proposal_store.deputy_orgs(tx, who.id)
    return orgs or ([None] if deputy_store.listed_for(tx, who.id) else [])
