"""Who reads: a person (of the workbench, the API or a command's --actor) or the operator at the server's shell."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import NotPermitted
from ...rows import PersonRow
from ...store import Tx
from ...store import organisations as org_store
from .. import accounts, common


@dataclass(frozen=True)
class Operator:
    """The operator at the server's shell, named as the audit trail names him: he reads every item (he can read
    the database anyway) and holds no role on any."""

    @property
    def name(self) -> str:
        return accounts.operator()


OPERATOR = Operator()
Viewer = PersonRow | Operator | str  # a person, the operator, or a person's code (what --actor gives)


def person_of(tx: Tx, viewer: Viewer) -> PersonRow | None:
    """The person reading, still active (NotPermitted otherwise); None for the operator."""
    if isinstance(viewer, Operator):
        return None
    return common.acting(tx, viewer.code if isinstance(viewer, PersonRow) else viewer)


def person_needed(tx: Tx, viewer: Viewer) -> PersonRow:
    """The person reading, for what only a person has (an inbox, the items he moved)."""
    who = person_of(tx, viewer)
    if who is None:
        raise NotPermitted("请说明查看谁的待办", parameter="actor")
    return who


def sees_all(tx: Tx, who: PersonRow | None) -> bool:
    """Whether he sees every item: only the operator at the server's shell (common.may_see's rule)."""
    return who is None


def staff_orgs(tx: Tx, who: PersonRow) -> list[int | None]:
    """The organisations whose items he sees as their office or council staff (common.may_see's rule)."""
    return org_store.staff_orgs(tx, who.id)


def looked_over(tx: Tx, viewer: Viewer, what: str) -> list[int | None] | None:
    """The organisations whose counts the viewer may look over — his office's or council's 人大 and those below
    it — or None for the operator (all). NotPermitted for anyone else: the figures are for the staff."""
    who = person_of(tx, viewer)
    if who is None:
        return None
    mine = staff_orgs(tx, who)
    if not mine:
        raise NotPermitted(f"{what}仅各级人大常委会办公室和主任会议可看", viewer=who.code)
    return org_store.subtree(org_store.all_orgs(tx), mine)


def check_sees(tx: Tx, who: PersonRow | None, item_id: int) -> None:
    """NotFound when the item does not exist, or when he may not see it: he learns nothing, not even that it exists."""
    if who is None:
        common.item(tx, item_id)
    else:
        common.see(tx, who.code, item_id)
