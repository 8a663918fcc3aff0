"""Notice channels (issue 25): registered in one place, so a new channel is its module and one line. The worked
example of docs/escalation.md — a channel appending each notice to a file — is run here as written there."""

from __future__ import annotations

import json
import re
import types
from dataclasses import replace

import pytest

from conftest import ADMIN, ROOT, T0, at
from notifier.transports import MemoryTransport
from workflow import channels, service


def _example_module() -> types.ModuleType:
    """The channel module of docs/escalation.md ("Adding a channel"), exactly as a reader would copy it."""
    doc = (ROOT / "docs" / "escalation.md").read_text("utf-8")
    section = doc.split("### Adding a channel", 1)[1].split("\n## ", 1)[0]
    code = [b for b in re.findall(r"```python\n(.*?)```", section, re.S) if "CHANNEL = Channel(" in b]
    assert len(code) == 1, "the worked example is gone from docs/escalation.md"
    module = types.ModuleType("jsonl")
    exec(compile(code[0], "docs/escalation.md", "exec"), module.__dict__)  # noqa: S102 - our own documentation
    return module


@pytest.fixture
def with_example(ready, tmp_path):
    ready.settings = replace(ready.settings, outbox_dir=str(tmp_path / "outbox"))
    example = _example_module()
    channels.register(example.CHANNEL)  # the one line a new channel adds
    try:
        yield ready, tmp_path / "outbox" / "notices.jsonl"
    finally:
        channels.CHANNELS.pop(example.CHANNEL.name, None)


def test_the_worked_example_channel_gets_every_notice_once_beside_the_mail(with_example):
    store, spool = with_example
    item = service.create_item(store, ADMIN, template="special_supervision", title="大气污染防治", now=T0, group="g-env").id
    service.sweep(store, at("2026-02-06 09:00"))  # the red rung of 选题立项 fires
    mail = MemoryTransport()
    done = service.deliver(store, mail, at("2026-02-06 09:01"))
    lines = [json.loads(x) for x in spool.read_text("utf-8").splitlines()]
    assert done.failed == done.dead == 0 and done.sent == len(mail.sent) + len(lines)
    assert len(lines) == len(mail.sent) >= 1  # each notice once by each channel
    assert all(x["message_id"].endswith(".jsonl@" + store.settings.message_domain + ">") for x in lines)
    red = [x for x in lines if x["subject"].startswith("【红色督办单】")]
    assert len(red) == 1 and f"第 {item} 号" in red[0]["text"]
    assert service.deliver(store, mail, at("2026-02-06 10:00")).sent == 0  # delivered once
    listed = [m for m in service.list_outbox(store, limit=1000) if m.channel == "jsonl"]
    assert len(listed) == len(lines) and all(m.to == "notices.jsonl" and m.status == "sent" for m in listed)


def test_a_row_whose_channel_is_no_longer_registered_is_dead_and_says_why(with_example):
    store, _spool = with_example
    service.create_item(store, ADMIN, template="special_supervision", title="大气污染防治", now=T0, group="g-env")
    service.sweep(store, at("2026-02-06 09:00"))
    channels.CHANNELS.pop("jsonl")
    done = service.deliver(store, MemoryTransport(), at("2026-02-06 09:01"))
    dead = service.list_outbox(store, "dead", 1000)
    assert done.dead == len(dead) >= 1 and all("no notice channel 'jsonl'" in m.last_error for m in dead)


def test_the_channels_are_registered_in_one_place():
    assert list(channels.CHANNELS) == ["email", "webhook"]
    with pytest.raises(Exception, match="no notice channel 'sms'"):
        channels.channel("sms")
