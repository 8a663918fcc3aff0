"""The audit trail against someone who can write to the database: with the key every rewrite is found;
without it the chain's integrity and the items' accounts still are, and the check says what it could not prove."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from conftest import T0, at, seed
from workflow import service
from workflow.audit_chain import event_hash
from workflow.audit_key import parse_key
from workflow.config import Settings
from workflow.errors import InvalidInput, KeyRequired
from workflow.store import Store

KEY = "ab" * 32


@pytest.fixture
def keyed(db_url):
    """A store whose trail is signed with an audit key, with one item moved twice."""
    s = Store(db_url, settings=Settings(audit_key=KEY))
    seed(s)
    item = service.create_item(s, "wang.fang", template="special_supervision", title="大气", now=T0, group="g-env").id
    service.advance(s, "wang.fang", item, "propose", at("2026-01-06 09:00"), fields={"topic": "x", "source": "社会关注"})
    service.advance(s, "li.ming", item, "adopt_plan", at("2026-01-07 09:00"), fields={"meeting_date": "2026-06-25"})
    yield s
    s.dispose()


def unkeyed(store: Store) -> Store:
    """The same database opened without the key (as someone who does not hold it)."""
    return Store(store.url)


def sql(store: Store, *statements: str) -> None:
    """What someone with write access to the database but no key does: SQL of his own, around wuzhuan."""
    engine = create_engine(store.url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as c:
        for st in statements:
            c.execute(text(st))
    engine.dispose()


def recompute_chain(store: Store, from_seq: int = 1, strip: bool = False) -> None:
    """What a forger without the key can do: recompute every hash after his edit and the head (`strip`: and set
    every MAC to NULL, so that the trail looks as if it had never been signed)."""
    from workflow.audit_chain import _data, _when

    engine = create_engine(store.url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as c:
        rows = c.execute(text("SELECT seq, at, actor, kind, item_id, from_state, to_state, data FROM audit_events ORDER BY seq")).all()
        prev = c.execute(text(f"SELECT hash FROM audit_events WHERE seq = {from_seq - 1}")).scalar() or "0" * 64
        for seq, at_, actor, kind, item_id, fs, ts, data in rows:
            if seq < from_seq:
                continue
            h = event_hash(seq, _when(at_), actor, kind, item_id, fs, ts, _data(data)[1], prev)
            c.execute(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :s"), {"p": prev, "h": h, "s": seq})
            prev = h
        c.execute(text("UPDATE audit_head SET last_seq = (SELECT coalesce(max(seq), 0) FROM audit_events), last_hash = :h"),
                  {"h": prev})
        if strip:
            c.execute(text("UPDATE audit_events SET mac = NULL"))
            c.execute(text("UPDATE audit_head SET mac = NULL, bound_seq = NULL"))
    engine.dispose()


def test_a_signed_trail_verifies_with_its_key_and_says_what_it_proved(keyed):
    r = service.verify_audit(keyed)
    assert r.ok and r.authenticated and r.unsigned == 0 and r.unexplained == [] and r.events == 12 and r.items == 1
    first = service.history(keyed, service.OPERATOR, 1)[0]
    assert first.kind == "created"
    plain = unkeyed(keyed)
    r = service.verify_audit(plain)  # without the key: integrity only, and it says so; still exit 0
    assert r.ok and not r.authenticated and any("authenticity not checked" in n and "this trail is signed" in n for n in r.notes)
    plain.dispose()


def test_the_first_signed_event_is_preceded_by_the_binding_checkpoint_the_head_names(keyed):
    with keyed.read() as tx:
        kinds = tx.execute(text("SELECT kind, data, mac FROM audit_events ORDER BY seq LIMIT 2")).all()
        head = tx.execute(text("SELECT bound_seq, mac FROM audit_head")).one()
    assert kinds[0][0] == "audit_key_bound" and kinds[0][2] and kinds[1][0] == "people_imported"
    assert head == (1, head[1]) and head[1]


def test_an_edit_with_every_hash_recomputed_is_found_by_the_key(keyed):
    sql(keyed, "UPDATE audit_events SET actor = 'huang.bo' WHERE kind = 'advanced' AND actor = 'li.ming'")
    recompute_chain(keyed)
    forger = unkeyed(keyed)
    assert service.verify_audit(forger).ok  # the chain alone cannot tell: the forger recomputed it
    forger.dispose()
    r = service.verify_audit(keyed)
    assert not r.ok and "MAC" in r.problem


def test_stripping_every_mac_after_an_edit_is_found_by_the_key(keyed):
    """Issue 24: an event edited, the chain recomputed and every MAC (events and head) set to NULL once passed."""
    sql(keyed, "UPDATE audit_events SET actor = 'huang.bo' WHERE kind = 'advanced' AND actor = 'li.ming'")
    recompute_chain(keyed, strip=True)
    r = service.verify_audit(keyed)
    assert not r.ok and "carries no signature although a key was given" in r.problem


def test_stripping_the_macs_cannot_hide_deleted_events(keyed):
    sql(keyed, "DELETE FROM audit_events WHERE seq > (SELECT max(seq) - 5 FROM audit_events)")
    recompute_chain(keyed, strip=True)
    r = service.verify_audit(keyed)
    assert not r.ok and "no signature" in r.problem
    plain = unkeyed(keyed)  # without the key the rows the deleted events made are not accounted for either
    r = service.verify_audit(plain)
    assert not r.ok and "differ from what the audit trail records" in r.problem
    plain.dispose()


def test_removing_the_binding_checkpoint_is_found(keyed):
    sql(keyed, "DELETE FROM audit_events WHERE kind = 'audit_key_bound'", "UPDATE audit_events SET seq = seq - 1")
    recompute_chain(keyed)
    r = service.verify_audit(keyed)  # the head still names event 1 as the binding, under its MAC
    assert not r.ok and ("binding" in r.problem or "MAC" in r.problem)
    sql(keyed, "UPDATE audit_head SET bound_seq = NULL")
    r = service.verify_audit(keyed)
    assert not r.ok and "no binding checkpoint" in r.problem


def test_cutting_the_trail_back_to_before_its_binding_is_found(keyed):
    sql(keyed, "DELETE FROM audit_events", "UPDATE audit_head SET last_seq = 0, last_hash = '" + "0" * 64 + "', mac = NULL, "
                                           "bound_seq = NULL")
    r = service.verify_audit(keyed)
    assert not r.ok and "carries no signature although a key was given" in r.problem
    plain = unkeyed(keyed)  # without the key: the item is not accounted for
    r = service.verify_audit(plain)
    assert not r.ok and any(u.startswith("items 1 id") and "never created it" in u for u in r.unexplained)
    plain.dispose()


def test_deleting_everything_and_resetting_the_head_is_found(keyed):
    sql(keyed, "DELETE FROM audit_events", "UPDATE audit_head SET last_seq = 0, last_hash = '" + "0" * 64 + "'")
    plain = unkeyed(keyed)
    r = service.verify_audit(plain)  # no key needed: the items are no longer accounted for
    assert not r.ok and any("never created it" in u for u in r.unexplained)
    plain.dispose()
    assert "MAC is not the audit key's" in service.verify_audit(keyed).problem


def test_cutting_the_tail_and_editing_the_head_is_found(keyed):
    sql(keyed, "DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)")
    sql(keyed, "UPDATE audit_head SET last_seq = last_seq - 1, last_hash = (SELECT hash FROM audit_events "
               "WHERE seq = (SELECT max(seq) FROM audit_events))")
    r = service.verify_audit(keyed)
    assert not r.ok and "head" in r.problem and "MAC" in r.problem
    plain = unkeyed(keyed)
    r = service.verify_audit(plain)  # without the key the item whose move vanished is still not accounted for
    assert not r.ok and "items 1 state: the trail says annual_plan, the row holds work_plan" in r.problem
    plain.dispose()


def test_a_process_without_the_key_refuses_to_write_and_the_trail_stays_whole(keyed):
    """Issue 24: one `items create` without WUZHUAN_AUDIT_KEY_FILE once broke the trail for ever."""
    before = service.verify_audit(keyed).events
    plain = unkeyed(keyed)
    with pytest.raises(KeyRequired, match="WUZHUAN_AUDIT_KEY_FILE") as e:
        service.create_item(plain, "wang.fang", template="special_supervision", title="x", now=at("2026-01-08 09:00"),
                            group="g-env")
    assert e.value.exit_code == 2 and e.value.http_status == 503
    with pytest.raises(KeyRequired):  # not even a write that leaves no event (a login's throttle)
        __import__("workflow.service.accounts", fromlist=["x"]).set_password(plain, "li.ming", "a long passphrase",
                                                                             at("2026-01-08 09:00"))
    plain.dispose()
    r = service.verify_audit(keyed)
    assert r.ok and r.events == before


ROW_CHANGES = {  # what direct SQL changed behind the trail → (table, id, column) the verification names
    "state": ("UPDATE items SET state = 'research' WHERE id = 1", ("items", 1, "state")),
    "fields": ("UPDATE items SET fields = '{\"topic\": \"y\", \"source\": \"社会关注\", \"meeting_date\": \"2026-06-25\"}' "
               "WHERE id = 1", ("items", 1, "fields.topic")),
    "assignment": ("INSERT INTO assignments (item_id, role, person_id, assigned_at) SELECT 1, 'council', id, "
                   "'2026-01-08 00:00:00' FROM people WHERE code = 'huang.bo'", ("assignments", 1, "council")),
    "admin": ("UPDATE people SET admin = true WHERE code = 'huang.bo'", ("people", "huang.bo", "admin")),
    "due": ("UPDATE steps SET due_at = due_at + interval '1 second' WHERE id = (SELECT current_step_id FROM items "
            "WHERE id = 1)", ("steps", None, "due_at")),
}


@pytest.mark.parametrize("change", list(ROW_CHANGES))
def test_rows_changed_behind_the_trail_are_named(keyed, change):
    """Issue 24: each of these passed `audit verify` when it only counted versions and steps."""
    statement, (table, id_, column) = ROW_CHANGES[change]
    if keyed.dialect == "sqlite":
        statement = statement.replace("due_at + interval '1 second'", "strftime('%Y-%m-%d %H:%M:%f', due_at, '+1 second')")
        statement = statement.replace("admin = true", "admin = 1")
    sql(keyed, statement)
    for s in (keyed, unkeyed(keyed)):
        r = service.verify_audit(s)
        assert not r.ok and r.differing >= 1, change
        m = r.mismatches[0]
        assert (m["table"], m["column"]) == (table, column) and (id_ is None or m["id"] == id_), r.mismatches
        assert f"{table} " in r.problem and column in r.problem


def test_a_checkpoint_kept_outside_finds_a_cut_even_of_events_that_explain_nothing(keyed):
    c = service.checkpoint(keyed)
    assert c.signed and str(c).startswith(f"{c.seq}:")
    service.publish(keyed, "wang.fang", __import__("workflow.templates", fromlist=["x"]).builtin("deputy_suggestion"), T0)  # unchanged: no event
    assert service.verify_audit(keyed, str(c)).ok
    sql(keyed, f"DELETE FROM audit_events WHERE seq = {c.seq}")
    recompute_chain(keyed)
    r = service.verify_audit(unkeyed(keyed), str(c))
    assert not r.ok


def test_swapped_events_are_reported_as_reordered(keyed):
    sql(keyed, "UPDATE audit_events SET seq = -1 WHERE seq = 4", "UPDATE audit_events SET seq = 4 WHERE seq = 5",
        "UPDATE audit_events SET seq = 5 WHERE seq = -1")
    r = service.verify_audit(keyed)
    assert not r.ok and r.problem == "events 4 and 5 are stored out of order: events were reordered"


def test_an_edited_head_is_named(keyed):
    sql(keyed, "UPDATE audit_head SET last_hash = '" + "f" * 64 + "'")
    r = service.verify_audit(unkeyed(keyed))
    assert not r.ok and "the head row was modified" in r.problem


def test_a_missing_head_or_unreadable_rows_are_reported_not_crashed_on(keyed):
    plain = unkeyed(keyed)
    sql(keyed, "DELETE FROM audit_head")
    assert "head row is missing" in service.verify_audit(plain).problem
    plain.dispose()


@pytest.mark.parametrize("column, value", [("at", "'not a time'"), ("data", "'{not json'")])
def test_garbage_in_an_event_is_a_modification(sqlite_url, column, value):
    s = Store(sqlite_url)
    seed(s)
    sql(s, f"UPDATE audit_events SET {column} = {value} WHERE seq = 3")
    r = service.verify_audit(s)
    assert not r.ok and r.first_bad_seq == 3 and "cannot be read" in r.problem
    s.dispose()


def test_a_database_refuses_a_second_key(keyed):
    other = Store(keyed.url, settings=Settings(audit_key="cd" * 32))
    with pytest.raises(InvalidInput, match="的密钥签名"):
        service.create_item(other, "wang.fang", template="special_supervision", title="x", now=at("2026-01-08 09:00"), group="g-env")
    with pytest.raises(InvalidInput, match="不是为这份审计记录签名的密钥"):
        service.verify_audit(other)
    other.dispose()


def test_key_files(tmp_path):
    p = service.init_key(tmp_path / "audit.key")
    assert oct(p.stat().st_mode & 0o777) == "0o600" and len(parse_key(p.read_text(), "x")) == 32
    with pytest.raises(InvalidInput, match="is never overwritten"):
        service.init_key(p)
    bad = tmp_path / "bad.key"
    bad.write_text("not hex\n")
    with pytest.raises(InvalidInput, match="中没有审计密钥"):
        Store(f"sqlite:///{tmp_path / 'x.db'}", settings=Settings(audit_key_file=str(bad)))
    with pytest.raises(InvalidInput, match="cannot read the audit key"):
        Store(f"sqlite:///{tmp_path / 'x.db'}", settings=Settings(audit_key_file=str(tmp_path / "missing.key")))
    assert json.dumps(Settings(audit_key=KEY).public()).count(KEY) == 0
