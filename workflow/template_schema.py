"""A template against its JSON Schema, every problem in words and located; `where` names the part a path points to."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from . import caches
from .yamltext import Doc, Path_


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(resources.files("definitions").joinpath("schema.json").read_text("utf-8"))


caches.register("template_schema", schema)


def where(path: Path_, data: Any) -> str:
    """Name the part of a template a path points into: state, transition, rung, field…"""
    if not path:
        return "template"
    head = path[0]
    if head == "states" and len(path) >= 2:
        text = f"state '{path[1]}'"
        if len(path) >= 4 and path[2] == "ladder" and isinstance(path[3], int):
            text += f", rung {path[3] + 1}{_rung_name(data, path[:4])}"
        return text
    if head == "transitions" and len(path) >= 2 and isinstance(path[1], int):
        trig = _get(data, path[:2] + ("trigger",))
        return f"transition {path[1] + 1}" + (f" ('{trig}')" if isinstance(trig, str) else "")
    if head == "ladders" and len(path) >= 2:
        text = f"ladder '{path[1]}'"
        if len(path) >= 3 and isinstance(path[2], int):
            text += f", rung {path[2] + 1}{_rung_name(data, path[:3])}"
        return text
    if head in ("fields", "roles", "counters") and len(path) >= 2:
        return f"{head[:-1]} '{path[1]}'"
    return f"'{head}'"


def _rung_name(data: Any, path: Path_) -> str:
    name = _get(data, path + ("rung",))
    return f" ('{name}')" if isinstance(name, str) else ""


def _get(data: Any, path: Path_) -> Any:
    for p in path:
        try:
            data = data[p]
        except (KeyError, IndexError, TypeError):
            return None
    return data


_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
               "boolean": "true or false", "null": "nothing", "number": "a number"}


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"'{value}'"


def schema_problems(doc: Doc, data: Any, against: dict | None = None) -> None:
    """Every way `data` breaks the template schema (or the schema `against`), located, in words."""
    import jsonschema  # only when validating a file: keeps every other command's start-up short

    validator = jsonschema.Draft202012Validator(against or schema())
    for err in validator.iter_errors(data):
        path = tuple(err.absolute_path)
        here = where(path, data)
        v, inst, sub = err.validator, err.instance, err.schema
        if v == "additionalProperties":
            allowed = sorted(sub.get("properties", {}))
            for key in sorted(set(inst) - set(allowed)):
                doc.problem(path + (key,), f"{here}: unknown key '{key}' (allowed: {', '.join(allowed)})", at_key=True)
        elif v == "required":
            missing = [k for k in err.validator_value if k not in inst]
            for key in missing:
                doc.problem(path, f"{here}: missing key '{key}'")
        elif v == "propertyNames":
            doc.problem(path, f"{here}: bad name {err.message.split(' ')[0]}: {err.schema['propertyNames'].get('errorMessage', 'not a valid name')}")
        elif v == "type":
            want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
            doc.problem(path, f"{here}: expected {' or '.join(_TYPE_NAMES.get(w, w) for w in want)}, found {kind_of(inst)}")
        elif v == "enum":
            doc.problem(path, f"{here}: {kind_of(inst)} is not one of: {', '.join(map(str, err.validator_value))}")
        elif v == "maximum" and path and path[-1] == "amount":
            continue  # the checker says it with the unit (check_amounts)
        elif v == "minimum":
            doc.problem(path, f"{here}: {path[-1]} must be at least {err.validator_value}, found {inst}")
        elif v in ("minItems", "minProperties", "minLength"):
            doc.problem(path, f"{here}: must not be empty")
        elif "errorMessage" in sub:
            doc.problem(path, f"{here}: {sub['errorMessage']}, found {kind_of(inst)}")
        else:
            doc.problem(path, f"{here}: {err.message}")
