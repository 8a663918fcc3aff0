"""The store's bulk insert: COPY on PostgreSQL, executemany on SQLite, the same rows and errors either way."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from conftest import at
from workflow.db import connection_of
from workflow.driver import insert_rows
from workflow.models import Outbox


def _row(mid: str, **kw):
    return {"message_id": mid, "escalation_id": None, "item_id": 7, "notice": "reminder", "person_id": 3,
            "to_addr": "a@example.org", "to_name": "王芳", "context": {"step_id": 1, "rung": {"label": "蓝色督办"}},
            "status": "pending", "attempts": 0, "next_attempt_at": at("2026-03-02 09:00"), "created_at": at("2026-03-02 09:00")} | kw


def test_insert_rows_writes_what_an_insert_would(store):
    with store.transaction() as s:
        insert_rows(connection_of(s), Outbox.__table__, [_row("<a@x>"), _row("<b@x>", context={"comment": "请于'周五'前\n反馈"})])
        insert_rows(connection_of(s), Outbox.__table__, [])
    with store.read() as s:
        got = s.execute(select(Outbox).order_by(Outbox.id)).scalars().all()
    assert [(o.message_id, o.to_name, o.context) for o in got] == [
        ("<a@x>", "王芳", {"step_id": 1, "rung": {"label": "蓝色督办"}}), ("<b@x>", "王芳", {"comment": "请于'周五'前\n反馈"})]
    assert got[0].created_at == at("2026-03-02 09:00")  # stored as UTC, handed back aware


def test_insert_rows_raises_sqlalchemy_errors_and_keeps_nothing(store):
    with store.transaction() as s:
        insert_rows(connection_of(s), Outbox.__table__, [_row("<a@x>")])
    with pytest.raises(IntegrityError), store.transaction() as s:
        insert_rows(connection_of(s), Outbox.__table__, [_row("<c@x>"), _row("<a@x>")])
    with store.read() as s:
        assert s.execute(select(Outbox.message_id)).scalars().all() == ["<a@x>"]
