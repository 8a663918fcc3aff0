"""A field's value as given (text from a form or the command line) → the value stored: typed, checked, with the
dates a meeting sets and the tallies a vote counts."""

from __future__ import annotations

from typing import Any

from ..calendar import parse_date
from ..definition import AMOUNT_LIMITS, Definition, Duration, FieldSpec, parse_duration
from ..errors import InvalidInput
from ..store import Tx, directory
from ..store import meetings as meeting_store
from . import common

MAX_TITLE = 500
MAX_TEXT = 10_000


def coerce(tx: Tx, spec: FieldSpec, value: Any) -> Any:
    """A field value checked and converted to its type; raises InvalidInput naming the field."""
    name = f"“{spec.label}”"
    if value is None or value == "":
        return None
    if spec.type == "date":
        d = parse_date(value, name)
        if not 1970 <= d.year <= 2199:
            raise InvalidInput(f"{name}：{d} 不在 1970–2199 年之间", field=spec.name)
        return d.isoformat()
    if spec.type == "integer":
        text = str(value).strip()
        if not text.lstrip("-").isdigit() or len(text) > 15:
            raise InvalidInput(f"{name}：“{common.shown(str(value))}”不是整数（最多 15 位）", field=spec.name)
        return int(text)
    if spec.type == "choice":
        if str(value) not in [str(c) for c in spec.choices]:
            raise InvalidInput(f"{name}：“{common.shown(str(value))}”不是可选项（{'、'.join(map(str, spec.choices))}）之一",
                               field=spec.name)
        return str(value)
    if spec.type == "person":
        return common.person(tx, str(value)).code
    if spec.type == "file":
        raise InvalidInput(f"{name}：请上传文件（不能以文字填写）", field=spec.name)
    if spec.type == "tally":
        raise InvalidInput(f"{name}由票数计算得出，不能直接填写：请填写各项票数", field=spec.name)
    if spec.type == "meeting":
        text = str(value).strip().upper().removeprefix("M")
        m = meeting_store.get(tx, int(text)) if text.isdigit() and len(text) <= 10 else None
        if m is None:
            raise InvalidInput(f"{name}：没有会议“{common.shown(str(value))}”", field=spec.name, next="list_meetings")
        if spec.meeting_kind and m.kind != spec.meeting_kind:
            raise InvalidInput(f"{name}：会议 {m.id} 是{m.kind}，这里应选{spec.meeting_kind}", field=spec.name)
        return m.id
    if spec.type == "duration":
        d = parse_duration(str(value))
        limit = AMOUNT_LIMITS.get(d.unit) if d else None
        if d is None or d.amount < 1 or d.amount > limit:
            raise InvalidInput(f"{name}：“{common.shown(str(value))}”不是期限，应写如 1个月、15个工作日、30日"
                               + (f"（最多 {Duration(limit, d.unit)}）" if d and limit else ""), field=spec.name)
        return str(d)
    if spec.type == "units":
        codes = value if isinstance(value, list) else str(value).replace("、", ",").replace("，", ",").split(",")
        out = []
        for code in (str(c).strip() for c in codes):
            if code and code not in out:
                if not common.is_code(code) or directory.unit(tx, code) is None:
                    raise InvalidInput(f"{name}：没有单位“{common.shown(code)}”", field=spec.name, unit=common.shown(code),
                                       next="list_units")
                out.append(code)
        return out
    if spec.type == "list":
        values = value if isinstance(value, list) else str(value).replace("、", ",").replace("，", ",").split(",")
        out = [common.text_in(str(v).strip(), name, one_line=True) for v in values if str(v).strip()]
        if sum(len(v) for v in out) > MAX_TEXT:
            raise InvalidInput(f"{name}：所列内容超过 {MAX_TEXT} 个字", field=spec.name)
        return out
    text = common.text_in(str(value), name)
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{name}有 {len(text)} 个字，最多 {MAX_TEXT} 个", field=spec.name)
    return text


def coerce_all(tx: Tx, defn: Definition, raw: dict[str, Any] | None) -> dict[str, Any]:
    out = {}
    for name, value in (raw or {}).items():
        spec = defn.fields.get(name)
        if spec is None:
            raise InvalidInput(f"流程模板“{defn.title}”没有字段“{common.shown(name)}”（它的字段：{'、'.join(defn.fields) or '无'}）",
                               field=common.shown(name))
        out[name] = coerce(tx, spec, value)
    return out


def values_given(tx: Tx, defn: Definition, raw: dict[str, Any] | None, view: dict[str, Any], item_id: int | None) -> dict[str, Any]:
    """The values a person gave, checked, with what follows from them: a meeting's date, a tally's result."""
    return with_tallies(defn, with_meeting_dates(tx, defn, coerce_all(tx, defn, raw)), view, item_id)


def with_meeting_dates(tx: Tx, defn: Definition, changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` plus the date field each meeting field among them `sets` to the meeting's day."""
    out = changes
    for name in defn.meeting_fields():
        spec = defn.fields[name]
        if spec.sets and changes.get(name) is not None:
            m = meeting_store.get(tx, changes[name])
            out = out | {spec.sets: m.day.isoformat()}
    return out


def with_tallies(defn: Definition, changes: dict[str, Any], view: dict[str, Any], item_id: int | None) -> dict[str, Any]:
    """`changes` plus each tally whose counts changed, counted from this round's values (`view`)."""
    counted = [n for n, s in defn.fields.items() if s.tally and any(f in changes for f in s.tally.count_fields())]
    if not counted:
        return changes
    merged, out = view | changes, dict(changes)
    for name in counted:
        spec = defn.fields[name]
        try:
            out[name] = spec.tally.result(merged)
        except ValueError as e:
            raise InvalidInput(f"{f'item {item_id}: ' if item_id else ''}{spec.label}（{name}）：{e}") from None
    return out


def empty(v: Any) -> bool:
    return v is None or v == "" or v == []
