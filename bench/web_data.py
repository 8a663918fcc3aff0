"""The bench database of bench/web.py: a city's people, a million items in bulk, a few hundred moved by the engine."""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chain import files_for  # noqa: E402  (bench/, the folder of this script)

from workflow import service, templates  # noqa: E402
from workflow.definition import Definition  # noqa: E402
from workflow.service import accounts  # noqa: E402
from workflow.store import Store  # noqa: E402
from workflow.store.models import Assignment, Item, Step, TemplateVersion  # noqa: E402

GROUPS = 98
COUNCIL, OFFICE = 8, 12
PER_GROUP = {"group_lead": 1, "committee": 3, "department": 6}
PASSWORD = "bench-password-1"
RICH_ITEMS = 200  # created and moved by the engine: pages with a history
CHAIN = [  # trigger, role of the actor, fields
    ("propose", "office", {"topic": "题目", "source": "社会关注"}),
    ("adopt_plan", "council", {"meeting_date": "2026-06-25"}),
    ("approve_work_plan", "committee", {"plan_doc": "工作方案"}),
    ("finish_research", "group_lead", {"research_report": "调研报告"}),
    ("hand_over_views", "office", {}),
    ("submit_report", "department", {}),
    ("submit_revised_report", "department", {"report_doc": "修改稿"}),
    ("circulate_report", "office", {}),
    ("deliberate", "committee", {}),
    ("draft_opinions", "committee", {"opinions": "审议意见"}),
    ("pass_opinions", "council", {}),
    ("hand_over_opinions", "office", {"departments": "市生态环境局"}),
    ("finish_rectification", "department", {}),
    ("submit_rectification_report", "department", {"rectification_report": "整改报告"}),
]


# --- the data ------------------------------------------------------------------------------------

def people_file(path: Path) -> dict[str, list[str]]:
    """Write the directory as a people file; return role → codes ('g017:department' for a group's)."""
    lines = ["people:"]
    roles: dict[str, list[str]] = {}

    def person(code: str, name: str, role_key: str, admin: bool = False) -> None:
        lines.append(f"  - {{code: {code}, name: {name}, email: {code}@rd.example.gov.cn{', admin: true' if admin else ''}}}")
        roles.setdefault(role_key, []).append(code)
    for i in range(COUNCIL):
        person(f"c{i:02d}", f"主任{i}", "council")
    for i in range(OFFICE):
        person(f"o{i:02d}", f"秘书{i}", "office", admin=i == 0)
    for g in range(GROUPS):
        for role, n in PER_GROUP.items():
            for k in range(n):
                person(f"g{g:03d}.{role[:4]}{k}", f"组{g}{role[:2]}{k}", f"g{g:03d}:{role}")
    lines.append("units:")
    lines += ["  - {code: council, name: 主任会议, kind: council, applies_to_all: true, members: ["
              + ", ".join(f"{{person: {c}, role: council}}" for c in roles["council"]) + "]}",
              "  - {code: office, name: 常委会办公室, kind: office, applies_to_all: true, members: ["
              + ", ".join(f"{{person: {c}, role: office}}" for c in roles["office"]) + "]}"]
    for g in range(GROUPS):
        members = [f"{{person: {c}, role: {role}}}" for role in PER_GROUP for c in roles[f"g{g:03d}:{role}"]]
        lines.append(f"  - {{code: g{g:03d}, name: 第{g}专项监督小组, kind: group, members: [{', '.join(members)}]}}")
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return roles


def open_states(defn: Definition) -> list[str]:
    return [s.name for s in defn.states.values() if not s.final]


def bulk_items(store: Store, n: int, now: datetime, open_share: float = 0.10, chunk: int = 10_000) -> None:
    """n items as the engine would have made them: 10% open at any step, due from 20 days ago to 40 days
    ahead; the rest archived. Thirty role holders each (council, office, the group's ten)."""
    with store.read() as tx:
        tv = tx.execute(select(TemplateVersion.id).where(TemplateVersion.key == "special_supervision")
                        .order_by(TemplateVersion.id.desc())).scalars().first()
        units = dict(tx.execute(text("SELECT code, id FROM org_units")).all())
        members = tx.execute(text("SELECT u.code, m.role, m.person_id FROM memberships m JOIN org_units u ON u.id = m.unit_id")).all()
    defn = service.definition_of_version(store, tv)
    by_unit: dict[str, list[tuple[str, int]]] = {}
    for code, role, pid in members:
        by_unit.setdefault(code, []).append((role, pid))
    states = open_states(defn)
    rng = random.Random(7)
    entered = now - timedelta(days=30)
    with store.engine.begin() as conn:
        for lo in range(1, n + 1, chunk):
            items, steps, assigns = [], [], []
            for i in range(lo, min(lo + chunk, n + 1)):
                g = f"g{i % GROUPS:03d}"
                opened = rng.random() < open_share
                state = rng.choice(states) if opened else "archived"
                due = now + timedelta(days=rng.uniform(-20, 40)) if opened else None
                yellow = due - timedelta(days=3) if due else None
                created = entered - timedelta(days=rng.randint(0, 1500))
                items.append({"id": i, "template_version_id": tv, "template_key": "special_supervision",
                              "title": f"专项监督事项{i}", "state": state, "owner_role": defn.states[state].owner,
                              "version": 1, "fields": {}, "counters": {"unsatisfied_rounds": 0}, "group_unit_id": units[g],
                              "current_step_id": i, "due_at": due, "yellow_at": yellow, "created_at": created,
                              "created_by": "o00", "finished_at": None if opened else entered, "updated_at": entered})
                steps.append({"id": i, "item_id": i, "seq": 1, "state": state, "entered_at": entered, "entered_by": "o00",
                              "due_at": due, "due_rule": "进入后15个工作日" if due else None, "provisional": False,
                              "yellow_at": yellow, "next_escalation_at": None, "next_rung": 0,
                              "status": "open" if opened else "closed", "extra_units": 0, "fields": {}})
                for unit in ("council", "office", g):
                    assigns += [{"item_id": i, "role": role, "person_id": pid, "assigned_at": created} for role, pid in by_unit[unit]]
            conn.execute(Item.__table__.insert(), items)
            conn.execute(Step.__table__.insert(), steps)
            conn.execute(Assignment.__table__.insert(), assigns)
        if conn.dialect.name == "postgresql":
            for table in ("items", "steps", "assignments"):
                conn.exec_driver_sql(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        conn.exec_driver_sql("ANALYZE")


def rich_items(store: Store, roles: dict[str, list[str]], now: datetime, n: int = RICH_ITEMS) -> list[int]:
    """n items created and moved 1–11 steps by the engine (the right people, ten days apart, ending before now)."""
    rng = random.Random(3)
    ids = []
    for k in range(n):
        g = f"g{k % GROUPS:03d}"
        moves = rng.randint(1, len(CHAIN))
        t = now - timedelta(days=10 * (moves + 1), hours=1)
        item = service.create_item(store, "o00", template="special_supervision", title=f"有经过的专项监督{k}", now=t, group=g)
        for trigger, role, fields in CHAIN[:moves]:
            t += timedelta(days=10)
            actor = roles[role][0] if role in ("office", "council") else roles[f"{g}:{role}"][0]
            service.advance(store, actor, item.id, trigger, t, fields=fields, files=files_for(trigger))
        ids.append(item.id)
    return ids


def build(url: str, n: int, work: Path) -> tuple[dict[str, list[str]], list[int], float]:
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    store = _empty(url)
    roles = people_file(work / "people.yaml")
    service.import_people(store, None, work / "people.yaml", now - timedelta(days=2000))
    for p in templates.builtin_paths():
        service.publish(store, "o00", p, now - timedelta(days=2000))
    bulk_items(store, n, now)
    rich = rich_items(store, roles, now)
    hashed = accounts._hasher().hash(PASSWORD)
    with store.transaction() as tx:
        tx.execute(text("UPDATE people SET password_hash = :h"), {"h": hashed})
    if store.dialect == "postgresql":  # what autovacuum would have done since: statistics and the visibility map
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
            # and the build's pages written out now, not by the checkpointer in the minutes the load is measured
            conn.exec_driver_sql("CHECKPOINT")
    else:  # outside any transaction (a checkpoint cannot run inside one)
        raw = store.engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    store.dispose()
    return roles, rich, time.perf_counter() - t0


def _empty(url: str) -> Store:
    """A fresh, migrated, empty store (the SQLite file removed, or the PostgreSQL schema dropped)."""
    from bench.chain import reset

    reset(url)
    return Store(url)


# --- the server and its users ----------------------------------------------------------------------


def group_items(url: str, rich: list[int]) -> dict[str, list[int]]:
    """Per group code, a sample of its item ids (its engine-made ones first)."""
    store = Store(url, readonly=True)
    out: dict[str, list[int]] = {}
    with store.read() as tx:
        rows = tx.execute(text("SELECT i.id, u.code FROM items i JOIN org_units u ON u.id = i.group_unit_id "
                               "WHERE i.id % 97 = 0 OR i.id > :n"), {"n": min(rich) - 1}).all()
    store.dispose()
    rich_set = set(rich)
    for item_id, g in rows:
        out.setdefault(g, []).append(item_id)
    for ids in out.values():
        ids.sort(key=lambda i: (i not in rich_set, i))
        del ids[12:]
    return out
