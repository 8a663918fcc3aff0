"""A Definition as plain data for `definitions show`: states, owners, deadlines, transitions."""

from __future__ import annotations

from typing import Any

from .definition import Definition


def describe(defn: Definition) -> dict[str, Any]:
    return {
        "key": defn.key, "title": defn.title, "version": defn.content_hash[:12], "calendar": defn.calendar,
        "roles": defn.roles, "tags": defn.tags,
        "states": [
            {"name": s.name, "label": s.label, "owner": defn.roles.get(s.owner or "", "—"),
             "deadline": defn.deadline_text(s) if s.deadline else "—", "tags": list(s.tags),
             "ladder": " → ".join(f"{r.label}({'-' if r.direction == 'before' else '+'}{r.offset})" for r in s.ladder) or "—",
             "final": s.final}
            for s in defn.states.values()
        ],
        "transitions": [
            {"trigger": t.trigger, "label": t.label, "from": list(t.sources), "to": t.dest,
             "roles": [defn.roles[r] for r in t.roles], "requires": list(t.requires),
             "comment_required": t.comment_required, "guards": [g.describe() for g in t.guards],
             "increments": list(t.increments)}
            for t in defn.transitions
        ],
    }
