"""Full chain, side by side: the engine, SpiffWorkflow (BPMN) and plain sqlite3, one transaction per step.

All three reload the item from the database before each step, as a CLI call or a web request would.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workflow import service, templates
from workflow.service.items import create_in
from workflow.store import Store

T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
PEOPLE = Path(__file__).resolve().parent.parent / "workflow" / "demo_people.yaml"

# The happy path of special_supervision: (trigger, actor, fields) — 14 steps from selection to archive.
CHAIN = [
    ("propose", "wang.fang", {"topic": "大气污染防治法实施情况", "source": "社会关注"}),
    ("adopt_plan", "li.ming", {"meeting_date": "2026-06-25"}),
    ("approve_work_plan", "chen.jing", {"plan_doc": "常办发〔2026〕3号"}),
    ("finish_research", "zhao.hua", {"research_report": "调研报告"}),
    ("hand_over_views", "wang.fang", {}),
    ("submit_report", "huang.bo", {}),
    ("submit_revised_report", "huang.bo", {"report_doc": "修改稿"}),
    ("circulate_report", "wang.fang", {}),
    ("deliberate", "chen.jing", {}),
    ("draft_opinions", "chen.jing", {"opinions": "审议意见"}),
    ("pass_opinions", "li.ming", {}),
    ("hand_over_opinions", "wang.fang", {"departments": "市生态环境局"}),
    ("finish_rectification", "huang.bo", {}),
    ("submit_rectification_report", "huang.bo", {"rectification_report": "整改报告"}),
    ("refer_to_committee", "li.ming", {}),
    ("record_vote", "chen.jing", {"members_total": 50, "votes_for": 40, "votes_against": 10}),
    ("close_follow_up", "zhao.hua", {}),
    ("notify_deputies", "wang.fang", {"published_docs": "专项工作报告、审议意见、整改报告"}),
    ("publish", "wang.fang", {"publication_url": "http://rd.example/1"}),
]

# The documents special_supervision's moves require (issue 27): one small PDF for each file field.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FILES = {"submit_report": ("report_file",), "hand_over_opinions": ("opinions_file",),
         "submit_rectification_report": ("rectification_file", "evidence")}


def files_for(trigger: str) -> dict | None:
    """The files `trigger` needs in special_supervision, as service.advance takes them (None when it needs none)."""
    names = FILES.get(trigger)
    return {f: [(f"{f}.pdf", io.BytesIO(PDF))] for f in names} if names else None


def reset(url: str) -> None:
    """An empty database at `url`: the SQLite file (and its WAL) removed, or the PostgreSQL `public` schema dropped."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text

    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.begin() as c:
        c.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    eng.dispose()


def prepare(url: str) -> Store:
    store = Store(url)
    service.import_people(store, None, PEOPLE, T0)
    for p in templates.builtin_paths():
        service.publish(store, "wang.fang", p, T0)
    return store


def engine_chain(store: Store, n: int) -> dict:
    """n items through the whole chain; each step reloads the item, then advances it (one transaction)."""
    with store.transaction() as tx:
        ids = [create_in(tx, store, "wang.fang", template="special_supervision", title=f"专项监督{i}", now=T0, group="g-env").id
               for i in range(n)]
    steps = 0
    start = time.perf_counter()
    for k, (trigger, actor, fields) in enumerate(CHAIN):
        now = T0 + timedelta(hours=k + 1)
        for item_id in ids:
            version = service.current_version(store, item_id)  # the reload a CLI call or request makes
            service.advance(store, actor, item_id, trigger, now, fields=fields, expected_version=version,
                            files=files_for(trigger))
            steps += 1
    return {"steps": steps, "seconds": time.perf_counter() - start, "ids": ids}


# --- SpiffWorkflow ------------------------------------------------------------------------------

def bpmn_xml(names: list[str]) -> bytes:
    tasks = "".join(f'<bpmn:userTask id="{t}" name="{t}"/>' for t in names)
    ids = ["start"] + names + ["end"]
    flows = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>' for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
    return (f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            f'id="defs" targetNamespace="wuzhuan"><bpmn:process id="special_supervision" isExecutable="true">'
            f'<bpmn:startEvent id="start"/>{tasks}<bpmn:endEvent id="end"/>{flows}</bpmn:process></bpmn:definitions>').encode()


def spiff_chain(path: Path, n: int) -> dict | None:
    """The same 14 steps as user tasks; the workflow is serialized to SQLite after every step and reloaded before it."""
    try:
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.util.task import TaskState
    except ImportError:
        return None
    parser = BpmnParser()
    parser.add_bpmn_str(bpmn_xml([t for t, _a, _f in CHAIN]))
    spec = parser.get_spec("special_supervision")
    ser = BpmnWorkflowSerializer()
    con = _sqlite(path)
    con.execute("CREATE TABLE wf (id INTEGER PRIMARY KEY, data TEXT NOT NULL, version INTEGER NOT NULL)")
    for i in range(n):
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        con.execute("INSERT INTO wf VALUES (?, ?, 1)", (i, ser.serialize_json(wf)))
    steps = 0
    start = time.perf_counter()
    for trigger, actor, fields in CHAIN:
        for i in range(n):
            con.execute("BEGIN IMMEDIATE")
            data, version = con.execute("SELECT data, version FROM wf WHERE id = ?", (i,)).fetchone()
            wf = ser.deserialize_json(data)
            task = wf.get_tasks(state=TaskState.READY)[0]
            assert task.task_spec.name == trigger
            task.data.update(fields | {"actor": actor})
            task.run()
            wf.do_engine_steps()
            cur = con.execute("UPDATE wf SET data = ?, version = version + 1 WHERE id = ? AND version = ?",
                              (ser.serialize_json(wf), i, version))
            assert cur.rowcount == 1
            con.execute("COMMIT")
            steps += 1
    size = path.stat().st_size
    con.close()
    return {"steps": steps, "seconds": time.perf_counter() - start, "bytes": size}


# --- the floor: plain sqlite3 writing the rows the engine writes -------------------------------

FLOOR_SCHEMA = """
CREATE TABLE items (id INTEGER PRIMARY KEY, template_version_id INT, template_key TEXT, title TEXT, state TEXT,
  owner_role TEXT, version INT, fields TEXT, counters TEXT, group_unit_id INT, current_step_id INT, due_at TEXT,
  yellow_at TEXT, paused_at TEXT, created_at TEXT, created_by TEXT, finished_at TEXT);
CREATE INDEX ix_items_template_state ON items (template_key, state);
CREATE INDEX ix_items_open_due ON items (due_at) WHERE finished_at IS NULL;
CREATE TABLE steps (id INTEGER PRIMARY KEY, item_id INT, seq INT, state TEXT, entered_at TEXT, entered_by TEXT,
  entered_via TEXT, due_at TEXT, due_rule TEXT, provisional INT, yellow_at TEXT, next_escalation_at TEXT, next_rung INT,
  status TEXT, paused_at TEXT, extra_units INT, extended_to TEXT, left_at TEXT, left_by TEXT, left_via TEXT,
  UNIQUE (item_id, seq));
CREATE INDEX ix_steps_next_escalation ON steps (next_escalation_at) WHERE next_escalation_at IS NOT NULL;
CREATE TABLE assignments (id INTEGER PRIMARY KEY, item_id INT, role TEXT, person_id INT, assigned_at TEXT, assigned_by TEXT);
CREATE INDEX ix_assignments_item_id ON assignments (item_id);
CREATE TABLE audit_events (id INTEGER PRIMARY KEY, seq INT UNIQUE, at TEXT, actor TEXT, kind TEXT, item_id INT,
  from_state TEXT, to_state TEXT, data TEXT, prev_hash TEXT, hash TEXT);
CREATE INDEX ix_audit_events_item_id ON audit_events (item_id);
CREATE TABLE audit_head (id INTEGER PRIMARY KEY, last_seq INT, last_hash TEXT);
INSERT INTO audit_head VALUES (1, 0, '0000');
CREATE TABLE outbox (id INTEGER PRIMARY KEY, message_id TEXT UNIQUE, escalation_id INT, item_id INT, notice TEXT,
  person_id INT, to_addr TEXT, to_name TEXT, context TEXT, subject TEXT, status TEXT, attempts INT, next_attempt_at TEXT,
  lease_until TEXT, last_error TEXT, created_at TEXT, sent_at TEXT);
CREATE INDEX ix_outbox_ready ON outbox (status, next_attempt_at);
"""


def _sqlite(path: Path) -> sqlite3.Connection:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    return con


def floor_chain(path: Path, n: int) -> dict:
    """Per step, by hand: reload, lock, read holders, close the step, open the next, update the item with a
    version check, append a hash-chained audit event and queue the handover notice."""
    con = _sqlite(path)
    con.executescript(FLOOR_SCHEMA)
    for i in range(1, n + 1):
        con.execute("INSERT INTO items (id, template_key, title, state, version, fields, counters, current_step_id) "
                    "VALUES (?, 'special_supervision', ?, 'topic_selection', 1, '{}', '{}', ?)", (i, f"专项监督{i}", i))
        con.execute("INSERT INTO steps (id, item_id, seq, state, entered_at, status, next_rung) VALUES (?, ?, 1, 'topic_selection', ?, 'open', 0)",
                    (i, i, T0.isoformat()))
        for role, pid in (("office", 8), ("group_lead", 2), ("committee", 9), ("department", 14), ("council", 1)):
            con.execute("INSERT INTO assignments (item_id, role, person_id) VALUES (?, ?, ?)", (i, role, pid))
    steps, commit = 0, 0.0
    start = time.perf_counter()
    for k, (trigger, actor, fields) in enumerate(CHAIN):
        now = (T0 + timedelta(hours=k + 1)).isoformat()
        for i in range(1, n + 1):
            version = con.execute("SELECT version FROM items WHERE id = ?", (i,)).fetchone()[0]
            con.execute("BEGIN IMMEDIATE")
            state, v, f, c, sid = con.execute("SELECT state, version, fields, counters, current_step_id FROM items WHERE id = ?", (i,)).fetchone()
            assert v == version
            con.execute("SELECT role, person_id FROM assignments WHERE item_id = ?", (i,)).fetchall()
            seq = con.execute("SELECT seq FROM steps WHERE id = ?", (sid,)).fetchone()[0]
            con.execute("UPDATE steps SET left_at = ?, left_by = ?, left_via = ?, status = 'closed', next_escalation_at = NULL WHERE id = ?",
                        (now, actor, trigger, sid))
            new = con.execute(
                "INSERT INTO steps (item_id, seq, state, entered_at, entered_by, entered_via, due_at, due_rule, provisional, yellow_at, "
                "next_escalation_at, next_rung, status, extra_units) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0, 'open', 0)",
                (i, seq + 1, f"s{k}", now, actor, trigger, now, "2026-01-05 后第15个工作日，当日24时", now, now)).lastrowid
            new_fields = json.loads(f) | fields
            con.execute("UPDATE items SET state = ?, version = ?, fields = ?, counters = ?, current_step_id = ?, due_at = ?, yellow_at = ? "
                        "WHERE id = ? AND version = ?", (f"s{k}", v + 1, json.dumps(new_fields, ensure_ascii=False), c, new, now, now, i, v))
            last_seq, last_hash = con.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").fetchone()
            data = json.dumps({"trigger": trigger, "label": trigger, "comment": "", "fields_changed": fields, "step_id": new}, ensure_ascii=False)
            h = hashlib.sha256(f"{last_seq + 1}{now}{actor}{data}{last_hash}".encode()).hexdigest()
            con.execute("INSERT INTO audit_events (seq, at, actor, kind, item_id, from_state, to_state, data, prev_hash, hash) "
                        "VALUES (?, ?, ?, 'advanced', ?, ?, ?, ?, ?, ?)", (last_seq + 1, now, actor, i, state, f"s{k}", data, last_hash, h))
            con.execute("UPDATE audit_head SET last_seq = ?, last_hash = ? WHERE id = 1", (last_seq + 1, h))
            ctx = json.dumps({"item": {"id": i, "title": f"专项监督{i}"}, "step": {"label": trigger, "due": now}}, ensure_ascii=False)
            con.execute("INSERT INTO outbox (message_id, item_id, notice, person_id, to_addr, to_name, context, status, attempts, "
                        "next_attempt_at, created_at) VALUES (?, ?, 'handover', 8, 'a@b', '王芳', ?, 'pending', 0, ?, ?)",
                        (f"<wuzhuan.h{new}.8@x>", i, ctx, now, now))
            c0 = time.perf_counter()
            con.execute("COMMIT")
            commit += time.perf_counter() - c0
            steps += 1
    seconds = time.perf_counter() - start
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("VACUUM")
    size = con.execute("PRAGMA page_count").fetchone()[0] * con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    return {"steps": steps, "seconds": seconds, "bytes": size, "commit_seconds": commit,
            "bytes_by_table": bytes_by_table(path, n)}


def bytes_by_table(path: Path, n: int) -> dict[str, float]:
    """Bytes per item for each table with its indexes (SQLite's dbstat), largest first; {} without dbstat."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT coalesce(m.tbl_name, s.name), sum(s.pgsize) FROM dbstat s "
                           "LEFT JOIN sqlite_schema m ON m.name = s.name GROUP BY 1 ORDER BY 2 DESC").fetchall()
    except sqlite3.OperationalError:  # an SQLite built without the dbstat table
        rows = []
    con.close()
    return {name: size / n for name, size in rows}


def statement_cost(path: Path, n: int = 20_000) -> dict:
    """One prepared primary-key SELECT: sqlite3 directly vs SQLAlchemy Core (compiled-cache hit)."""
    from sqlalchemy import Column, Integer, MetaData, Table, Text, bindparam, create_engine, select

    con = _sqlite(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    con.execute("INSERT INTO t VALUES (1, 'x')")
    start = time.perf_counter()
    for _ in range(n):
        con.execute("SELECT v FROM t WHERE id = ?", (1,)).fetchone()
    raw = (time.perf_counter() - start) / n
    con.close()
    t = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", Text))
    stmt = select(t.c.v).where(t.c.id == bindparam("id"))
    eng = create_engine(f"sqlite:///{path}")
    with eng.connect() as c:
        c.execute(stmt, {"id": 1}).scalar()
        start = time.perf_counter()
        for _ in range(n):
            c.execute(stmt, {"id": 1}).scalar()
        core = (time.perf_counter() - start) / n
    eng.dispose()
    return {"raw_us": raw * 1e6, "core_us": core * 1e6}
