"""我献策: a deputy submits a proposal (建议/建言) to his 人大 with co-signers who confirm (联名); its office screens it —
采纳, 不予采纳, 转为代表建议 (a deputy_suggestion item the deputies follow), 作为监督议题建议 (an item at 选题立项, source
代表建议, 监督法 Art.12) or 列入建言献策会 (a registered meeting's materials). Every step is an audit event."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..errors import Conflict, InvalidInput, NotFound, NotPermitted
from ..present import fmt
from ..rows import PersonRow
from ..store import Store, Tx, directory
from ..store import audit as audit_store
from ..store import meetings as meeting_store
from ..store import organisations as org_store
from ..store import proposals as store_
from . import common
from .deputies import deputy_orgs
from .items import create_in
from .reads.viewer import Viewer, person_of

STATUS_CN = {"submitted": "待审查", "accepted": "已采纳", "rejected": "不予采纳", "to_suggestion": "已转为代表建议",
             "to_topic": "已作为监督议题建议", "to_advisory_meeting": "已列入建言献策会"}
DECISIONS = ("accept", "reject", "to_suggestion", "to_topic", "to_advisory_meeting")
_STATUS_OF = {"accept": "accepted", "reject": "rejected", "to_suggestion": "to_suggestion", "to_topic": "to_topic",
              "to_advisory_meeting": "to_advisory_meeting"}
MAX_TITLE, MAX_TEXT, MAX_COSIGNERS = 200, 20_000, 30


@dataclass(frozen=True)
class Cosigner:
    code: str
    name: str
    confirmed: bool


@dataclass(frozen=True)
class ProposalView:
    id: int
    title: str
    text: str
    status: str
    status_label: str
    author: str
    author_name: str
    submitted: str
    cosigners: list[Cosigner] = field(default_factory=list)
    decided_by: str | None = None
    decided: str | None = None
    reason: str | None = None
    item: int | None = None
    meeting: int | None = None


def _author(tx: Tx, r: store_.ProposalRow) -> PersonRow:
    return directory.people_by_ids(tx, [r.author_id])[r.author_id]


def _view(tx: Tx, r: store_.ProposalRow, signers: list[store_.CosignerRow], author: PersonRow | None = None) -> ProposalView:
    author = author or _author(tx, r)
    return ProposalView(r.id, r.title, r.text, r.status, STATUS_CN.get(r.status, r.status), author.code, author.name,
                        fmt(r.created_at), [Cosigner(c.code, c.name, c.confirmed_at is not None) for c in signers],
                        r.decided_by, fmt(r.decided_at) if r.decided_at else None, r.reason, r.item_id, r.meeting_id)


def _is_deputy(tx: Tx, who: PersonRow) -> bool:
    return bool(deputy_orgs(tx, who))


def _texts(title: str, text: str) -> tuple[str, str]:
    title = common.text_in(str(title or "").strip(), "建议标题", one_line=True)
    text = common.text_in(str(text or "").strip(), "建议内容")
    if not 1 <= len(title) <= MAX_TITLE:
        raise InvalidInput(f"请填写建议标题（不超过 {MAX_TITLE} 个字）", parameter="title")
    if not 1 <= len(text) <= MAX_TEXT:
        raise InvalidInput(f"请填写建议内容（不超过 {MAX_TEXT} 个字）", parameter="text")
    return title, text


def submit(store: Store, actor: str, title: str, text: str, now: datetime, *, cosigners: list[str] | tuple = (),
           org: str | None = None) -> ProposalView:
    """A deputy's proposal to his 人大 (the organisation of his deputies' unit; `org` when he is in several)."""
    title, text = _texts(title, text)
    names = list(dict.fromkeys(c.strip() for c in cosigners if c and c.strip()))
    if len(names) > MAX_COSIGNERS:
        raise InvalidInput(f"联名代表最多 {MAX_COSIGNERS} 位", parameter="cosigner")

    def work(tx: Tx) -> ProposalView:
        who = common.acting(tx, actor)
        if not _is_deputy(tx, who):
            raise NotPermitted(f"{who.name}（{who.code}）不是人大代表：只有代表可以提出建议", person=who.code)
        orgs = deputy_orgs(tx, who)
        if org is not None:
            wanted = directory.org_ids_of(tx).get(org, -1)
            if wanted not in orgs:
                raise InvalidInput(f"您不是“{common.shown(org)}”的代表", parameter="org")
            orgs = [wanted]
        if len(orgs) > 1:
            raise InvalidInput("您是几个人大的代表：请说明向哪一个人大提出（它的组织代码）", parameter="org")
        ids = []
        for code in names:
            p = common.person(tx, code)
            if p.id == who.id:
                raise InvalidInput("联名代表不包括您自己", parameter="cosigner")
            if not _is_deputy(tx, p):
                raise InvalidInput(f"{p.name}（{p.code}）不是人大代表，不能联名", parameter="cosigner", person=p.code)
            ids.append(p.id)
        pid = store_.add(tx, organisation_id=orgs[0], author_id=who.id, title=title, text=text, at=now, cosigners=ids)
        audit_store.append(tx, at=now, actor=who.code, kind="proposal_submitted",
                           data={"proposal": pid, "title": title, "cosigners": names})
        return _view(tx, store_.get(tx, pid), store_.cosigners(tx, [pid])[pid])

    return common.guarded(store, actor, now, "submit a proposal", None, work)


def cosign(store: Store, actor: str, proposal_id: int, now: datetime) -> ProposalView:
    """A named co-signer confirms (联名), once, while the proposal waits for its screening."""

    def work(tx: Tx) -> ProposalView:
        who = common.acting(tx, actor)
        r = _readable(tx, who, proposal_id, lock=True)
        if r.status != "submitted":
            raise Conflict(f"建议 {proposal_id} 已审查（{STATUS_CN[r.status]}），不能再联名", proposal=proposal_id)
        if not store_.confirm(tx, proposal_id, who.id, now):
            signed = any(c.person_id == who.id for c in store_.cosigners(tx, [proposal_id])[proposal_id])
            raise Conflict(f"您已确认联名建议 {proposal_id}", proposal=proposal_id) if signed else NotPermitted(
                f"建议 {proposal_id} 没有请{who.name}联名", proposal=proposal_id)
        audit_store.append(tx, at=now, actor=who.code, kind="proposal_cosigned", data={"proposal": proposal_id})
        return _view(tx, store_.get(tx, proposal_id), store_.cosigners(tx, [proposal_id])[proposal_id])

    return common.guarded(store, actor, now, "cosign a proposal", None, work)


def _readable(tx: Tx, who: PersonRow | None, proposal_id: int, lock: bool = False) -> store_.ProposalRow:
    """The proposal if he may read it: its author, a co-signer, the staff of its 人大, the operator (NotFound else)."""
    r = store_.get(tx, proposal_id, lock=lock)
    if r is None:
        raise NotFound(f"建议 {proposal_id} 不存在", proposal=proposal_id)
    if who is None or r.author_id == who.id or r.organisation_id in org_store.staff_orgs(tx, who.id) or any(
            c.person_id == who.id for c in store_.cosigners(tx, [proposal_id])[proposal_id]):
        return r
    raise NotFound(f"建议 {proposal_id} 不存在", proposal=proposal_id)


def show_proposal(store: Store, viewer: Viewer, proposal_id: int) -> ProposalView:
    with store.read() as tx:
        r = _readable(tx, person_of(tx, viewer), proposal_id)
        return _view(tx, r, store_.cosigners(tx, [proposal_id])[proposal_id])


def list_proposals(store: Store, viewer: Viewer, *, mine: bool = False, meeting: int | None = None) -> list[ProposalView]:
    """The newest proposals he may read (`mine`: his own and those he is asked to co-sign, even as staff)."""
    with store.read() as tx:
        who = person_of(tx, viewer)
        rows = store_.readable(tx, who.id if who else None, org_store.staff_orgs(tx, who.id) if who else None,
                               mine=mine, meeting_id=meeting)
        signers = store_.cosigners(tx, [r.id for r in rows])
        authors = directory.people_by_ids(tx, list({r.author_id for r in rows}))  # one read for the list's authors
        return [_view(tx, r, signers[r.id], authors[r.author_id]) for r in rows]


def screen(store: Store, actor: str, proposal_id: int, decision: str, now: datetime, *, reason: str | None = None,
           meeting: int | None = None) -> ProposalView:
    """The office of the proposal's 人大 decides, once; 转为代表建议 and 作为监督议题建议 start an item."""
    if decision not in DECISIONS:
        raise InvalidInput(f"审查结果“{common.shown(str(decision))}”应是 {'、'.join(DECISIONS)} 之一", parameter="decision")
    reason = common.text_in(str(reason).strip(), "理由") if reason is not None and str(reason).strip() else None
    if decision == "reject" and not reason:
        raise InvalidInput("不予采纳时请写明理由，代表会看到", parameter="reason")

    def work(tx: Tx) -> ProposalView:
        who = common.acting(tx, actor)
        r = _readable(tx, who, proposal_id, lock=True)
        office = store_.office_unit(tx, who.id, r.organisation_id)
        if office is None:
            raise NotPermitted(f"建议由所提交人大的常委会办公室审查，{who.name}不在其中", proposal=proposal_id)
        if r.status != "submitted":
            raise Conflict(f"建议 {proposal_id} 已审查（{STATUS_CN[r.status]}）", proposal=proposal_id)
        signers = store_.cosigners(tx, [proposal_id])[proposal_id]
        deputies = [_author(tx, r).code] + [c.code for c in signers if c.confirmed_at]
        item = None
        if decision == "to_suggestion":
            item = create_in(tx, store, who.code, template="deputy_suggestion", title=r.title, now=now, units=(office,),
                             fields={"title": r.title}, assign={"deputy": deputies}).id
        elif decision == "to_topic":
            item = create_in(tx, store, who.code, template="special_supervision", title=r.title, now=now, units=(office,),
                             fields={"topic": r.title, "source": "代表建议"}).id
        elif decision == "to_advisory_meeting":
            if meeting is None or meeting_store.get(tx, meeting) is None:
                raise InvalidInput("请指明列入哪一次建言献策会（已登记的会议编号）", parameter="meeting", next="list_meetings")
        store_.decide(tx, proposal_id, status=_STATUS_OF[decision], by=who.code, at=now, reason=reason, item_id=item,
                      meeting_id=meeting if decision == "to_advisory_meeting" else None)
        audit_store.append(tx, at=now, actor=who.code, kind="proposal_screened", item_id=item,
                           data={"proposal": proposal_id, "decision": decision, "reason": reason, "meeting": meeting})
        return _view(tx, store_.get(tx, proposal_id), store_.cosigners(tx, [proposal_id])[proposal_id])

    return common.guarded(store, actor, now, "screen a proposal", None, work)


@dataclass(frozen=True)
class ProposalPage:
    proposal: ProposalView
    may_cosign: bool  # he is a co-signer who has not confirmed, and it waits for its screening
    may_screen: bool  # he is the office of its 人大, and it waits for its screening


def proposal_page(store: Store, viewer: Viewer, proposal_id: int) -> ProposalPage:
    """The proposal with what the viewer may do on it (the workbench's page)."""
    with store.read() as tx:
        who = person_of(tx, viewer)
        r = _readable(tx, who, proposal_id)
        signers = store_.cosigners(tx, [proposal_id])[proposal_id]
        waiting = r.status == "submitted"
        cosign_ = waiting and who is not None and any(c.person_id == who.id and c.confirmed_at is None for c in signers)
        screen_ = waiting and who is not None and store_.office_unit(tx, who.id, r.organisation_id) is not None
        return ProposalPage(_view(tx, r, signers), cosign_, screen_)


def is_deputy(store: Store, viewer: Viewer) -> bool:
    """Whether the viewer may submit proposals (the workbench offers the form)."""
    with store.read() as tx:
        who = person_of(tx, viewer)
        return who is not None and _is_deputy(tx, who)
