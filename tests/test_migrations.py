"""Schema: migrations match the models; empty databases are migrated; foreign or outdated ones are refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from workflow.errors import SchemaOutdated
from workflow.store import Store
from workflow.store.models import metadata


def test_migrations_match_the_models(db_url):
    store = Store(db_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    store.dispose()
    assert diff == []


def test_foreign_tables_are_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text("CREATE TABLE invoices (id INTEGER)"))
    eng.dispose()
    with pytest.raises(SchemaOutdated, match="不属于 wuzhuan"):
        Store(url)


def test_outdated_schema_asks_for_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store(url).dispose()
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    eng.dispose()
    with pytest.raises(SchemaOutdated, match="请先升级数据库") as e:
        Store(url)
    assert e.value.details["next"] == "upgrade_schema"  # the command line names `wuzhuan db upgrade` itself


def test_sqlite_runs_in_wal_with_immediate_transactions(sqlite_store):
    with sqlite_store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_head_constant_matches_alembic():
    from workflow.store.schema import HEAD, head_revision

    assert HEAD == head_revision()


def test_upgrade_from_0001_keeps_queued_notices_and_drops_the_outbox_key(db_url):
    """0002 drops outbox → escalations (a quadratic check on PostgreSQL); rows, indexes and uniqueness stay."""
    from alembic import command
    from sqlalchemy import inspect

    from workflow.store.engine import make_engine
    from workflow.store.schema import HEAD, alembic_config
    from workflow.store.upgrades import upgrade

    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    row = ("<m1@x>", "reminder", "a@example.org", "甲", "{}", "pending", 0, "2026-03-02 01:00:00", "2026-03-02 01:00:00")
    insert = ("INSERT INTO outbox (message_id, notice, to_addr, to_name, context, status, attempts, next_attempt_at, created_at)"
              " VALUES (:a, :b, :c, :d, :e, :f, :g, :h, :i)")
    params = dict(zip("abcdefghi", row, strict=True))
    with engine.begin() as conn:
        conn.execute(text(insert), params)
        assert inspect(conn).get_foreign_keys("outbox") != []
    r = upgrade(engine)
    assert (r.before, r.after) == ("0001", HEAD)
    with engine.begin() as conn:
        insp = inspect(conn)
        assert insp.get_foreign_keys("outbox") == []
        assert "ix_outbox_ready" in {i["name"] for i in insp.get_indexes("outbox")}
        assert conn.execute(text("SELECT message_id, to_name FROM outbox")).all() == [("<m1@x>", "甲")]
    with pytest.raises(IntegrityError, match="(?i)unique"), engine.begin() as conn:
        conn.execute(text(insert), params)
    engine.dispose()
    Store(db_url).dispose()  # opens without asking for an upgrade


def test_a_failed_upgrade_leaves_the_database_as_it_was(db_url, monkeypatch):
    """The whole upgrade is one transaction: a failure after 0002 has run rolls all of it back."""
    import alembic.command
    from sqlalchemy import inspect

    from workflow.store.engine import make_engine
    from workflow.store.schema import alembic_config
    from workflow.store.upgrades import upgrade

    engine = make_engine(db_url)
    with engine.begin() as conn:
        alembic.command.upgrade(alembic_config(conn), "0001")
    real = alembic.command.upgrade

    def upgrade_then_fail(cfg, revision):
        real(cfg, revision)
        conn = cfg.attributes["connection"]
        assert inspect(conn).get_foreign_keys("outbox") == []  # 0002 did run
        raise RuntimeError("power cut")

    monkeypatch.setattr(alembic.command, "upgrade", upgrade_then_fail)
    with pytest.raises(RuntimeError, match="power cut"):
        upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
        assert inspect(conn).get_foreign_keys("outbox") != []
    engine.dispose()


def test_upgrade_to_0003_fills_last_action_times_and_round_values_from_the_audit_trail(db_url):
    """0003: items.updated_at is the last non-refusal event; each visit's values are replayed from the trail."""
    from alembic import command

    from workflow.store.engine import make_engine
    from workflow.store.schema import HEAD, alembic_config
    from workflow.store.upgrades import upgrade

    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0002")
        conn.execute(text("INSERT INTO template_versions (id, key, title, content_hash, source_name, source_text, published_at) "
                          "VALUES (1, 'k', 't', 'h', 'f', 's', '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO items (id, template_version_id, template_key, title, state, version, fields, counters, "
                          "current_step_id, created_at) VALUES (1, 1, 'k', '事项', 'b', 3, '{}', '{}', 2, '2026-01-01 01:00:00')"))
        for sid, seq, state in ((1, 1, "a"), (2, 2, "b")):
            conn.execute(text("INSERT INTO steps (id, item_id, seq, state, entered_at, provisional, next_rung, status, extra_units) "
                              f"VALUES ({sid}, 1, {seq}, '{state}', '2026-01-01 01:00:00', false, 0, 'open', 0)"))
        events = [("created", {"step_id": 1, "fields": {"topic": "x"}}, "2026-01-01 01:00:00"),
                  ("fields_set", {"fields_changed": {"source": [None, "社会关注"]}}, "2026-01-02 01:00:00"),
                  ("advanced", {"step_id": 2, "fields_changed": {"plan": [None, "1号"]}}, "2026-01-03 01:00:00"),
                  ("fields_set", {"fields_changed": {"vote": [None, "满意"]}}, "2026-01-04 01:00:00"),
                  ("refused", {"attempt": "advance x"}, "2026-01-09 01:00:00")]
        for seq, (kind, data, at_) in enumerate(events, start=1):
            conn.execute(text("INSERT INTO audit_events (seq, at, kind, item_id, data, prev_hash, hash) "
                              "VALUES (:s, :at, :k, 1, :d, '', '')"),
                         {"s": seq, "at": at_, "k": kind, "d": __import__("json").dumps(data, ensure_ascii=False)})
    r = upgrade(engine)
    assert (r.before, r.after) == ("0002", HEAD)
    with engine.connect() as conn:
        assert str(conn.execute(text("SELECT updated_at FROM items")).scalar()).startswith("2026-01-04 01:00:00")
        fields = dict(conn.execute(text("SELECT id, fields FROM steps ORDER BY id")).all())
        fields = {k: v if isinstance(v, dict) else __import__("json").loads(v) for k, v in fields.items()}
        assert fields == {1: {"topic": "x", "source": "社会关注", "plan": "1号"}, 2: {"vote": "满意"}}
        assert conn.execute(text("SELECT admin FROM people")).all() == []
    engine.dispose()
