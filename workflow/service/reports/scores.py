"""比创新: an evaluator's score of a compared unit, one per evaluator, unit and year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ... import authority
from ...calendar import TZ
from ...errors import InvalidInput, NotPermitted
from ...people_file import LEVEL_CN
from ...store import Store, Tx, directory
from ...store import audit as audit_store
from ...store import reports as report_store
from .. import common
from .basis import MAX_NOTE, card_of


@dataclass
class ScoreSet:
    unit: str
    unit_name: str
    year: int
    score: int
    evaluator: str


def set_score(store: Store, actor: str, unit: str, score: int, now: datetime, *, comment: str | None = None,
              year: int | None = None, card_path: str | Path | None = None) -> ScoreSet:
    """An evaluator's 比创新 score (0–100) for a unit in a year, once per evaluator, unit and year; audited."""
    card = card_of(card_path)
    if card.org_level is not None:
        raise InvalidInput(f"评比方案「{card.title}」比较的是各{LEVEL_CN.get(card.org_level, card.org_level)}人大，"
                           "比创新按单位评分，这个方案不设评分")
    if not isinstance(score, int) or not 0 <= score <= 100:
        raise InvalidInput(f"评分应是 0 到 100 之间的整数，不是“{common.shown(str(score))}”", parameter="score")
    y = year if year is not None else now.astimezone(TZ).year
    if not 1970 <= y <= 2199:
        raise InvalidInput(f"年份 {y} 超出了 1970–2199 年", parameter="year")
    if comment is not None:
        comment = common.text_in(comment, "评语")
        if len(comment) > MAX_NOTE:
            raise InvalidInput(f"评语有 {len(comment)} 个字，最多 {MAX_NOTE} 个")

    def work(tx: Tx) -> ScoreSet:
        who = common.acting(tx, actor)
        authority.score(who, directory.membership_roles(tx, who.id), card.evaluators, card.key)
        u = directory.unit(tx, unit) if common.is_code(unit) else None
        if u is None or u.kind != card.units:
            raise InvalidInput(f"“{common.shown(unit)}”不是评比方案「{card.title}」比较的单位", unit=common.shown(unit),
                               kind=card.units, next="list_units")
        if directory.is_member(tx, u.id, who.id):  # 比创新 is judged from outside: nobody scores his own unit
            raise NotPermitted(f"{who.name}（{who.code}）是{u.name}的成员，不能为本单位评分", unit=u.code)
        if not report_store.add_score(tx, scorecard=card.key, year=y, unit_id=u.id, evaluator_id=who.id, score=score,
                                      comment=comment, at=now):
            raise InvalidInput(f"{who.name}（{who.code}）已为{u.name}评过 {y} 年的分：每位评分人每年对一个单位评一次",
                               unit=u.code, year=y)
        audit_store.append(tx, at=now, actor=who.code, kind="scored", data={
            "scorecard": card.key, "year": y, "unit": u.code, "score": score, "comment": comment})
        return ScoreSet(u.code, u.name, y, score, who.name)
    return common.guarded(store, actor, now, f"score {unit}", None, work)
