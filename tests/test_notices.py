"""Notices that fit their readers: one message per rung (To the owner, Cc those informed), numbered 督办单 with a
new 限期, the reason an urgent item starts higher, links, local Date headers; webhooks to a real HTTP server."""

from __future__ import annotations

import email
import json
import re
import threading
from dataclasses import replace
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from conftest import ADMIN, T0, at, chain_files
from notifier.transports import MemoryTransport
from workflow import service
from workflow.errors import FileError
from workflow.store.models import Escalation, Outbox


def new_item(store, urgency="一般") -> int:
    return service.create_item(store, ADMIN, template="special_supervision", title="大气污染防治专项监督", now=T0,
                               group="g-env", fields={"urgency": urgency}).id


def sent(store, now, transport=None, **kw):
    mail = transport or MemoryTransport()
    service.deliver(store, mail, now, **kw)
    return [email.message_from_bytes(bytes(m), policy=policy.default) for m in mail.sent]


@pytest.fixture
def linked(ready):
    ready.settings = replace(ready.settings, base_url="https://duban.example.gov.cn/", mail_from="duban@rd.example.gov.cn")
    return ready


def test_a_red_slip_is_one_message_to_the_owner_with_the_others_in_cc(linked):
    s = linked
    item = new_item(s)  # 选题立项, owned by the office (王芳), due 2026-01-26 24:00
    service.sweep(s, at("2026-02-06 09:00"))  # past blue and yellow: only red fires
    mails = [m for m in sent(s, at("2026-02-06 09:01")) if "督办单" in m["Subject"]]
    assert len(mails) == 1
    m = mails[0]
    assert m["To"] == "王芳 <wang.fang@rd.example.gov.cn>"
    assert {a.display_name for a in m["Cc"].addresses} == {"赵华", "陈静", "李明", "郑宇"}
    assert m["Subject"].startswith("【红色督办单】〔2026〕人大督字第1号 大气污染防治专项监督 —「选题立项」超时 ")
    assert m["Date"].endswith("+0800")  # the readers' local time
    assert m["Message-ID"].endswith("@rd.example.gov.cn>")
    text = m.get_body(("plain",)).get_content()
    assert text.startswith("王芳：")
    assert "请常委会办公室立即办理，于 2026-02-10 24:00 前办结或书面报告办理情况" in text  # 2 working days: a new 限期
    assert "本督办单同时抄送专项监督小组组长、工作委员会、主任会议。" in text
    assert "督办单编号：〔2026〕人大督字第1号" in text and "本单限期：2026-02-10 24:00前" in text
    assert f"在线办理：https://duban.example.gov.cn/items/{item}" in text
    assert "专项监督（专项监督" not in text and "请承办单位" not in text
    assert f"事项：大气污染防治专项监督（第 {item} 号）\n类别：专项监督（五专全链条）\n" in text  # no brackets in brackets
    with s.read() as tx:
        esc = tx.execute(select(Escalation.slip_no, Escalation.limit_at).where(Escalation.rung == "red")).one()
    assert esc.slip_no == "〔2026〕人大督字第1号" and esc.limit_at == at("2026-02-11 00:00")
    ev = service.history(s, service.OPERATOR, item)[-1]
    assert ev.data["to"] == ["wang.fang"] and ev.data["slip_no"] == "〔2026〕人大督字第1号"


def test_the_blue_slip_at_the_deadline_asks_for_no_reason_and_says_how_late(linked):
    s = linked
    new_item(s)
    service.sweep(s, at("2026-01-27 09:00"))  # nine hours after the due time
    m = next(m for m in sent(s, at("2026-01-27 09:01")) if "蓝色" in m["Subject"])
    text = m.get_body(("plain",)).get_content()
    # nine hours into a working day counts as the workbench counts it (a working day has begun), not as "9小时"
    assert "现已超过时限 1个工作日，尚未办结" in text and "逾期原因" not in text and "现已到期" not in text
    assert "（已到办理时限尚未办结。）" in text  # the colour's meaning in this template


def test_the_slip_and_the_item_page_count_late_time_the_same_way(linked):
    """The red slip said "超时 16日" (calendar days) while the workbench said "已逾期 N 个工作日": one count now."""
    s = linked
    item = new_item(s)  # due 2026-01-26 24:00 (a Monday)
    service.sweep(s, at("2026-02-09 09:00"))  # two weeks later: 10 working days have begun, 14 calendar days
    m = next(m for m in sent(s, at("2026-02-09 09:01")) if "红色" in m["Subject"])
    from workflow.service import reads

    page = reads.item_page(s, "wang.fang", item, at("2026-02-09 09:00"))
    assert page.overdue_workdays == 10
    assert m["Subject"].endswith("超时 10个工作日") and "现已超过时限 10个工作日" in m.get_body(("plain",)).get_content()


def test_a_late_step_before_the_first_working_day_has_begun_counts_hours():
    from datetime import UTC, datetime

    from workflow.calendar import EVERY_DAY, build_calendar
    from workflow.notice_data import overdue_text

    cal = build_calendar()
    due = datetime(2026, 1, 30, 16, 0, tzinfo=UTC)  # Friday 24:00 in Beijing
    assert overdue_text(cal, due, datetime(2026, 1, 31, 2, 0, tzinfo=UTC)) == "10小时"  # Saturday 10:00
    assert overdue_text(cal, due, datetime(2026, 2, 2, 2, 0, tzinfo=UTC)) == "1个工作日"  # Monday 10:00
    assert overdue_text(EVERY_DAY, due, datetime(2026, 2, 2, 2, 0, tzinfo=UTC)) == "3日"  # `calendar: none`
    assert overdue_text(EVERY_DAY, due, due) == ""


def test_reminders_go_before_the_deadline_and_are_not_numbered(linked):
    s = linked
    new_item(s)
    assert service.sweep(s, at("2026-01-23 09:00")).fired == 1  # two working days before 1/26
    m = next(m for m in sent(s, at("2026-01-23 09:01")) if "到期提醒" in m["Subject"])
    assert m["Cc"] is None and "督办单编号" not in m.get_body(("plain",)).get_content()
    with s.read() as tx:
        assert tx.execute(select(Escalation.slip_no).where(Escalation.rung == "reminder")).scalar_one() is None


def test_an_urgent_item_says_why_it_starts_higher(linked):
    s = linked
    new_item(s, urgency="特急")
    service.sweep(s, at("2026-01-27 09:00"))
    m = next(m for m in sent(s, at("2026-01-27 09:01")) if "督办单" in m["Subject"])
    assert m["Subject"].startswith("【红色督办单】")
    assert "紧急程度为「特急」，按规定直接以此级别督办" in m.get_body(("plain",)).get_content()


def test_the_handover_of_the_opinions_is_copied_to_the_party_committee(linked):
    from test_authority import _HAPPY, MOVES

    s = linked
    item = new_item(s)
    for n, trigger in enumerate(_HAPPY[:_HAPPY.index("finish_rectification")]):
        actor, fields, comment = MOVES[trigger]
        service.advance(s, actor, item, trigger, at(f"2026-01-05 10:{n:02d}"), fields=fields, comment=comment,
                        files=chain_files(trigger))
    with s.read() as tx:
        last = tx.execute(select(Outbox.recipients).where(Outbox.notice == "handover").order_by(Outbox.id.desc())).scalars().first()
    assert [r[0] for r in last["to"]] == ["黄波"] and [(r[0], r[2]) for r in last["cc"]] == [("唐伟", "市委（党委）")]


def test_slip_numbers_are_per_year_without_gaps(linked):
    s = linked
    for _ in range(3):
        new_item(s)
    service.sweep(s, at("2026-01-27 09:00"))  # three blue slips
    with s.read() as tx:
        numbers = sorted(tx.execute(select(Escalation.slip_no).where(Escalation.slip_no.is_not(None))).scalars())
    assert numbers == [f"〔2026〕人大督字第{n}号" for n in (1, 2, 3)]


class Hook(BaseHTTPRequestHandler):
    """A group robot on loopback: records each POST; answers with the status the test sets."""

    received: list[dict] = []
    status = 200

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"json": json.loads(body), "id": self.headers["X-Wuzhuan-Message-ID"],
                                    "type": self.headers["Content-Type"]})
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b'{"errcode": 0}')

    def log_message(self, *args):
        """Quiet: the test reads what the robot received, not the server's access log."""


@pytest.fixture
def robot():
    Hook.received, Hook.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/robot/send?access_token=t"
    server.shutdown()
    server.server_close()


def people_with_webhook(tmp_path, url: str):
    p = tmp_path / "hook.yaml"
    p.write_text("people: []\nunits:\n  - {code: office, name: 常委会办公室, kind: office, applies_to_all: true, "
                 f"webhook: '{url}', members: [{{person: wang.fang, role: office}}]}}\n", encoding="utf-8")
    return p


def test_a_unit_with_a_webhook_gets_each_notice_posted_once(linked, robot, tmp_path):
    s = linked
    service.import_people(s, ADMIN, people_with_webhook(tmp_path, robot), T0)
    new_item(s)  # the handover to the office: an e-mail and a post to the office's robot
    service.sweep(s, at("2026-01-27 09:00"))  # blue: To 王芳 (office), Cc 赵华
    mails = sent(s, at("2026-01-27 09:01"))
    assert len(mails) == 2 and len(Hook.received) == 2
    posted = Hook.received[-1]
    assert posted["type"].startswith("application/json")
    assert posted["json"]["msgtype"] == "text" and "蓝色督办单" in posted["json"]["text"]["content"]
    assert posted["id"] == posted["json"]["message_id"] and re.fullmatch(r"<wuzhuan\.e\d+\.u\d+@rd\.example\.gov\.cn>", posted["id"])
    assert sent(s, at("2026-01-27 09:30")) == [] and len(Hook.received) == 2  # delivered once: nothing again
    with s.read() as tx:
        rows = tx.execute(select(Outbox.channel, Outbox.status)).all()
    assert sorted(rows) == [("email", "sent"), ("email", "sent"), ("webhook", "sent"), ("webhook", "sent")]
    listed = service.list_outbox(s)
    assert any(m.channel == "webhook" and robot in m.to for m in listed)


def test_a_failing_webhook_is_retried_then_dead_like_mail(linked, robot, tmp_path):
    s = linked
    service.import_people(s, ADMIN, people_with_webhook(tmp_path, robot), T0)
    new_item(s)
    Hook.status = 500
    r = service.deliver(s, MemoryTransport(), at("2026-01-05 09:01"), max_attempts=2, retry_base=60)
    assert (r.sent, r.failed) == (1, 1)  # the e-mail went; the post waits a minute
    failed = next(m for m in service.list_outbox(s) if m.channel == "webhook")
    assert failed.status == "pending" and "answered 500" in failed.last_error
    r = service.deliver(s, MemoryTransport(), at("2026-01-05 09:03"), max_attempts=2, retry_base=60)
    assert r.dead == 1 and len(Hook.received) == 2
    Hook.status = 200
    service.retry_outbox(s, ADMIN, at("2026-01-05 09:10"))
    assert service.deliver(s, MemoryTransport(), at("2026-01-05 09:10")).sent == 1 and len(Hook.received) == 3


def test_an_unreachable_webhook_fails_with_its_address(linked, tmp_path):
    s = linked
    service.import_people(s, ADMIN, people_with_webhook(tmp_path, "http://127.0.0.1:9/robot"), T0)
    new_item(s)
    service.deliver(s, MemoryTransport(), at("2026-01-05 09:01"))
    failed = next(m for m in service.list_outbox(s) if m.channel == "webhook")
    assert failed.status == "pending" and "cannot reach the webhook http://127.0.0.1:9/robot" in failed.last_error


@pytest.mark.parametrize("url", ["ftp://x/robot", "javascript:alert(1)", "http://x/a b"])
def test_a_webhook_must_be_an_http_url(ready, tmp_path, url):
    with pytest.raises(FileError, match="must be an http:// or https:// URL"):
        service.import_people(ready, ADMIN, people_with_webhook(tmp_path, url), T0)


def test_a_notice_says_what_was_true_when_it_was_queued_composed_once_and_stored_with_its_row(linked):
    """The notice's data is composed when it is queued and stored with the outbox row; delivery renders that, not
    the item as it is later (a title changed after the 督办单 went out does not rewrite the sent slip)."""
    from sqlalchemy import update

    from workflow.store.models import Item
    s = linked
    item = new_item(s)
    service.sweep(s, at("2026-02-06 09:00"))
    with s.transaction() as tx:
        row = tx.execute(select(Outbox.context).where(Outbox.notice == "duban_red")).scalar_one()
        tx.execute(update(Item).where(Item.id == item).values(title="改过的标题"))
    assert row["composed"] == 2 and row["item"]["title"] == "大气污染防治专项监督"
    assert row["recipient"]["name"] == "王芳" and row["step"]["label"] == "选题立项"
    mails = [m for m in sent(s, at("2026-02-06 09:01")) if "督办单" in m["Subject"]]
    assert len(mails) == 1 and "大气污染防治专项监督" in mails[0]["Subject"] and "改过的标题" not in mails[0]["Subject"]


def test_the_handover_of_the_opinions_links_the_opinions_document_and_never_attaches_it(linked):
    """Issue 27 §4: the department's handover names the 审议意见书 it must act on, with its address on the workbench."""
    from test_authority import _HAPPY, MOVES

    s = linked
    item = new_item(s)
    for n, trigger in enumerate(_HAPPY[:_HAPPY.index("finish_rectification")]):
        actor, fields, comment = MOVES[trigger]
        service.advance(s, actor, item, trigger, at(f"2026-01-05 10:{n:02d}"), fields=fields, comment=comment,
                        files=chain_files(trigger))
    (doc,) = [f for f in service.item_files(s, ADMIN, item) if f.field == "opinions_file"]
    link = f"https://duban.example.gov.cn/items/{item}/files/{doc.id}"
    mails = [m for m in sent(s, at("2026-01-05 11:00")) if "整改落实" in m["Subject"]]
    assert mails and all(m["To"].startswith("黄波") for m in mails)
    m = mails[-1]
    text = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    assert f"办理依据：审议意见书《opinions_file.pdf》 {link}" in text and f'<a href="{link}">opinions_file.pdf</a>' in html
    assert not [p for p in m.walk() if p.get_content_disposition() == "attachment"]
