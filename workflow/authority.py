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
    return f"{p.name}（{p.code}）"


def _item(item_id: int) -> str:
    return f"事项 {item_id}"


_VERBS = {"grant": "授予", "withdraw": "撤销", "pause": "暂停", "resume": "恢复"}  # the callers' verbs, as a clerk reads them


def roles_held(holders: dict[str, list[Holder]], person_id: int) -> set[str]:
    return {role for role, ps in holders.items() if any(p.id == person_id for p in ps)}


def who_may(defn: Definition, roles: Iterable[str], holders: dict[str, list[Holder]] | None = None) -> str:
    """'主任会议（李明、郑宇）或常委会办公室（王芳）' — the roles by their labels, and who holds them on the item."""
    parts = []
    for r in dict.fromkeys(roles):
        names = [p.name for p in (holders or {}).get(r, []) if p.active]
        text = defn.role_label(r)
        if holders is not None:
            text += f"（{'、'.join(names)}）" if names else "（本事项暂无人担任）"
        parts.append(text)
    return "或".join(parts) if parts else "无人（模板未规定由哪个角色办理）"


def _held_text(defn: Definition, held: set[str]) -> str:
    return "、".join(defn.role_label(r) for r in sorted(held)) or "无角色"


def acting_person(person: PersonRow | None, code: str) -> PersonRow:
    """The person acting, who must exist and be active."""
    if person is None:
        raise NotPermitted(f"“{code}”不是本系统登记的人员，不能办理", person=code, next="list_people")
    if not person.active:
        raise NotPermitted(f"{_who(person)}的账号已停用，不能办理；可请管理员重新启用")
    return person


def require_role_on_item(defn: Definition, who: PersonRow, held: set[str], item_id: int, what: str) -> None:
    """Anyone acting on an item must hold some role on it (administrators only where a rule says so)."""
    if not held:
        raise NotPermitted(f"{_who(who)}在{_item(item_id)} 中没有角色，不能{what}")


def advance(defn: Definition, state: str, trigger: str, item_id: int, who: PersonRow, held: set[str],
            holders: dict[str, list[Holder]]) -> list[Transition]:
    """The transitions `trigger` may take from `state`, if this person may make that move at all."""
    candidates = [t for t in defn.transitions_from(state) if t.trigger == trigger]
    if not held:
        label = candidates[0].label if candidates else trigger
        need = f"：应由{who_may(defn, [r for t in candidates for r in t.roles], holders)}办理" if candidates else ""
        raise NotPermitted(f"{_who(who)}在{_item(item_id)} 中没有角色，不能“{label}”{need}")
    if not candidates:
        raise TriggerNotAllowed(item_id, state, trigger, defn.triggers_from(state))
    allowed = [r for t in candidates for r in t.roles]
    if not held & set(allowed):
        label = defn.states[state].label
        raise NotPermitted(f"{_who(who)}不能在{_item(item_id)} 的「{label}」环节“{candidates[0].label}”：应由"
                           f"{who_may(defn, allowed, holders)}办理；{who.name}在本事项中是{_held_text(defn, held)}")
    return candidates


def chosen_move(defn: Definition, t: Transition, state: str, item_id: int, who: PersonRow, held: set[str],
                holders: dict[str, list[Holder]]) -> None:
    """The variant the guards chose may name fewer roles than its siblings: check it again."""
    if not held & set(t.roles):
        raise NotPermitted(f"{_who(who)}不能在{_item(item_id)} 的「{defn.states[state].label}」环节“{t.label}”："
                           f"应由{who_may(defn, t.roles, holders)}办理")


def fields_given(defn: Definition, state: str, names: Iterable[str], allowed_with_move: set[str], item_id: int,
                 who: PersonRow, held: set[str], holders: dict[str, list[Holder]]) -> None:
    """Each field given must be one the move asks for, or one this person may change at this step."""
    for name in names:
        if name in allowed_with_move or name not in defn.fields:
            continue
        editors = defn.field_editors(name, state)
        if not held & set(editors):
            raise NotPermitted(f"{_who(who)}不能在{_item(item_id)} 的「{defn.states[state].label}」环节修改"
                               f"“{defn.fields[name].label}”：可由{who_may(defn, editors, holders)}修改", field=name)


def assign(defn: Definition, role: str, item_id: int, who: PersonRow, held: set[str], holders: dict[str, list[Holder]],
           targets: Iterable[str], verb: str = "grant") -> None:
    """Granting or withdrawing a role: the template's `assignable_by`; nobody grants himself a role."""
    if who.admin:
        return
    assigners = defn.assigners_of(role)
    if not held & set(assigners):
        raise NotPermitted(f"{_who(who)}不能{_VERBS.get(verb, verb)}{_item(item_id)} 的“{defn.role_label(role)}”角色："
                           f"应由{who_may(defn, assigners, holders)}或管理员办理")
    if verb == "grant" and who.code in set(targets):
        raise NotPermitted(f"{_who(who)}不能给自己授予{_item(item_id)} 的“{defn.role_label(role)}”角色："
                           f"请{who_may(defn, assigners, holders)}或管理员授予")


def create(defn: Definition, who: PersonRow, held: set[str], assigned_roles: Iterable[str]) -> None:
    """Creating an item: whoever may act on its first step (as its roles will be), or an administrator."""
    if who.admin:
        return
    first = [r for t in defn.transitions_from(defn.initial) for r in t.roles]
    if not held & set(first):
        raise NotPermitted(f"{_who(who)}不能新建“{defn.title}”事项：应由所属小组的{who_may(defn, first)}或管理员新建")
    for role in assigned_roles:
        assigners = defn.assigners_of(role)
        if not held & set(assigners):
            raise NotPermitted(f"{_who(who)}新建事项时不能授予“{defn.role_label(role)}”角色：应由"
                               f"{who_may(defn, assigners)}或管理员授予")


def pause(defn: Definition, state: State, item_id: int, who: PersonRow, held: set[str], holders: dict[str, list[Holder]],
          verb: str) -> None:
    """Pausing or resuming a step: the state's pause roles (a final step has none to check: nothing runs)."""
    if state.final:
        roles = sorted({r for s in defn.states.values() for r in s.pause_roles})
        if not held & set(roles):
            raise NotPermitted(f"{_who(who)}不能{_VERBS.get(verb, verb)}{_item(item_id)}：应由{who_may(defn, roles, holders)}办理")
        return
    if not held & set(state.pause_roles):
        raise NotPermitted(f"{_who(who)}不能{_VERBS.get(verb, verb)}{_item(item_id)} 的「{state.label}」环节：应由"
                           f"{who_may(defn, state.pause_roles, holders)}办理")


def request_extension(defn: Definition, state: State, item_id: int, who: PersonRow, held: set[str],
                      holders: dict[str, list[Holder]]) -> None:
    """Only the step's owner asks for more time, and only where someone may approve it."""
    if not held:
        raise NotPermitted(f"{_who(who)}在{_item(item_id)} 中没有角色，不能申请延期")
    if not state.extension_approvers:
        raise NotPermitted(f"{_item(item_id)} 的「{state.label}」环节不能延期：模板未规定由谁批准延期")
    if state.owner not in held:
        raise NotPermitted(f"{_who(who)}不能申请{_item(item_id)}「{state.label}」环节延期：只有承办方"
                           f"{who_may(defn, [state.owner] if state.owner else [], holders)}可以申请")


def decide_extension(defn: Definition, state: State, item_id: int, who: PersonRow, held: set[str],
                     holders: dict[str, list[Holder]], requested_by: str) -> None:
    """An approver decides, and never on his own request (separation of duties)."""
    if not held & set(state.extension_approvers):
        raise NotPermitted(f"{_who(who)}不能审批{_item(item_id)}「{state.label}」环节的延期申请：应由"
                           f"{who_may(defn, state.extension_approvers, holders)}审批")
    if who.code == requested_by:
        others = {r: [p for p in holders.get(r, []) if p.code != who.code] for r in state.extension_approvers}
        raise NotPermitted(f"{_who(who)}是这项延期的申请人，不能自己审批：请另一位审批人"
                           f"{who_may(defn, state.extension_approvers, others)}审批")


def administrator(who: PersonRow, what: str) -> None:
    if not who.admin:
        raise NotPermitted(f"{_who(who)}不能{what}：这需要管理员（人员文件中标为 admin: true 的人员）")


def keep_meetings(who: PersonRow, staff: bool, what: str) -> None:
    """Meetings are added and moved by the office and the council (`staff`) and by administrators."""
    if not (who.admin or staff):
        raise NotPermitted(f"{_who(who)}不能{what}：会议由常委会办公室和主任会议登记")


ACTIVITY_ROLES = ("office", "group_lead")  # who records deputies' activities on an item


def record_activity(defn: Definition, who: PersonRow, held: set[str], item_id: int, holders: dict[str, list[Holder]]) -> None:
    """Activities on an item are recorded by the office and the item's group lead (and administrators)."""
    if who.admin or held & set(ACTIVITY_ROLES):
        return
    raise NotPermitted(f"{_who(who)}不能登记{_item(item_id)} 的代表活动：应由"
                       f"{who_may(defn, [r for r in ACTIVITY_ROLES if r in defn.roles], holders)}登记")


def comment(defn: Definition, who: PersonRow, held: set[str], item_id: int, holders: dict[str, list[Holder]]) -> None:
    """An item's thread (沟通) is written by those who hold a role on it (and administrators)."""
    if who.admin or held:
        return
    raise NotPermitted(f"{_who(who)}不能在{_item(item_id)} 留言：只有在本事项中担任角色的人员可以留言")


def remind(defn: Definition, who: PersonRow, held: set[str], item_id: int, holders: dict[str, list[Holder]]) -> None:
    """催办 is sent by the office and the item's group lead (and administrators)."""
    if who.admin or held & set(ACTIVITY_ROLES):
        return
    raise NotPermitted(f"{_who(who)}不能催办{_item(item_id)}：应由"
                       f"{who_may(defn, [r for r in ACTIVITY_ROLES if r in defn.roles], holders)}催办")


def own_step(defn: Definition, who: PersonRow, held: set[str], item, holders: dict[str, list[Holder]], verb: str) -> None:
    """签收 and 退回 are the current step's owner's (an administrator's too)."""
    owner = defn.states[item.state].owner
    if who.admin or (owner and owner in held):
        return
    raise NotPermitted(f"{_who(who)}不能{verb}{_item(item.id)}：「{defn.states[item.state].label}」环节应由"
                       f"{who_may(defn, [owner] if owner else [], holders)}{verb}")


def score(who: PersonRow, roles: set[str], evaluators: Iterable[str], scorecard: str) -> None:
    """比创新 scores are given by holders of the scorecard's evaluator roles in the directory."""
    if roles & set(evaluators):
        return
    raise NotPermitted(f"{_who(who)}不是“{scorecard}”的评分人：评分由担任{'、'.join(evaluators)}角色的人员给出"
                       f"（人员文件中的角色）；他担任{'、'.join(sorted(roles)) or '无'}")

