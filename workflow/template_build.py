"""A checked template's data → the Definition the engine runs; its content hash."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .definition import (
    DEFAULT_EXTENSION_APPROVERS,
    DEFAULT_PAUSE_ROLES,
    SLIP_PATTERN,
    Deadline,
    Definition,
    Duration,
    FieldSpec,
    Guard,
    Rung,
    Spawn,
    State,
    Tally,
    Transition,
    Urgency,
)
from .files import ALIASES, parse_size


def _duration(d: dict | None, default: Duration | None = None) -> Duration | None:
    return Duration(d["amount"], d["unit"]) if d else default


def _rungs(raw: list) -> tuple[Rung, ...]:
    out = []
    for r in raw:
        direction = "before" if "before" in r else "after"
        out.append(Rung(r["rung"], r.get("label", r["rung"]), _duration(r[direction]), direction,
                        tuple(r["notify"]), r["notice"], r.get("meaning", ""), _duration(r.get("limit")),
                        bool(r.get("slip", direction == "after")), bool(r.get("attach_slip", False))))
    return tuple(out)


def _spawn(s: dict | None) -> Spawn | None:
    if not s:
        return None
    watchers = tuple(s["watchers"]) if isinstance(s.get("watchers"), list) else None
    return Spawn(s["template"], s["for_each"], s["then"], s.get("join", "all"), s.get("lead", "主办"), s.get("others", "协办"),
                 watchers)


def _tally(t: dict | None) -> Tally | None:
    return Tally(t["members"], t["for"], t["against"], t.get("abstain"), t.get("basic")) if t else None


def _role_labels(roles: dict) -> dict[str, str]:
    return {r: (v["label"] if isinstance(v, dict) else v) for r, v in roles.items()}


def _label_of(data: dict, name: str | None) -> str | None:
    spec = (data.get("fields") or {}).get(name) if name else None
    return spec.get("label", name) if isinstance(spec, dict) else name


def build(data: dict, content_hash: str, name: str, text: str) -> Definition:
    defaults = data.get("defaults", {})
    ladders = data.get("ladders", {})
    roles = _role_labels(data["roles"])
    default_yellow = _duration(defaults.get("yellow"), Duration(3, "workdays"))
    default_pause = tuple(defaults.get("pause_roles", [r for r in DEFAULT_PAUSE_ROLES if r in roles]))
    default_approvers = tuple(defaults.get("extension_approvers", [r for r in DEFAULT_EXTENSION_APPROVERS if r in roles]))
    states = {}
    for sname, st in data["states"].items():
        ladder = st.get("ladder")
        raw = ladders[ladder] if isinstance(ladder, str) else (ladder or [])
        dl = st.get("deadline")
        states[sname] = State(
            name=sname, label=st["label"], owner=st.get("owner"), tags=tuple(st.get("tags", ())),
            deadline=Deadline(dl.get("amount", 0), dl.get("unit", "days"), dl.get("field"), dl.get("direction", "after"),
                              dl.get("set_by"), dl.get("amount_from"), dl.get("fixed"),
                              _label_of(data, dl.get("field"))) if dl else None,
            yellow=_duration(st.get("yellow"), default_yellow), ladder=_rungs(raw), final=bool(st.get("final", False)),
            pause_roles=tuple(st.get("pause_roles", default_pause)),
            extension_approvers=tuple(st.get("extension_approvers", default_approvers)),
            cc=tuple(st.get("cc", ())), description=st.get("description", ""),
            spawn=_spawn(st.get("spawn")), shows=tuple(st.get("shows", ())),
        )
    transitions = tuple(
        Transition(
            trigger=t["trigger"], label=t.get("label", t["trigger"]),
            sources=(t["source"],) if isinstance(t["source"], str) else tuple(t["source"]),
            dest=t["dest"], roles=tuple(t["roles"]), requires=tuple(t.get("requires", ())),
            comment_required=bool(t.get("comment_required", False)),
            guards=tuple(Guard("field" if "field" in g else "counter", g.get("field", g.get("counter")), g["op"], g.get("value"))
                         for g in t.get("guards", ())),
            increments=tuple(t.get("increment", ())),
        )
        for t in data["transitions"]
    )
    fields = {n: FieldSpec(n, f["type"], f.get("label", n), tuple(f.get("choices", ())), bool(f.get("keep", False)),
                           tuple(f["editable_by"]) if "editable_by" in f else None, _tally(f.get("tally")), f.get("kind"),
                           f.get("sets"), tuple(ALIASES.get(a.lower(), a.lower()) for a in f.get("accept", ())),
                           parse_size(f["max_size"]) if "max_size" in f else None, bool(f.get("multiple", False)))
              for n, f in data.get("fields", {}).items()}
    assignable = {r: tuple(v["assignable_by"]) for r, v in data["roles"].items() if isinstance(v, dict) and "assignable_by" in v}
    u = data.get("urgency")
    return Definition(
        key=data["key"], title=data["title"], description=data.get("description", ""),
        calendar=data.get("calendar", "cn"), roles=roles, fields=fields,
        counters=dict(data.get("counters", {})), tags=dict(data.get("tags", {})), initial=data["initial"],
        states=states, transitions=transitions,
        urgency=Urgency(u["field"], dict(u["start_rung"])) if u else None,
        handover_notice=data.get("handover_notice"), assignable_by=assignable,
        slip_pattern=data.get("slip_pattern", SLIP_PATTERN),
        content_hash=content_hash, source_name=name, source_text=text,
    )


def content_hash(data: Any) -> str:
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
