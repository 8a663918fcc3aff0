"""What the command line adds to a domain error: the command or option that helps, from the error's details."""

from __future__ import annotations

from typing import Any

# details["next"]: what would help, named by the use case; the command that does it here.
NEXT = {
    "show_item": "look again with `wuzhuan items show {item}`",
    "resume": "resume it with `wuzhuan items resume {item}`",
    "reassign": "give the role to someone else: `wuzhuan items assign {item} {role} PERSON --replace`",
    "list_people": "see `wuzhuan people list`",
    "list_units": "the units are those of the people file imported with `wuzhuan people import FILE`",
    "list_meetings": "see `wuzhuan meetings list`",
    "list_templates": "see `wuzhuan definitions list`",
    "publish": "publish it with `wuzhuan definitions publish FILE --actor ADMIN`",
    "import_people": "`wuzhuan people import FILE` (the first import needs no administrator)",
    "set_password": "`wuzhuan people set-password CODE --password-stdin`",
    "init_key": "make one with `wuzhuan audit init-key FILE`",
    "checkpoint": "`wuzhuan audit checkpoint` prints one",
    "verify": "run `wuzhuan audit verify`",
    "upgrade_schema": "run `wuzhuan db upgrade` (commands that act create an empty database by themselves)",
}
# details["parameter"]: the use case's parameter that is missing or wrong; the option that gives it here.
OPTION = {
    "actor": "--actor PERSON (or WUZHUAN_ACTOR)", "reason": "--reason TEXT", "comment": "--comment TEXT",
    "map": "--map OLD_STATE=NEW_STATE", "limit": "--limit N", "deputies": "--deputies CODE,CODE",
    "previous": "--previous DATE", "amount": "--amount N", "from": "--from DATE", "format": "--format dot|mermaid",
}


def hint(details: dict[str, Any]) -> str | None:
    """One line for the terminal, or None when the message says all."""
    parts = []
    if "fields" in details:
        names = details["fields"] or ["NAME"]
        parts.append("give " + " ".join(f"--field {n}=VALUE" for n in names[:6]))
    if details.get("parameter") in OPTION:
        parts.append(f"give {OPTION[details['parameter']]}")
    if details.get("next") in NEXT:
        try:
            parts.append(NEXT[details["next"]].format(**details))
        except (KeyError, IndexError, ValueError):
            parts.append(NEXT[details["next"]])
    return "; ".join(parts) or None
