"""The 督办单 as a document: each numbered slip an item's ladder issued, as its audit event recorded it — 发文字号,
标题, 主送, 抄送, 事由, 限期, 落款, 日期 — for whoever may see the item (the page prints it, the PDF is WeasyPrint's)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...calendar import TZ
from ...definition import Definition
from ...errors import NotFound
from ...rows import ItemRow
from ...store import Store, Tx, directory
from ...store import audit as audit_store
from ...store import items as item_store
from ...store import organisations as org_store
from .. import common
from .viewer import Viewer, check_sees, person_of


@dataclass(eq=False)
class Slip:
    seq: int  # the audit event that issued it: the slip's id on its item
    item_id: int
    item_title: str
    no: str  # 发文字号
    title: str  # 红色督办单
    rung: str
    meaning: str
    step_label: str
    due: str  # the step's 办理时限 it was issued against
    limit: str  # the new 限期 it set ("" when the rung sets none)
    to: list[str] = field(default_factory=list)  # 主送: "黄波（承办部门）"
    cc: list[str] = field(default_factory=list)  # 抄送
    issuer: str = ""  # 落款: the item's 人大常委会
    date: str = ""  # 2026年4月20日

    @property
    def reason(self) -> str:
        """事由, in one sentence."""
        what = f"，{self.meaning}" if self.meaning else ""
        return f"事项“{self.item_title}”「{self.step_label}」环节办理时限为 {self.due}，至今未办结{what}。"


def _meaning(defn: Definition, state: str, rung: str) -> str:
    ladder = defn.states[state].ladder if state in defn.states else ()
    return next((r.meaning for r in ladder if r.name == rung), "")


def slips_in(tx: Tx, item: ItemRow, issuer: str, events: list | None = None) -> list[Slip]:
    """The item's numbered slips, oldest first (from its audit `events` when the caller has read them)."""
    defn = common.definition(tx, item.template_version_id)
    events = [e for e in (audit_store.of_item(tx, item.id) if events is None else events)
              if e.kind == "escalated" and isinstance(e.data, dict) and e.data.get("slip_no")]
    if not events:
        return []
    holders = item_store.holders(tx, item.id)
    roles: dict[str, list[str]] = {}
    for role, people in holders.items():
        for p in people:
            roles.setdefault(p.code, []).append(defn.role_label(role))
    codes = {c for e in events for k in ("to", "cc") for c in e.data.get(k) or []}
    names = directory.names_of(tx, codes)
    steps = {s.id: s for s in item_store.steps_of(tx, item.id)}

    def shown(code: str) -> str:
        return f"{names.get(code, code)}（{'、'.join(roles[code][:2])}）" if roles.get(code) else names.get(code, code)
    out = []
    for e in events:
        d = e.data
        st = steps.get(d.get("step_id"))
        state = st.state if st else e.from_state
        local = e.at.astimezone(TZ)
        out.append(Slip(e.seq, item.id, item.title, d["slip_no"], d.get("label") or d.get("rung", ""), d.get("rung", ""),
                        _meaning(defn, state, d.get("rung", "")), defn.states[state].label if state in defn.states else state,
                        d.get("due", ""), d.get("limit", ""), [shown(c) for c in d.get("to") or []],
                        [shown(c) for c in d.get("cc") or []], issuer, f"{local.year}年{local.month}月{local.day}日"))
    return out


def issuer_of(store: Store, tx: Tx, item: ItemRow) -> str:
    """落款: the name of the item's 人大常委会 (the deployment's, for the root's items)."""
    org = next((o for o in org_store.all_orgs(tx) if o.id == item.organisation_id), None) \
        if item.organisation_id is not None else None
    return org.name if org else store.settings.org_name


def item_slips(store: Store, viewer: Viewer, item_id: int) -> list[Slip]:
    with store.read() as tx:
        check_sees(tx, person_of(tx, viewer), item_id)
        item = common.item(tx, item_id)
        return slips_in(tx, item, issuer_of(store, tx, item))


def slip(store: Store, viewer: Viewer, item_id: int, seq: int) -> Slip:
    """One slip of the item (NotFound for another item's, or an item he may not see)."""
    found = next((s for s in item_slips(store, viewer, item_id) if s.seq == seq), None)
    if found is None:
        raise NotFound(f"事项 {item_id} 没有编号为 {seq} 的督办单", item=item_id, slip=seq)
    return found
