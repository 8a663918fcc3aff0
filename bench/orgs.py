"""Organisations at a province's scale: `python bench/orgs.py [--items 100000] [--rate 100] [--seconds 30]`.

One city, 12 districts and 120 townships (10 under each district), each with its office and 主任会议 (two people
each) and its supervision groups (the city 20, each district 5, each township 1; twelve people a group): 2,932
people. --items items spread evenly over the 200 groups — so 10% the city's, 30% the districts', 60% the
townships' — 10% of them open, bulk-loaded as the engine would have made them (each with its organisation's
office and council and its group's members as role holders). `wuzhuan serve` runs in its own process(es) and a
keep-alive client on loopback plays 300 logged-in people as bench/web.py does — every district's and the
city's office clerks, three of the city's council, the rest group members — at --rate requests per second open
loop (Poisson, latency from the planned arrival), half inboxes, half item pages of the person's organisation;
the p95 is read for the district and the city office clerks' inboxes. Then each of those inboxes alone, and
`/orgs` (the city office's roll-up of all 133 organisations), one request at a time.

PostgreSQL (WUZHUAN_BENCH_PG_URL or WUZHUAN_TEST_PG_URL; its public schema is dropped), and SQLite unless
--no-sqlite. Prints the figures against issue 26's targets: each inbox p95 ≤ 50 ms at 100 req/s, /orgs ≤ 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from web import CLIENT, Server, Table, User, log_in, ok, pct  # noqa: E402
from web_data import PASSWORD, _empty, open_states  # noqa: E402

from workflow import service, templates  # noqa: E402
from workflow.service import accounts  # noqa: E402
from workflow.store.models import Assignment, Item, Step, TemplateVersion  # noqa: E402

DISTRICTS, TOWNSHIPS_EACH = 12, 10
GROUPS = {"city": 20, "district": 5, "township": 1}
PER_GROUP = {"group_lead": 1, "committee": 3, "department": 8}


def organisations() -> list[tuple[str, str, str, str | None]]:
    """(code, name, level, parent) of the 133 organisations."""
    out = [("city", "某市人大常委会", "city", None)]
    for d in range(DISTRICTS):
        out.append((f"d{d:02d}", f"第{d}区人大常委会", "district", "city"))
        out += [(f"d{d:02d}t{t}", f"第{d}区第{t}镇人大", "township", f"d{d:02d}") for t in range(TOWNSHIPS_EACH)]
    return out


def people_file(path: Path) -> dict[str, list[str]]:
    """The directory as a people file; → 'ORG:office' / 'ORG:council' / 'GROUP:role' → codes."""
    people, units, roles = [], [], {}
    for code, name, level, parent in organisations():
        people.append(f"  - {{code: {code}, name: {name}, level: {level}{f', parent: {parent}' if parent else ''}}}")
    lines = ["organisations:", *people, "people:"]
    members_of: dict[str, list[str]] = {}

    def person(code: str, key: str, admin: bool = False) -> None:
        lines.append(f"  - {{code: {code}, name: 员{code}, email: {code}@rd.example.gov.cn{', admin: true' if admin else ''}}}")
        roles.setdefault(key, []).append(code)
    for org, _name, level, _parent in organisations():
        for role in ("office", "council"):
            for k in range(2):
                person(f"{org}.{role[:3]}{k}", f"{org}:{role}", admin=org == "city" and role == "office" and k == 0)
            members_of[f"{org}-{role}"] = roles[f"{org}:{role}"]
        for g in range(GROUPS[level]):
            group = f"{org}-g{g:02d}"
            for role, n in PER_GROUP.items():
                for k in range(n):
                    person(f"{group}.{role[:4]}{k}", f"{group}:{role}")
    lines.append("units:")
    for org, _name, level, _parent in organisations():
        for role, kind in (("office", "office"), ("council", "council")):
            ms = ", ".join(f"{{person: {c}, role: {role}}}" for c in roles[f"{org}:{role}"])
            units.append(f"  - {{code: {org}-{role}, name: {org}{kind}, kind: {kind}, organisation: {org}, "
                         f"applies_to_all: true, members: [{ms}]}}")
        for g in range(GROUPS[level]):
            group = f"{org}-g{g:02d}"
            ms = ", ".join(f"{{person: {c}, role: {role}}}" for role in PER_GROUP for c in roles[f"{group}:{role}"])
            units.append(f"  - {{code: {group}, name: {group}小组, kind: group, organisation: {org}, members: [{ms}]}}")
    path.write_text("\n".join(lines + units) + "\n", "utf-8")
    return roles


def bulk_items(store, n: int, now: datetime, chunk: int = 10_000) -> None:
    """n items over the 200 groups in turn, each of its group's organisation, 10% open at any step."""
    with store.read() as tx:
        tv = tx.execute(select(TemplateVersion.id).where(TemplateVersion.key == "special_supervision")
                        .order_by(TemplateVersion.id.desc())).scalars().first()
        units = {code: (uid, org) for code, uid, org in tx.execute(text("SELECT code, id, organisation_id FROM org_units"))}
        members = tx.execute(text("SELECT u.code, m.role, m.person_id FROM memberships m JOIN org_units u ON u.id = m.unit_id")).all()
    defn = service.definition_of_version(store, tv)
    by_unit: dict[str, list[tuple[str, int]]] = {}
    for code, role, pid in members:
        by_unit.setdefault(code, []).append((role, pid))
    groups = sorted(c for c in units if "-g" in c)
    states = open_states(defn)
    rng = random.Random(7)
    entered = now - timedelta(days=30)
    with store.engine.begin() as conn:
        for lo in range(1, n + 1, chunk):
            items, steps, assigns = [], [], []
            for i in range(lo, min(lo + chunk, n + 1)):
                g = groups[i % len(groups)]
                org = g.rsplit("-g", 1)[0]
                opened = rng.random() < 0.10
                state = rng.choice(states) if opened else "archived"
                due = now + timedelta(days=rng.uniform(-20, 40)) if opened else None
                created = entered - timedelta(days=rng.randint(0, 1500))
                items.append({"id": i, "template_version_id": tv, "template_key": "special_supervision",
                              "title": f"专项监督事项{i}", "state": state, "owner_role": defn.states[state].owner, "version": 1,
                              "fields": {}, "counters": {"unsatisfied_rounds": 0}, "group_unit_id": units[g][0],
                              "organisation_id": units[g][1], "current_step_id": i, "due_at": due,
                              "yellow_at": due - timedelta(days=3) if due else None, "created_at": created,
                              "created_by": "city.off0", "finished_at": None if opened else entered, "updated_at": entered})
                steps.append({"id": i, "item_id": i, "seq": 1, "state": state, "entered_at": entered, "entered_by": "city.off0",
                              "due_at": due, "due_rule": "进入后15个工作日" if due else None, "provisional": False,
                              "yellow_at": due - timedelta(days=3) if due else None, "next_escalation_at": None,
                              "next_rung": 0, "status": "open" if opened else "closed", "extra_units": 0, "fields": {}})
                for unit in (f"{org}-council", f"{org}-office", g):
                    assigns += [{"item_id": i, "role": role, "person_id": pid, "assigned_at": created}
                                for role, pid in by_unit[unit]]
            conn.execute(Item.__table__.insert(), items)
            conn.execute(Step.__table__.insert(), steps)
            conn.execute(Assignment.__table__.insert(), assigns)
        if conn.dialect.name == "postgresql":
            for table in ("items", "steps", "assignments"):
                conn.exec_driver_sql(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        conn.exec_driver_sql("ANALYZE")


def build(url: str, n: int, work: Path) -> tuple[dict[str, list[str]], float]:
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    store = _empty(url)
    roles = people_file(work / "people.yaml")
    service.import_people(store, None, work / "people.yaml", now - timedelta(days=2000))
    for p in templates.builtin_paths():
        service.publish(store, "city.off0", p, now - timedelta(days=2000))
    bulk_items(store, n, now)
    with store.transaction() as tx:
        tx.execute(text("UPDATE people SET password_hash = :h"), {"h": accounts._hasher().hash(PASSWORD)})
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
            conn.exec_driver_sql("CHECKPOINT")
    store.dispose()
    return roles, time.perf_counter() - t0


async def _users(base: str, codes: list[str]) -> list[User]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        return [User(c, await log_in(client, c)) for c in codes]


async def _open_loop(base: str, people: list[User], rate: float, seconds: float,
                     probes: tuple[User, ...] = (), probe_rate: float = 5.0) -> list[tuple[str, str, float, int]]:
    """(who, kind, latency from the planned arrival in ms, status) of requests arriving at `rate` a second, as in
    bench/web.py: a person drawn at random, half of them his inbox, half one of his items' pages; and besides, each
    of `probes` asking his inbox at `probe_rate` a second (so that the few office clerks give a p95 under the load)."""
    rng = random.Random(11)
    arrivals: list[tuple[float, User | None]] = []
    for who, r in [(None, rate)] + [(p, probe_rate) for p in probes]:
        t = 0.0
        while (t := t + rng.expovariate(r)) < seconds:
            arrivals.append((t, who))
    async with CLIENT(base, 200) as client:
        t0 = time.perf_counter()

        async def fire(at: float, probe: User | None):
            if (delay := t0 + at - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            u = probe or rng.choice(people)
            kind = "probe" if probe else rng.choice(("inbox", "item"))
            status, _ms = await client.get(f"/items/{rng.choice(u.items)}" if kind == "item" else "/", u.cookie)
            return u.code, kind, (time.perf_counter() - t0 - at) * 1000, status
        return list(await asyncio.gather(*(fire(a, p) for a, p in arrivals)))


def _sample_items(url: str) -> dict[str, list[int]]:
    """Per organisation code and per group code, a dozen of its item ids (the pages its people open)."""
    from workflow.store import Store
    store = Store(url, readonly=True)
    with store.read() as tx:
        rows = tx.execute(text("SELECT i.id, coalesce(o.code, 'city'), u.code FROM items i JOIN org_units u "
                               "ON u.id = i.group_unit_id LEFT JOIN organisations o ON o.id = i.organisation_id "
                               "ORDER BY i.id DESC")).all()
    store.dispose()
    out: dict[str, list[int]] = {}
    for item_id, org, group in rows:
        for key in (org, group):
            if len(out.setdefault(key, [])) < 12:
                out[key].append(item_id)
    return out


async def _one_by_one(base: str, user: User, path: str, n: int) -> list[float]:
    async with CLIENT(base, 1) as client:
        await client.get(path, user.cookie)
        out = []
        for _ in range(n):
            t = time.perf_counter()
            status, _ms = await client.get(path, user.cookie)
            assert status == 200, (path, status)
            out.append((time.perf_counter() - t) * 1000)
        return out


def backend(name: str, url: str, args, work: Path, table: Table) -> None:
    print(f"\n[{name}] building 133 organisations, 2,932 people, {args.items:,} items …", flush=True)
    roles, took = build(url, args.items, work)
    table.add(f"{name}: build ({args.items:,} items, 133 organisations, 2,932 people)", f"{took:.0f} s")
    server = Server(url, 1 if name == "sqlite" else args.pg_workers)
    try:
        rng = random.Random(5)
        district = [c for d in range(DISTRICTS) for c in roles[f"d{d:02d}:office"]]
        city = roles["city:office"]
        members = [c for k, cs in roles.items() if "-g" in k.split(":")[0] for c in cs]
        codes = district + city + roles["city:council"] + rng.sample(members, args.people - len(district) - len(city) - 2)
        people = asyncio.run(_users(server.base, codes))
        items = _sample_items(url)
        for u in people:
            unit = u.code.split(".")[0]
            u.items = items[unit]  # a group member (city-g03.…) his group's items; staff (d03.off0) their 人大's
        probes = (next(x for x in people if x.code == district[0]), next(x for x in people if x.code == city[0]))
        asyncio.run(_open_loop(server.base, people, args.rate, 3))  # warm the workers' caches
        samples = asyncio.run(_open_loop(server.base, people, args.rate, args.seconds, probes))
        assert all(s == 200 for _c, _k, _l, s in samples), [x for x in samples if x[3] != 200][:3]
        rows = [(f"inbox of a district office clerk ({probes[0].code}), asked 5 times a second besides", "probe", {probes[0].code}),
                (f"inbox of a city office clerk ({probes[1].code}), asked 5 times a second besides", "probe", {probes[1].code}),
                ("inbox of a district office clerk, in the mix", "inbox", set(district)),
                ("inbox, anyone in the mix", "inbox", set(codes)), ("item page, anyone in the mix", "item", set(codes))]
        for what, kind, chosen in rows:
            lat = [ms for c, k, ms, _s in samples if c in chosen and k == kind]
            p95 = pct(lat, 95)
            table.add(f"{name}: {what}, {args.rate:.0f} req/s open loop, n={len(lat)}, p50 / p95",
                      f"{pct(lat, 50):.1f} / {p95:.1f} ms", "p95 ≤ 50 ms", ok(p95 <= 50))
        for who, code in (("a district office clerk", district[0]), ("a city office clerk", city[0])):
            u = next(x for x in people if x.code == code)
            alone = asyncio.run(_one_by_one(server.base, u, "/", 20))
            table.add(f"{name}: inbox of {who} ({code}), alone, p50 / max", f"{pct(alone, 50):.1f} / {max(alone):.1f} ms")
        boss = next(u for u in people if u.code.startswith("city"))
        day = datetime.now(UTC).date().isoformat()
        orgs = asyncio.run(_one_by_one(server.base, boss, f"/orgs?as_of={day}", 10))
        table.add(f"{name}: /orgs, the city office's roll-up of 133 organisations, alone, p50 / max",
                  f"{pct(orgs, 50):.0f} / {max(orgs):.0f} ms", "≤ 1 s", ok(max(orgs) <= 1000))
    finally:
        server.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--pg-workers", type=int, default=2)
    ap.add_argument("--people", type=int, default=300, help="people logged in (default 300)")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()
    table = Table()
    with tempfile.TemporaryDirectory() as work:
        pg = os.environ.get("WUZHUAN_BENCH_PG_URL") or os.environ.get("WUZHUAN_TEST_PG_URL")
        if pg:
            backend("postgresql", pg, args, Path(work), table)
        else:
            print("PostgreSQL skipped: set WUZHUAN_BENCH_PG_URL or WUZHUAN_TEST_PG_URL", file=sys.stderr)
        if not args.no_sqlite:
            backend("sqlite", f"sqlite:///{Path(work) / 'orgs.db'}", args, Path(work), table)
    print("\n" + table.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
