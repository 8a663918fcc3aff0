"""An item's page: the item as one person sees it, its history, and what he may do on it now (the forms)."""

from __future__ import annotations

from datetime import datetime

from ... import authority, deadlines
from ... import files as judge
from ...calendar import overdue_workdays
from ...definition import Definition
from ...errors import WuzhuanError
from ...present import fmt
from ...store import ExtensionStatus, Store, directory
from ...store import audit as audit_store
from ...store import items as item_store
from .. import common
from ..together import acknowledged_steps
from .files import files_in, shown_in
from .items import detail, history_in, load
from .shapes import ItemPage
from .slips import issuer_of, slips_in
from .viewer import Viewer, check_sees, person_needed


def item_page(store: Store, viewer: Viewer, item_id: int, now: datetime) -> ItemPage:
    """The item as the person may see it (NotFound when he may not: he learns nothing, not even that it exists)."""
    common.check_now(now)
    with store.read() as tx:
        who = person_needed(tx, viewer)
        check_sees(tx, who, item_id)
        item = item_store.get(tx, item_id)
        loaded = load(tx, item)
        held = authority.roles_held(loaded.holders, who.id)
        staff = who.admin or directory.is_staff(tx, who.id)
        defn, state = loaded.defn, loaded.defn.states[item.state]
        d = detail(loaded, now, held, rounds=True)
        d.group_name = directory.unit_names(tx, {d.group}).get(d.group) if d.group else None
        running = item.finished_at is None and item.paused_at is None
        moves = _move_forms(defn, [t for t in defn.transitions_from(item.state) if held & set(t.roles)], held,
                            item.state) if running else []
        pending = [r for r in loaded.extensions if r.status == ExtensionStatus.PENDING]
        steps = {st.id: st for st in loaded.steps}
        decidable = [r.id for r in pending if r.requested_by != who.code and r.step_id in steps
                     and steps[r.step_id].state in defn.states  # not a step left before a migration renamed its state
                     and held & set(defn.states[steps[r.step_id].state].extension_approvers)]
        assignable = [(r, defn.role_label(r)) for r in defn.roles if who.admin or held & set(defn.assigners_of(r))]
        cal = common.calendar(tx, defn)
        late = overdue_workdays(cal, item.due_at, now) if item.due_at and running else 0
        for m in moves:  # a move into a step whose deadline has already passed says so before it is made
            m["late_warning"] = _late_on_entry(cal, defn, m.get("dest"), item.fields, now)
        known = {p.code: p.name for ps in loaded.holders.values() for p in ps}
        events = audit_store.of_item(tx, item_id)
        hist = history_in(tx, item_id, defn, loaded.steps, known, events)
        documents = files_in(tx, item, defn, loaded.steps)
        shown = shown_in(tx, item, defn, documents)
        slips = slips_in(tx, item, issuer_of(store, tx, item), events)
        owns = item.finished_at is None and bool(state.owner and state.owner in held)
        acknowledged = item.current_step_id in acknowledged_steps(events)
    return ItemPage(
        detail=d, history=hist, moves=moves,
        may_pause=running and bool(held & set(state.pause_roles)),
        may_resume=item.paused_at is not None and bool(held & set(state.pause_roles)),
        may_request_extension=running and state.owner in held and bool(state.extension_approvers) and not pending
        and item.due_at is not None and now < item.due_at,
        decidable=decidable, assignable=assignable, overdue_workdays=late, staff=staff, files=documents, slips=slips,
        shown=shown, labels={n: f.label for n, f in defn.fields.items()},
        comments=[h for h in hist if h.kind == "commented"], may_comment=who.admin or bool(held),
        may_remind=item.finished_at is None and bool(who.admin or held & set(authority.ACTIVITY_ROLES)),
        owns_step=owns, acknowledged=acknowledged, may_return=owns and state.owner != "office")


def _move_forms(defn: Definition, transitions: list, held: set[str] | None = None, state: str | None = None) -> list[dict]:
    """One form per trigger. A trigger whose transitions the guards choose between (the vote: 满意 → 跟踪督办, 不满意 →
    整改) is one form: the values decide where the item goes, so the person is not asked to pick the outcome."""
    by_trigger: dict[str, list] = {}
    for t in transitions:
        by_trigger.setdefault(t.trigger, []).append(t)
    out = []
    for trigger, ts in by_trigger.items():
        fields: list[dict] = []
        for t in ts:
            for f in _fields_of(defn, t) + _optional_files(defn, t, held or set(), state):
                if all(f["name"] != g["name"] for g in fields):
                    fields.append(f)
        if len(ts) == 1:
            t = ts[0]
            out.append({"trigger": trigger, "label": t.label, "to": defn.states[t.dest].label, "dest": t.dest, "fields": fields,
                        "comment_required": t.comment_required, "comment_hint": "", "guards": [g.describe() for g in t.guards],
                        "outcomes": []})
            continue
        outcomes = [{"label": t.label, "to": defn.states[t.dest].label, "comment_required": t.comment_required} for t in ts]
        out.append({"trigger": trigger, "label": _trigger_label(defn, ts), "to": " / ".join(dict.fromkeys(o["to"] for o in outcomes)),
                    "fields": fields, "comment_required": all(t.comment_required for t in ts),
                    "comment_hint": "、".join(o["label"] for o in outcomes if o["comment_required"]),
                    "guards": [], "outcomes": outcomes})
    order = list(defn.states)
    for m, ts in zip(out, by_trigger.values(), strict=True):
        # a decision: one of several moves (approve or send back, pass or reject) or a vote; it is confirmed first
        m["decide"] = len(out) > 1 or bool(m["outcomes"])
        # a move that sends the item back (or refuses it, with a reason) looks unlike the one that takes it on
        m["back"] = len(ts) == 1 and (ts[0].comment_required or (
            state in order and ts[0].dest in order and order.index(ts[0].dest) < order.index(state)))
    return out


def _late_on_entry(cal, defn: Definition, dest: str | None, fields: dict, now: datetime) -> str:
    """"进入「X」后即已逾期 N 个工作日，因为……" when the step a move enters would be overdue at once, counted
    from the values entered so far; "" otherwise (or when the values the form asks for decide it)."""
    if dest is None or dest not in defn.states:
        return ""
    state = defn.states[dest]
    try:
        due = deadlines.due_of(cal, state, now, fields)
    except (ValueError, KeyError, TypeError):  # a date field not entered yet, or not a date: the move decides it
        return ""
    if due is None or due.at >= now:
        return ""
    days = overdue_workdays(cal, due.at, now)
    amount = f" {days} 个工作日" if days else "不足一个工作日"
    return f"进入「{state.label}」后即已逾期{amount}，因为办理时限 {fmt(due.at)} 已过（{due.rule}）"


def late_on_move(store: Store, viewer: Viewer, item_id: int, trigger: str, fields: dict, now: datetime) -> str:
    """The warning of `_late_on_entry` for a move about to be made with these values ("" when none, when the
    guards choose its step, or when he may not make it: the move itself then decides, and refuses)."""
    with store.read() as tx:
        who = person_needed(tx, viewer)
        try:
            check_sees(tx, who, item_id)
        except WuzhuanError:  # no warning: the move itself refuses, and records the refusal
            return ""
        item = item_store.get(tx, item_id)
        defn = common.definition(tx, item.template_version_id)
        held = authority.roles_held(item_store.holders(tx, item.id), who.id)
        dests = {t.dest for t in defn.transitions_from(item.state) if t.trigger == trigger and held & set(t.roles)}
        if len(dests) != 1 or item.finished_at is not None:
            return ""
        return _late_on_entry(common.calendar(tx, defn), defn, dests.pop(), {**item.fields, **fields}, now)


def _trigger_label(defn: Definition, ts: list) -> str:
    """A name for a trigger with several outcomes: the step it records (满意度测评), else its id."""
    return f"记录{defn.states[ts[0].sources[0]].label}结果" if len(ts[0].sources) == 1 else ts[0].trigger


def _fields_of(defn: Definition, t) -> list[dict]:
    fields = []
    for name in t.requires:
        spec = defn.fields[name]
        if spec.tally is not None:  # a counted vote: the form asks for the counts, the engine computes the result
            tl = spec.tally
            for count in tl.count_fields():
                c = defn.fields[count]
                fields.append({"name": count, "label": c.label, "type": c.type, "choices": [],
                               "optional": count in (tl.basic, tl.abstain)})
            continue
        fields.append(_field(spec, optional=False))
    return fields


def _field(spec, optional: bool) -> dict:
    out = {"name": spec.name, "label": spec.label, "type": spec.type, "choices": list(spec.choices), "optional": optional}
    if spec.type == "file":
        kinds = spec.accept or tuple(judge.KINDS)
        out |= {"accept": ",".join(f".{k}" for k in kinds) + (",.jpeg" if "jpg" in kinds else ""), "multiple": spec.multiple,
                "limit": judge.size_text(spec.max_size or judge.MAX_FILE), "kinds": "、".join(kinds)}
    return out


def first_fields(defn: Definition) -> tuple[dict, ...]:
    """The fields the first step's moves require, to fill in when the item is started (files come with the move)."""
    names = dict.fromkeys(n for t in defn.transitions_from(defn.initial) for n in t.requires)
    return tuple(_field(defn.fields[n], optional=True) for n in names
                 if defn.fields[n].type != "file" and defn.fields[n].tally is None)


def _optional_files(defn: Definition, t, held: set[str], state: str | None) -> list[dict]:
    """The file fields he may give with the move though it does not require them (佐证材料 a role may add)."""
    return [_field(spec, optional=True) for name, spec in defn.fields.items()
            if spec.type == "file" and name not in t.requires and state is not None
            and held & set(defn.field_editors(name, state))]
