"""Delivery to a real SMTP server on loopback (aiosmtpd): once each, outages, retries, dead letters."""

from __future__ import annotations

import contextlib
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from conftest import T0, at
from workflow import service
from workflow.config import Settings
from workflow.service import deliver, list_outbox, transport_for
from workflow.store.models import Outbox


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content.decode("utf-8", errors="replace"))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    yield ctl, inbox, port
    with contextlib.suppress(AssertionError, RuntimeError):  # an outage test may have stopped it already
        ctl.stop()


def message_ids(inbox) -> list[str]:
    import email

    return [email.message_from_string(m)["Message-ID"] for m in inbox.messages]


def make_due(store, n=3):
    for _ in range(n):
        service.create_item(store, "wang.fang", template="special_supervision", title="专项监督", now=T0, group="g-env")
    for t in ("2026-01-23 09:00", "2026-01-27 09:00", "2026-01-30 09:00", "2026-02-06 09:00"):
        service.sweep(store, at(t))


def test_every_rung_delivered_once_over_smtp(ready, smtp):
    ctl, inbox, port = smtp
    make_due(ready)
    t = transport_for(Settings(smtp_host="127.0.0.1", smtp_port=port))
    first = deliver(ready, t, at("2026-02-06 09:05"))
    second = deliver(ready, t, at("2026-02-06 09:06"))
    with ready.read() as s:
        queued = s.execute(select(Outbox.message_id, Outbox.status)).all()
    assert first.sent == len(queued) and second.sent == 0
    ids = message_ids(inbox)
    assert len(ids) == len(set(ids)) == len(queued)
    assert set(ids) == {o.message_id for o in queued}
    assert all(o.status == "sent" for o in queued)


def test_server_down_then_back_delivers_once(ready, smtp):
    ctl, inbox, port = smtp
    make_due(ready, 2)
    ctl.stop()
    t = transport_for(Settings(smtp_host="127.0.0.1", smtp_port=port))
    r = deliver(ready, t, at("2026-02-06 09:05"), retry_base=60)
    assert r.sent == 0 and r.failed > 0
    waiting = list_outbox(ready, "pending")
    assert waiting and all("cannot reach the mail server" in w.last_error for w in waiting)
    # before the backoff has passed nothing is tried again
    assert deliver(ready, t, at("2026-02-06 09:05:30")).sent == 0
    inbox2 = Inbox()
    ctl2 = Controller(inbox2, hostname="127.0.0.1", port=port)
    ctl2.start()
    try:
        r = deliver(ready, t, at("2026-02-06 09:10"))
        assert r.sent == len(waiting)
        assert deliver(ready, t, at("2026-02-06 10:00")).sent == 0
        ids = message_ids(inbox2)
        assert len(ids) == len(set(ids)) == len(waiting)
    finally:
        ctl2.stop()


def test_dead_messages_can_be_retried(ready, smtp):
    ctl, inbox, port = smtp
    make_due(ready, 1)
    ctl.stop()
    t = transport_for(Settings(smtp_host="127.0.0.1", smtp_port=port))
    now = at("2026-02-06 09:05")
    for _ in range(3):
        deliver(ready, t, now, max_attempts=3, retry_base=1)
        now += timedelta(minutes=5)
    dead = list_outbox(ready, "dead")
    assert dead and all(d.attempts == 3 for d in dead)
    assert service.retry_outbox(ready, "wang.fang", now).count == len(dead)
    inbox2 = Inbox()
    ctl2 = Controller(inbox2, hostname="127.0.0.1", port=port)
    ctl2.start()
    try:
        assert deliver(ready, t, now).sent == len(dead)
        assert list_outbox(ready, "dead") == []
    finally:
        ctl2.stop()


def test_a_crash_after_sending_resends_with_the_same_message_id(ready, smtp):
    """A deliverer killed between sending and recording: the lease expires and the same Message-ID goes again."""
    from workflow.service.delivery import LEASE
    from workflow.store import outbox as outbox_store

    ctl, inbox, port = smtp
    make_due(ready, 1)
    with ready.transaction() as tx:  # claimed, then the process "dies"
        leased = outbox_store.lease(tx, at("2026-02-06 09:05"), 100, LEASE)
    assert leased
    t = transport_for(Settings(smtp_host="127.0.0.1", smtp_port=port))
    assert deliver(ready, t, at("2026-02-06 09:06")).sent == 0  # still leased
    assert deliver(ready, t, at("2026-02-06 09:11")).sent == len(leased)
    assert sorted(message_ids(inbox)) == sorted(o.message_id for o in leased)


def test_password_is_never_printed(ready, tmp_path, monkeypatch):
    """A server that refuses the login: the error names the server, never the password."""
    from aiosmtpd.smtp import AuthResult

    def refuse(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    port = free_port()
    ctl = Controller(Inbox(), hostname="127.0.0.1", port=port, authenticator=refuse, auth_require_tls=False)
    ctl.start()
    try:
        make_due(ready, 1)
        for day, secret, says in ((7, "s3cret-pass", "refused the login for user 'duban'"), (8, "s3cret-口令", "must be ASCII")):
            cfg = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_user="duban", smtp_password=secret)
            r = deliver(ready, transport_for(cfg), at(f"2026-02-{day:02d} 09:05"))
            assert r.sent == 0 and r.failed > 0
            errors = [x.last_error or "" for x in list_outbox(ready)]
            assert errors and all(secret not in e for e in errors) and any(says in e for e in errors)
        assert secret not in repr(cfg) and secret not in repr(transport_for(cfg))
        assert cfg.public()["smtp_password"] == "(set)"
    finally:
        ctl.stop()

    from click.testing import CliRunner

    from cli import cli

    monkeypatch.setenv("WUZHUAN_SMTP_PASSWORD", secret)
    out = CliRunner().invoke(cli, ["config", "show", "--json"]).output
    assert secret not in out and '"smtp_password": "(set)"' in out
