"""Who may do what on an item: pure rules over the template, the roles a person holds there and
whether he is an administrator. Every refusal names who may.

The use cases call these in a fixed order — the person exists and is active, then holds a role
that may do this on this item, then time and version, then fields and guards — so someone with
no business on an item learns nothing about it from a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable

from .definition import Definition, State, Transition
from .errors import NotPermitted, TriggerNotAllowed
from .rows import Holder, PersonRow


def _who(p: PersonRow) -> str:
    return f"{p.name} ({p.code})"


def roles_held(holders: dict[str, list[Holder]], person_id: int) -> set[str]:
    return {role for role, ps in holders.items() if any(p.id == person_id for p in ps)}


def who_may(defn: Definition, roles: Iterable[str], holders: dict[str, list[Holder]] | None = None) -> str:
    """'主任会议 (council): 李明、郑宇 or 常委会办公室 (office): 王芳' — the roles, and who holds them on the item."""
    parts = []
    for r in dict.fromkeys(roles):
        names = [p.name for p in (holders or {}).get(r, []) if p.active]
        text = f"{defn.role_label(r)} ({r})"
        if holders is not None:
            text += ": " + ("、".join(names) if names else "nobody holds it on this item")
        parts.append(text)
    return " or ".join(parts) if parts else "nobody (the template names no role for it)"


def _held_text(defn: Definition, held: set[str]) -> str:
    return ", ".join(f"{defn.role_label(r)} ({r})" for r in sorted(held)) or "no role"


def acting_person(person: PersonRow | None, code: str) -> PersonRow:
    """The person acting, who must exist and be active."""
    if person is None:
        raise NotPermitted(f"“{code}”不是本系统登记的人员，不能办理", person=code, next="list_people")
    if not person.active:
        raise NotPermitted(f"{_who(person)} is disabled and may not act; an administrator can enable the account again")
    return person


def require_role_on_item(defn: Definition, who: PersonRow, held: set[str], item_id: int, what: str) -> None:
    """Anyone acting on an item must hold some role on it (administrators only where a rule says so)."""
    if not held:
        raise NotPermitted(f"{_who(who)} holds no role on item {item_id} and may not {what} it")


def advance(defn: Definition, state: str, trigger: str, item_id: int, who: PersonRow, held: set[str],
            holders: dict[str, list[Holder]]) -> list[Transition]:
    """The transitions `trigger` may take from `state`, if this person may make that move at all."""
    candidates = [t for t in defn.transitions_from(state) if t.trigger == trigger]
    if not held:
        need = f"; it needs {who_may(defn, [r for t in candidates for r in t.roles], holders)}" if candidates else ""
        raise NotPermitted(f"{_who(who)} holds no role on item {item_id} and may not '{trigger}' it{need}")
    if not candidates:
        raise TriggerNotAllowed(item_id, state, trigger, defn.triggers_from(state))
    allowed = [r for t in candidates for r in t.roles]
    if not held & set(allowed):
        label = defn.states[state].label
        raise NotPermitted(f"{_who(who)} may not '{trigger}' item {item_id} at step '{label}': it needs "
                           f"{who_may(defn, allowed, holders)}; {who.name} holds {_held_text(defn, held)} on this item")
    return candidates


def chosen_move(defn: Definition, t: Transition, state: str, item_id: int, who: PersonRow, held: set[str],
                holders: dict[str, list[Holder]]) -> None:
    """The variant the guards chose may name fewer roles than its siblings: check it again."""
    if not held & set(t.roles):
        raise NotPermitted(f"{_who(who)} may not '{t.trigger}' ({t.label}) item {item_id} at step "
                           f"'{defn.states[state].label}': it needs {who_may(defn, t.roles, holders)}")


def fields_given(defn: Definition, state: str, names: Iterable[str], allowed_with_move: set[str], item_id: int,
                 who: PersonRow, held: set[str], holders: dict[str, list[Holder]]) -> None:
    """Each field given must be one the move asks for, or one this person may change at this step."""
    for name in names:
        if name in allowed_with_move or name not in defn.fields:
            continue
        editors = defn.field_editors(name, state)
        if not held & set(editors):
            raise NotPermitted(f"{_who(who)} may not change field '{name}' ({defn.fields[name].label}) of item {item_id} "
                               f"at step '{defn.states[state].label}': it may be changed by {who_may(defn, editors, holders)}")


def assign(defn: Definition, role: str, item_id: int, who: PersonRow, held: set[str], holders: dict[str, list[Holder]],
           targets: Iterable[str], verb: str = "grant") -> None:
    """Granting or withdrawing a role: the template's `assignable_by`; nobody grants himself a role."""
    if who.admin:
        return
    assigners = defn.assigners_of(role)
    if not held & set(assigners):
        raise NotPermitted(f"{_who(who)} may not {verb} the role {defn.role_label(role)} ({role}) on item {item_id}: "
                           f"it is granted by {who_may(defn, assigners, holders)} or an administrator")
    if verb == "grant" and who.code in set(targets):
        raise NotPermitted(f"{_who(who)} may not grant himself the role {defn.role_label(role)} ({role}) on item {item_id}: "
                           f"ask {who_may(defn, assigners, holders)} or an administrator")


def create(defn: Definition, who: PersonRow, held: set[str], assigned_roles: Iterable[str]) -> None:
    """Creating an item: whoever may act on its first step (as its roles will be), or an administrator."""
    if who.admin:
        return
    first = [r for t in defn.transitions_from(defn.initial) for r in t.roles]
    if not held & set(first):
        raise NotPermitted(f"{_who(who)} may not create a '{defn.title}' item: it is created by "
                           f"{who_may(defn, first)} of the item's group, or an administrator")
    for role in assigned_roles:
        assigners = defn.assigners_of(role)
        if not held & set(assigners):
            raise NotPermitted(f"{_who(who)} may not grant the role {defn.role_label(role)} ({role}) when creating an item: "
                               f"it is granted by {who_may(defn, assigners)} or an administrator")


def pause(defn: Definition, state: State, item_id: int, who: PersonRow, held: set[str], holders: dict[str, list[Holder]],
          verb: str) -> None:
    """Pausing or resuming a step: the state's pause roles (a final step has none to check: nothing runs)."""
    if state.final:
        roles = sorted({r for s in defn.states.values() for r in s.pause_roles})
        if not held & set(roles):
            raise NotPermitted(f"{_who(who)} may not {verb} item {item_id}: it needs {who_may(defn, roles, holders)}")
        return
    if not held & set(state.pause_roles):
        raise NotPermitted(f"{_who(who)} may not {verb} step '{state.label}' of item {item_id}: it needs "
                           f"{who_may(defn, state.pause_roles, holders)}")


def request_extension(defn: Definition, state: State, item_id: int, who: PersonRow, held: set[str],
                      holders: dict[str, list[Holder]]) -> None:
    """Only the step's owner asks for more time, and only where someone may approve it."""
    if not held:
        raise NotPermitted(f"{_who(who)} holds no role on item {item_id} and may not ask to extend it")
    if not state.extension_approvers:
        raise NotPermitted(f"step '{state.label}' of item {item_id} cannot be extended: the template names no approver")
    if state.owner not in held:
        raise NotPermitted(f"{_who(who)} may not ask to extend step '{state.label}' of item {item_id}: only its owner "
                           f"may, {who_may(defn, [state.owner] if state.owner else [], holders)}")


def decide_extension(defn: Definition, state: State, item_id: int, who: PersonRow, held: set[str],
                     holders: dict[str, list[Holder]], requested_by: str) -> None:
    """An approver decides, and never on his own request (separation of duties)."""
    if not held & set(state.extension_approvers):
        raise NotPermitted(f"{_who(who)} may not decide on extending step '{state.label}' of item {item_id}: it needs "
                           f"{who_may(defn, state.extension_approvers, holders)}")
    if who.code == requested_by:
        others = {r: [p for p in holders.get(r, []) if p.code != who.code] for r in state.extension_approvers}
        raise NotPermitted(f"{_who(who)} asked for this extension and may not decide on it himself: it needs another "
                           f"approver, {who_may(defn, state.extension_approvers, others)}")


def administrator(who: PersonRow, what: str) -> None:
    if not who.admin:
        raise NotPermitted(f"{_who(who)} may not {what}: it needs an administrator (people files mark them `admin: true`)")


def keep_meetings(who: PersonRow, staff: bool, what: str) -> None:
    """Meetings are added and moved by the office and the council (`staff`) and by administrators."""
    if not (who.admin or staff):
        raise NotPermitted(f"{_who(who)} may not {what}: meetings are kept by the office and the council")


ACTIVITY_ROLES = ("office", "group_lead")  # who records deputies' activities on an item


def record_activity(defn: Definition, who: PersonRow, held: set[str], item_id: int, holders: dict[str, list[Holder]]) -> None:
    """Activities on an item are recorded by the office and the item's group lead (and administrators)."""
    if who.admin or held & set(ACTIVITY_ROLES):
        return
    raise NotPermitted(f"{_who(who)} may not record activities on item {item_id}: that is for "
                       f"{who_may(defn, [r for r in ACTIVITY_ROLES if r in defn.roles], holders)}")


def score(who: PersonRow, roles: set[str], evaluators: Iterable[str], scorecard: str) -> None:
    """比创新 scores are given by holders of the scorecard's evaluator roles in the directory."""
    if roles & set(evaluators):
        return
    raise NotPermitted(f"{_who(who)} is not an evaluator of scorecard '{scorecard}': scores are given by holders of "
                       f"{'、'.join(evaluators)} (roles in the people file); he holds {'、'.join(sorted(roles)) or 'none'}")

