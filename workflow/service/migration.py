"""Live migration: items in flight moved to another published version of their template, planned, then one item a transaction.

The plan is checked before anything changes: every item's state maps to a live state of the target (same key,
or `--map OLD=NEW`), the target knows the item's fields (and their values fit the target's types) and every role
held on the item, and somebody holds the target step's owner role. Applying keeps the running step row — its
entry time, pauses, extension and round values — so rungs already claimed stay claimed (the claim is unique per
step and rung name: a rung of the same name never fires twice). The due time is kept when the step is paused or
extended, or when the target's deadline rule for the step is the same; otherwise it is recomputed from the
original entry, as the dry run shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..calendar import Due
from ..deadlines import StepTimes, step_times, times_from_due
from ..definition import Definition, State
from ..errors import InvalidInput, NotFound, WuzhuanError
from ..present import exact, fmt
from ..rows import ItemRow, StepRow
from ..store import StepStatus, Store, Tx
from ..store import audit as audit_store
from ..store import escalations as esc_store
from ..store import items as item_store
from ..store import templates as template_store
from . import common
from .admin import administrator


@dataclass
class ItemPlan:
    item: int
    title: str
    from_version: int
    to_version: int
    from_state: str
    to_state: str
    to_label: str
    old_due: str
    new_due: str
    old_escalation: str
    new_escalation: str
    due_kept: str | None  # why the due time was kept ("same rule", "paused", "extended"), None when recomputed
    rungs_claimed: list[str] = field(default_factory=list)
    next_rung: str | None = None  # the target ladder's next rung for this step
    applied: bool = False
    problem: str | None = None  # why this item cannot move (the whole plan is refused then)


@dataclass
class MigrationPlan:
    template: str
    to_version: int
    to_hash: str
    mapping: dict[str, str]
    applied: bool
    items: list[ItemPlan]


def resolve_version(tx: Tx, key: str, version: str) -> tuple[int, Definition, str]:
    """A published version of `key` by its number (as `definitions list` shows it) or a unique prefix of its hash."""
    text = (version or "").strip().lower()
    rows = [v for v in template_store.all_versions(tx) if v.key == key]
    if not rows:
        raise NotFound(f"没有已发布的流程模板“{common.shown(key)}”", template=common.shown(key), next="list_templates")
    found = [v for v in rows if text.isdigit() and len(text) <= 10 and v.id == int(text)]
    if not found and len(text) >= 4 and all(c in "0123456789abcdef" for c in text):
        found = [v for v in rows if v.content_hash.startswith(text)]
    if not found:
        raise NotFound(f"流程模板“{key}”没有版本“{common.shown(version)}”"
                       f"（已有版本：{'、'.join(f'{v.id}（{v.content_hash[:12]}）' for v in rows)}）", template=key)
    if len(found) > 1:
        raise InvalidInput(f"“{common.shown(version)}”是流程模板“{key}”的 {len(found)} 个版本哈希的开头：请多写几位",
                           template=key)
    return found[0].id, common.definition_of(found[0]), found[0].content_hash


def parse_map(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`OLD=NEW` state pairs; each old state once."""
    out: dict[str, str] = {}
    for p in pairs:
        old, sep, new = p.partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new or not common.is_code(old) or not common.is_code(new):
            raise InvalidInput(f"环节对应“{common.shown(p)}”应写作 原环节=新环节", parameter="map")
        if old in out and out[old] != new:
            raise InvalidInput(f"环节对应中原环节“{old}”出现了两次", state=old, parameter="map")
        out[old] = new
    return out


def _values_fit(defn: Definition, values: dict[str, Any]) -> str | None:
    """Why the item's values do not fit the target's fields (None when they do)."""
    unknown = sorted(k for k in values if k not in defn.fields)
    if unknown:
        return f"目标版本没有字段 {'、'.join(unknown)}"
    for name, v in values.items():
        spec = defn.fields[name]
        if v is None:
            continue
        if spec.type == "choice" and str(v) not in [str(c) for c in spec.choices]:
            return f"字段“{spec.label}”（{name}）的值“{v}”不在目标版本的选项（{'、'.join(map(str, spec.choices))}）之中"
        if spec.type in ("integer",) and not isinstance(v, int):
            return f"字段“{spec.label}”（{name}）的值“{v}”不是目标版本要求的整数"
        if spec.type in ("list", "units") and not isinstance(v, list):
            return f"字段“{spec.label}”（{name}）只有一个值，目标版本要求一组值"
    return None


def _plan_item(tx: Tx, item: ItemRow, step: StepRow, old: Definition, new: Definition, new_id: int, mapping: dict[str, str],
               calendar_digest: str | None = None) -> tuple[ItemPlan, dict[str, Any] | None]:
    """What migrating one item does (and the step's new times), or the problem that forbids it."""
    target = mapping.get(item.state, item.state)
    p = ItemPlan(item.id, item.title, item.template_version_id, new_id, item.state, target, "", fmt(step.due_at), "",
                 fmt(step.next_escalation_at), "", None)
    holders = item_store.holders(tx, item.id)

    def refuse(why: str) -> tuple[ItemPlan, None]:
        p.problem = why
        return p, None

    state: State | None = new.states.get(target)
    if state is None:
        return refuse(f"事项 {item.id} 处于环节“{old.states[item.state].label}”（{item.state}），目标版本没有环节"
                      f"“{target}”：请指明它对应新版本的哪个环节")
    if state.final:
        return refuse(f"事项 {item.id} 尚在环节“{old.states[item.state].label}”（{item.state}）办理中，而“{target}”"
                      "是目标版本的结束环节")
    p.to_label = state.label
    held = sorted(r for r, ps in holders.items() if ps and r not in new.roles)
    if held:
        return refuse(f"事项 {item.id}：有人在该事项上担任 {'、'.join(held)}，目标版本没有这些角色")
    if state.owner and not any(p_.active for p_ in holders.get(state.owner, [])):
        return refuse(f"事项 {item.id}：目标版本的环节“{state.label}”由{new.role_label(state.owner)}（{state.owner}）办理，"
                      "该事项上无人担任这一角色：请先为事项指定该角色的人员")
    for what, values in (("", item.fields), ("（本轮）", step.fields or {})):
        why = _values_fit(new, values)
        if why:
            return refuse(f"事项 {item.id}{what}：{why}")
    claimed = esc_store.fired(tx, step.id)
    p.rungs_claimed = claimed
    indices = [i for i, r in enumerate(state.ladder) if r.name in claimed]
    next_rung = max(indices) + 1 if indices else 0
    p.next_rung = state.ladder[next_rung].name if next_rung < len(state.ladder) else None
    paused = step.status == StepStatus.PAUSED
    cal = common.calendar(tx, new, calendar_digest)
    if paused or step.extended_to is not None or old.states[item.state].deadline == state.deadline:
        p.due_kept = "paused" if paused else ("extended" if step.extended_to is not None else "same rule")
        t = (times_from_due(cal, new, state, item.fields, Due(step.due_at, step.provisional, step.due_rule),
                            next_rung=next_rung, running=not paused)
             if step.due_at else StepTimes(None, step.due_rule, step.provisional, None, None))
    else:
        t = step_times(cal, new, state, common.dated(tx, new, item.fields), entered_at=step.entered_at,
                       extra_units=step.extra_units, next_rung=next_rung)
    p.new_due, p.new_escalation = fmt(t.due_at), fmt(t.next_escalation_at)
    values = {"state": target, "due_at": t.due_at, "due_rule": t.due_rule, "provisional": t.provisional,
              "yellow_at": t.yellow_at, "next_escalation_at": t.next_escalation_at, "next_rung": next_rung}
    return p, values


def migrate(store: Store, actor: str, template: str, version: str, now: datetime, *, mapping: dict[str, str] | None = None,
            items: list[int] | None = None, apply: bool = False) -> MigrationPlan:
    """Plan (and with `apply`, carry out) moving the live items of `template` to `version` (an administrator)."""
    common.check_clock(store, now)
    mapping = mapping or {}
    common.guarded(store, actor, now, "migrate items", None,  # a refusal is audited
                   lambda tx: administrator(tx, actor, "把事项迁移到模板的其他版本"))
    with store.read() as tx:
        who = common.acting(tx, actor)
        to_id, new, to_hash = resolve_version(tx, template, version)
        unknown = sorted({v for v in mapping.values() if v not in new.states})
        if unknown:
            raise InvalidInput(f"环节对应中的 {'、'.join(unknown)} 不是“{template}”第 {to_id} 版的环节"
                               f"（它的环节：{'、'.join(new.states)}）", states=unknown, parameter="map")
        # an administrator migrates the items he may see (his organisation's): another 人大's are its own to move
        found = _candidates(tx, template, to_id, items)
        hidden = [i.id for i in found if not common.may_see(tx, who, i.id)]
        if items and hidden:
            raise NotFound(f"事项 {hidden[0]} 不存在", item=hidden[0])
        candidates = [i for i in found if i.id not in hidden]
        plans = []
        for item in candidates:
            step = item_store.step_by_id(tx, item.current_step_id)
            old = common.definition(tx, item.template_version_id)
            plans.append(_plan_item(tx, item, step, old, new, to_id, mapping)[0])
    problems = [p.problem for p in plans if p.problem]
    if problems:
        unmapped = sorted({p.from_state for p in plans if p.problem and mapping.get(p.from_state, p.from_state) not in new.states})
        raise InvalidInput("没有迁移任何事项：" + "；".join(problems[:20]) + (f"；另有 {len(problems) - 20} 项" if len(problems) > 20 else ""),
                           problems=len(problems), unmapped=unmapped, **({"parameter": "map"} if unmapped else {}))
    result = MigrationPlan(template, to_id, to_hash, mapping, apply, plans)
    if not apply:
        return result
    done: list[ItemPlan] = []
    for p in plans:
        try:
            done.append(_apply_one(store, actor, p.item, new, to_id, mapping, now))
        except WuzhuanError as e:  # the items before stay migrated (each in its own transaction): say which
            moved = [str(x.item) for x in done if x.applied]
            e.args = (f"{e}（{'在它之前已迁移事项 ' + '、'.join(moved) if moved else '没有迁移任何事项'}）",)
            raise
    result.items = done
    return result


def _candidates(tx: Tx, template: str, to_id: int, ids: list[int] | None) -> list[ItemRow]:
    if ids:
        out = []
        for i in dict.fromkeys(ids):
            item = item_store.get(tx, i)
            if item is None:
                raise NotFound(f"事项 {i} 不存在", item=i)
            if item.template_key != template:
                raise InvalidInput(f"事项 {i} 属于模板“{item.template_key}”，不是“{template}”", item=i)
            if item.finished_at is not None:
                raise InvalidInput(f"事项 {i} 已办结：办结的事项保留它运行时的版本", item=i)
            if item.template_version_id != to_id:
                out.append(item)
        return out
    return item_store.live_on_other_versions(tx, template, to_id)


def _apply_one(store: Store, actor: str, item_id: int, new: Definition, to_id: int, mapping: dict[str, str],
               now: datetime) -> ItemPlan:
    """One item, in its own transaction, under its row lock (an advance meanwhile is seen, and re-planned)."""

    def run(tx: Tx) -> ItemPlan:
        locked = common.locked_item(tx, item_id)
        item, step = locked.item, locked.step
        common.not_backdated(now, locked)
        if item.template_version_id == to_id or item.finished_at is not None:  # another run did it, or it finished meanwhile
            p = ItemPlan(item.id, item.title, item.template_version_id, to_id, item.state, item.state, "", "", "", "", "", None)
            return p
        old = common.definition(tx, item.template_version_id)
        p, values = _plan_item(tx, item, step, old, new, to_id, mapping, locked.calendar_digest)
        if values is None:
            raise InvalidInput(p.problem or f"事项 {item_id} 无法迁移", item=item_id)
        item_store.update_step(tx, step.id, **values)
        item_store.update_item(tx, item.id, template_version_id=to_id, state=values["state"],
                               owner_role=new.states[values["state"]].owner, due_at=values["due_at"],
                               yellow_at=values["yellow_at"], version=item.version + 1, updated_at=now)
        audit_store.append(tx, at=now, actor=actor, kind="migrated", item_id=item.id, from_state=item.state,
                           to_state=values["state"],
                           data={"from_version": item.template_version_id, "to_version": to_id, "map": mapping,
                                 "step_id": step.id, "old_due": p.old_due, "due": p.new_due, "due_at": exact(values["due_at"]),
                                 "due_kept": p.due_kept,
                                 "rungs_claimed": p.rungs_claimed, "next_rung": p.next_rung})
        p.applied = True
        return p

    return common.guarded(store, actor, now, "migrate", item_id, run)
