"""The workbench under load: `python bench/web.py [--items 100000] [--rate 100] [--seconds 30] [--clients 20]`.

A database of a thousand people (council, office, 98 supervision groups) and --items items, 10% of them
open, is built once per backend (people imported and templates published by the engine, the items bulk-
loaded as the engine would have made them, 200 of them created and moved by the engine so that their pages
have a history). `wuzhuan serve` runs in its own process (SQLite: one; PostgreSQL: --pg-workers) and
a light HTTP/1.1 client on loopback (`Connections`: keep-alive connections on asyncio streams; `--client httpx`
for httpx instead, which costs 3–12 ms of CPU a request on the cores the server needs; httpx always logs the
people in and makes the API moves) plays the staff:

- one at a time: the CPU the whole machine spends per inbox and per item page (server, database and this
  client), a steadier figure than latency under load where the machine's speed drifts;
- open loop: requests arrive at --rate per second (Poisson, whatever the answers), half the inbox and half
  an item page, each from one of 300 logged-in people; latency counts from the planned arrival, so a
  server that falls behind is charged for the wait (no coordinated omission);
- saturation: --clients clients with no think time, the same mix: the throughput;
- worst cases: the inbox of a council member (every open item the council may act on) and of a department;
- the API move: POST /api/items/{id}/advance timed inside the server (its Server-Timing header) against
  the same move made by calling the service in this process on the same database.

SQLite always; PostgreSQL when WUZHUAN_BENCH_PG_URL (or WUZHUAN_TEST_PG_URL) is set — its public schema is
dropped. Prints a table with the targets of issue 12; --markdown FILE writes it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from web_clients import Connections, HttpxConnections  # noqa: E402
from web_data import PASSWORD, RICH_ITEMS, build, group_items  # noqa: E402

from workflow import service  # noqa: E402
from workflow.service import accounts  # noqa: E402
from workflow.store import Store  # noqa: E402


class Server:
    def __init__(self, url: str, workers: int):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("WUZHUAN_")}
        self.proc = subprocess.Popen([sys.executable, "cli.py", "--db", url, "serve", "--port", str(self.port),
                                      "--workers", str(workers)], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/login", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("wuzhuan serve did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)


@dataclass
class User:
    code: str
    cookie: str
    items: list[int] = field(default_factory=list)  # item pages he opens


async def log_in(client: httpx.AsyncClient, code: str) -> str:
    page = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]*)"', page.text).group(1)
    r = await client.post("/login", data={"username": code, "password": PASSWORD, "csrf": csrf},
                          headers={"Cookie": f"wz_login={page.cookies['wz_login']}"})
    if r.status_code != 303:
        raise RuntimeError(f"login of {code} failed: {r.status_code}")
    return r.cookies["wz_session"]


async def users(base: str, roles: dict[str, list[str]], items_of: dict[str, list[int]], n: int) -> list[User]:
    """n people logged in, in proportion to who works here: most from the groups, some office and council staff."""
    rng = random.Random(5)
    codes = rng.sample(roles["council"], 3) + rng.sample(roles["office"], 6)
    group_people = [c for k, cs in roles.items() if ":" in k for c in cs]
    codes += rng.sample(group_people, n - len(codes))
    everything = [i for ids in items_of.values() for i in ids]
    out = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for code in codes:
            u = User(code, await log_in(client, code))
            u.items = items_of.get(code.split(".")[0], []) if "." in code else rng.sample(everything, 12)
            out.append(u)
    return out


# --- load ------------------------------------------------------------------------------------------

@dataclass
class Sample:
    kind: str
    latency: float  # seconds, from the planned arrival (open loop) or the send (closed loop)
    server_ms: float
    status: int


CLIENTS = {"streams": Connections, "httpx": HttpxConnections}
CLIENT = Connections  # set from --client


async def one(client, user: User, kind: str, rng: random.Random, planned: float | None = None) -> Sample:
    path = "/" if kind == "inbox" else f"/items/{rng.choice(user.items)}"
    start = time.perf_counter() if planned is None else planned
    status, server_ms = await client.get(path, user.cookie)
    return Sample(kind, time.perf_counter() - start, server_ms, status)


async def open_loop(base: str, people: list[User], rate: float, seconds: float) -> tuple[list[Sample], float]:
    rng = random.Random(11)
    arrivals, t = [], 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= seconds:
            break
        arrivals.append(t)
    async with CLIENT(base, 200) as client:
        t0 = time.perf_counter()

        async def fire(at: float) -> Sample:
            delay = t0 + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            return await one(client, rng.choice(people), rng.choice(("inbox", "item")), rng, planned=t0 + at)
        samples = await asyncio.gather(*(fire(a) for a in arrivals))
        elapsed = time.perf_counter() - t0
    return list(samples), len(arrivals) / elapsed


async def closed_loop(base: str, people: list[User], clients: int, seconds: float) -> tuple[list[Sample], float]:
    rng = random.Random(13)
    samples: list[Sample] = []
    async with CLIENT(base, clients) as client:
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < stop:
                samples.append(await one(client, rng.choice(people), rng.choice(("inbox", "item")), rng))
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    return samples, len(samples) / elapsed


async def sequential(base: str, user: User, kind: str, n: int) -> list[Sample]:
    rng = random.Random(17)
    async with CLIENT(base, 1) as client:
        await one(client, user, kind, rng)
        return [await one(client, user, kind, rng) for _ in range(n)]


def machine_cpu_per_request(base: str, people: list[User], kind: str, n: int) -> float | None:
    """CPU time of the whole machine (every process: the server's, the database's, this one) per request, in ms,
    with requests sent one at a time by random people: what a request costs, steadier than latency under load on
    a machine whose speed drifts (None where /proc/stat is not there to read)."""
    def busy() -> float | None:
        try:
            with open("/proc/stat") as f:
                ticks = [int(x) for x in f.readline().split()[1:]]
        except OSError:
            return None
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait

    async def run() -> None:
        rng = random.Random(3)
        async with CLIENT(base, 1) as client:
            for _ in range(n):
                await one(client, rng.choice(people), kind, rng)
    before = busy()
    asyncio.run(run())
    after = busy()
    return None if before is None or after is None else (after - before) / n * 1000


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# --- the API move against the service call ---------------------------------------------------------

def api_move(base: str, url: str, n: int) -> dict:
    """n proposals through POST /api/items/{id}/advance (the server's own time, its Server-Timing header) and n
    through service.advance in this process, taking turns (this machine's speed drifts), after 20 of each to warm up."""
    store = Store(url)
    now = datetime.now(UTC)
    made = [service.create_item(store, "o00", template="special_supervision", title=f"接口办理{k}", now=now, group="g001").id
            for k in range(2 * n + 40)]
    token = accounts.issue_token(store, "o01", now, by="bench").token
    fields = {"topic": "题目", "source": "社会关注"}
    served, direct = [], []
    with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        for k in range(n + 20):
            r = client.post(f"/api/items/{made[2 * k]}/advance", json={"trigger": "propose", "fields": fields, "expect_version": 1})
            assert r.status_code == 200, r.text
            served.append(float(r.headers["server-timing"].split("dur=")[-1]))
            t = time.perf_counter()
            service.advance(store, "o01", made[2 * k + 1], "propose", datetime.now(UTC), fields=fields, expected_version=1)
            direct.append((time.perf_counter() - t) * 1000)
    store.dispose()
    served, direct = served[20:], direct[20:]
    return {"server_ms": statistics.median(served), "service_ms": statistics.median(direct),
            "ratio": statistics.median(served) / statistics.median(direct)}


# --- a backend -------------------------------------------------------------------------------------

def backend(name: str, url: str, args, work: Path, table) -> None:
    print(f"\n[{name}] building {args.items:,} items and 1,000 people …", flush=True)
    roles, rich, took = build(url, args.items, work)
    table.add(f"{name}: build ({args.items:,} items, 1,000 people, {RICH_ITEMS} moved by the engine)", f"{took:.0f} s")
    workers = 1 if name == "sqlite" else args.pg_workers
    server = Server(url, workers)
    try:
        items_of = group_items(url, rich)
        people = asyncio.run(users(server.base, roles, items_of, args.people))
        asyncio.run(closed_loop(server.base, people, 4, 5))  # warm every worker's caches
        for kind in ("inbox", "item"):
            used = machine_cpu_per_request(server.base, people, kind, 300)
            if used is not None:
                table.add(f"{name}: {kind}, one request at a time ({workers} worker(s)): the machine's CPU per request "
                          "(server, database and client)", f"{used:.1f} ms")
        cpu = time.process_time()
        samples, achieved = asyncio.run(open_loop(server.base, people, args.rate, args.seconds))
        client_cpu = (time.process_time() - cpu) / len(samples) * 1000
        bad = [s for s in samples if s.status != 200]
        assert not bad, f"{len(bad)} answers were not 200: {bad[:3]}"
        for kind in ("inbox", "item"):
            lat = [s.latency * 1000 for s in samples if s.kind == kind]
            srv = [s.server_ms for s in samples if s.kind == kind]
            p95 = pct(lat, 95)
            table.add(f"{name}: {kind} at {args.rate:.0f} req/s open loop ({workers} worker(s)), p50 / p95 / p99",
                      f"{pct(lat, 50):.1f} / {p95:.1f} / {pct(lat, 99):.1f} ms", "p95 ≤ 50 ms", ok(p95 <= 50))
            table.add(f"{name}: {kind}, time inside the server, p50 / p95", f"{pct(srv, 50):.1f} / {pct(srv, 95):.1f} ms")
        table.add(f"{name}: arrivals achieved; the load generator's own CPU per request",
                  f"{achieved:.1f} req/s of {args.rate:.0f}; {client_cpu:.1f} ms")
        samples, throughput = asyncio.run(closed_loop(server.base, people, args.clients, args.seconds))
        lat = [s.latency * 1000 for s in samples]
        table.add(f"{name}: saturation, {args.clients} clients, no think time", f"{throughput:.0f} req/s, p95 {pct(lat, 95):.0f} ms")
        council = next(u for u in people if u.code.startswith("c"))
        dept = next(u for u in people if ".depa" in u.code)
        for who, u in (("council member", council), ("department", dept)):
            s = asyncio.run(sequential(server.base, u, "inbox", 30))
            table.add(f"{name}: inbox of a {who} ({u.code}), alone, p50 / max",
                      f"{pct([x.latency * 1000 for x in s], 50):.1f} / {max(x.latency * 1000 for x in s):.1f} ms")
        m = api_move(server.base, url, args.moves)
        table.add(f"{name}: API move inside the server / service call (medians)",
                  f"{m['server_ms']:.1f} / {m['service_ms']:.1f} ms = {m['ratio']:.2f}×", "≤ 2×", ok(m["ratio"] <= 2))
    finally:
        server.stop()


def ok(cond: bool) -> str:
    return "met" if cond else "MISSED"


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, what: str, value: str, target: str = "", verdict: str = "") -> None:
        self.rows.append((what, value, target, verdict))
        print(f"  {what:<74} {value:>30}  {target:<14} {verdict}", flush=True)

    def markdown(self) -> str:
        return "\n".join(["| measure | value | target | |", "|---|---:|---|---|"]
                         + [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self.rows])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--rate", type=float, default=100.0, help="open-loop arrivals per second (default 100)")
    ap.add_argument("--seconds", type=float, default=30.0, help="length of each load phase (default 30)")
    ap.add_argument("--clients", type=int, default=20, help="clients of the saturation phase (default 20)")
    ap.add_argument("--people", type=int, default=300, help="people logged in (default 300)")
    ap.add_argument("--moves", type=int, default=100, help="API moves and service moves compared (default 100)")
    ap.add_argument("--pg-workers", type=int, default=2, help="server processes on PostgreSQL (default 2)")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--client", choices=sorted(CLIENTS), default="streams",
                    help="the load generator's HTTP client: streams (light, the default) or httpx (3–12 ms of CPU a request)")
    ap.add_argument("--markdown", metavar="FILE")
    args = ap.parse_args()
    global CLIENT
    CLIENT = CLIENTS[args.client]
    print(f"wuzhuan workbench bench — {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load from the {args.client} client")
    table = Table()
    with tempfile.TemporaryDirectory(prefix="wuzhuan-web-") as tmp:
        work = Path(tmp)
        if not args.no_sqlite:
            backend("sqlite", f"sqlite:///{work / 'web.db'}", args, work, table)
        pg = os.environ.get("WUZHUAN_BENCH_PG_URL") or os.environ.get("WUZHUAN_TEST_PG_URL")
        if pg and not args.no_postgres:
            backend("postgres", pg, args, work, table)
    if args.markdown:
        Path(args.markdown).write_text(table.markdown() + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
