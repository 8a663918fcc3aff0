"""Notices: every shipped notice renders, markup and header injection are neutralised, overrides work."""

from __future__ import annotations

import email
import email.policy

import pytest

from notifier.render import NoticeError, available, environment, render, sample_context
from notifier.transports import FileTransport, MailConfig, MemoryTransport, Outgoing, build_message
from workflow.loader import load_file
from workflow.templates import builtin_paths


def test_every_notice_a_builtin_template_names_exists_and_renders():
    for p in builtin_paths():
        for name in load_file(p).notices():
            r = render(name, sample_context())
            assert r.subject and "示例专项监督事项" in r.text and "<html" in r.html


def test_available_notices():
    assert {"reminder", "duban_blue", "duban_yellow", "duban_red", "handover"} <= available()


def test_title_cannot_add_headers_or_markup():
    ctx = sample_context()
    ctx["item"]["title"] = "整改\r\nBcc: attacker@evil.example\r\n\r\n<script>alert(1)</script>"
    r = render("duban_red", ctx)
    assert "\n" not in r.subject and "\r" not in r.subject
    assert "<script>" not in r.html and "&lt;script&gt;" in r.html
    msg = build_message(Outgoing("<x@y>", "a@b.example", "张三\r\nBcc: c@d.example", r.subject, r.text, r.html,
                                 __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").UTC)), MailConfig())
    raw = bytes(msg)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None and len(parsed.get_all("To")) == 1
    assert b"\nBcc:" not in raw


def test_missing_variable_is_an_error_not_a_blank():
    ctx = sample_context()
    del ctx["step"]
    with pytest.raises(NoticeError, match="duban_blue"):
        render("duban_blue", ctx)


def test_unknown_notice():
    with pytest.raises(NoticeError, match="nope"):
        render("nope", sample_context())


def test_override_directory_wins(tmp_path):
    (tmp_path / "duban_blue.subject.j2").write_text("【本地督办】{{ item.title }}", encoding="utf-8")
    environment.cache_clear()
    r = render("duban_blue", sample_context(), str(tmp_path))
    assert r.subject == "【本地督办】示例专项监督事项"
    assert "蓝色督办单" in r.text  # parts not overridden still come from the package
    assert render("duban_blue", sample_context()).subject.startswith("【蓝色督办单】")


def test_override_that_does_not_render_is_caught_by_validate(tmp_path):
    from workflow.errors import DefinitionError
    from workflow.templates import validate_paths

    (tmp_path / "reminder.txt.j2").write_text("{{ no_such_thing.attr }}", encoding="utf-8")
    environment.cache_clear()
    with pytest.raises(DefinitionError, match=r"audit_rectification.yaml:48:99: ladder 'standard', rung 1 \('reminder'\): "
                                              r"notice 'reminder' does not render: .*'no_such_thing' is undefined"):
        validate_paths(builtin_paths()[:1], str(tmp_path))


def test_file_transport_writes_one_file_per_message_id(tmp_path):
    t = FileTransport(tmp_path)
    r = render("reminder", sample_context())
    msg = Outgoing("<wuzhuan.e1.2@wuzhuan.local>", "a@b.example", "张三", r.subject, r.text, r.html,
                   __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").UTC))
    t.send(msg)
    t.send(msg)
    files = list(tmp_path.glob("*.eml"))
    assert [f.name for f in files] == ["wuzhuan.e1.2.eml"]
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == "<wuzhuan.e1.2@wuzhuan.local>" and parsed.get_body(("html",)) is not None


def test_memory_transport_failure():
    from notifier.transports import DeliveryError

    with pytest.raises(DeliveryError):
        MemoryTransport(fail_with="down").send(None)
