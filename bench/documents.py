"""Documents through the workbench: `python bench/documents.py [--mb 20] [--big-mb 50] [--runs 5] [--pages 200]`.

On a fresh SQLite database (the demo's people, the built-in templates and a rectification template whose report
is a file), `wuzhuan serve` runs in its own process and an httpx client on loopback, logged in as the department:

- after one 1 MB upload, uploads a --big-mb PDF while sampling the server's own (anonymous) memory every 20 ms:
  the peak rise over the memory it held before (target ≤ ~10 MB for 50 MB: the upload is spooled to disk and
  stored in 1 MiB chunks);
- uploads a --mb PDF with the report move, --runs times (each on its own item): the wall time of the POST,
  from its first byte to the answer (target ≤ 2 s for 20 MB);
- opens the page of an item with 50 documents and of one with none, --pages times each, taking turns: p50 and p95
  and their ratio (target: p95 within 10%).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from web import Server, ok, pct  # noqa: E402

from workflow import service, templates  # noqa: E402
from workflow.service import accounts  # noqa: E402
from workflow.store import Store  # noqa: E402

PASSWORD = "bench-password-1"
RECTIFICATION = (ROOT / "definitions" / "department_rectification.yaml").read_text(encoding="utf-8").replace(
    "key: department_rectification", "key: bench_documents").replace(
    "  measures_file: {type: file, label: 整改情况报告, accept: [pdf, docx, ofd], max_size: 50MB}\n",
    "  report_file: {type: file, label: 整改报告, accept: [pdf], max_size: 200MB}\n").replace(
    "  evidence: {type: file, label: 佐证材料, accept: [pdf, jpg, png, docx, xlsx, ofd], max_size: 20MB, multiple: true}\n",
    "  evidence: {type: file, label: 佐证材料, accept: [pdf, png], multiple: true, editable_by: [department]}\n").replace(
    "requires: [measures_file, evidence]}", "requires: [measures_report, report_file]}").replace(
    "shows: [measures_file, evidence, measures_report]", "shows: [report_file, evidence, measures_report]")
assert "requires: [measures_report, report_file]}" in RECTIFICATION and "report_file: {type: file" in RECTIFICATION


def pdf(megabytes: float) -> bytes:
    head = b"%PDF-1.4\n"
    return head + b"%" + b"0" * (int(megabytes * 1024 * 1024) - len(head) - 1)


def build(work: Path) -> tuple[str, list[int], int, int]:
    """(url, items waiting for their report, an item with 50 documents, one with none)."""
    url = f"sqlite:///{work / 'documents.db'}"
    store = Store(url)
    now = datetime.now(UTC)
    service.import_people(store, None, ROOT / "workflow" / "demo_people.yaml", now)
    for p in templates.builtin_paths():
        service.publish(store, "wang.fang", p, now)
    (work / "bench_documents.yaml").write_text(RECTIFICATION, encoding="utf-8")
    service.publish(store, "wang.fang", work / "bench_documents.yaml", now)
    make = lambda: service.create_item(store, "wang.fang", template="bench_documents", title="整改", now=now,  # noqa: E731
                                       group="g-env").id
    waiting = [make() for _ in range(20)]
    full, empty = make(), make()
    small = pdf(0.05)
    files = {"report_file": [("整改报告.pdf", _stream(small))],
             "evidence": [(f"佐证{k}.pdf", _stream(small[:-8] + f"{k:08d}".encode())) for k in range(49)]}
    service.advance(store, "huang.bo", full, "report", now, fields={"measures_report": "已整改"}, files=files)
    service.advance(store, "huang.bo", empty, "report", now, fields={"measures_report": "已整改"},
                    files={"report_file": [("整改报告.pdf", _stream(small))]})
    with store.transaction() as tx:
        tx.execute(text("UPDATE people SET password_hash = :h"), {"h": accounts._hasher().hash(PASSWORD)})
    store.dispose()
    return url, waiting, full, empty


def _stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def _login(client: httpx.Client) -> None:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]*)"', page.text).group(1)
    r = client.post("/login", data={"username": "huang.bo", "password": PASSWORD, "csrf": csrf})
    if r.status_code not in (200, 303):
        raise RuntimeError(f"login failed: {r.status_code}")


def _upload(client: httpx.Client, item: int, data: bytes) -> float:
    html = client.get(f"/items/{item}").text
    form = {"csrf": re.search(r'name="csrf" value="([^"]*)"', html).group(1),
            "version": re.search(r'name="version" value="(\d+)"', html).group(1),
            "trigger": "report", "field:measures_report": "已整改"}
    t = time.perf_counter()
    r = client.post(f"/items/{item}/advance", data=form, files={"file:report_file": ("整改报告.pdf", data, "application/pdf")})
    took = time.perf_counter() - t
    if r.status_code != 303:
        raise RuntimeError(f"upload answered {r.status_code}: {r.text[:200]}")
    return took


def _anonymous_mb(pid: int) -> float:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return int(fields["Anonymous"].split()[0]) / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=20)
    ap.add_argument("--big-mb", type=float, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pages", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        url, waiting, full, empty = build(Path(work))
        server = Server(url, 1)
        try:
            with httpx.Client(base_url=server.base, timeout=120, follow_redirects=False) as client:
                _login(client)
                _upload(client, waiting[0], pdf(1))  # warm up: the first upload after the start, 1 MB
                big = pdf(args.big_mb)
                client.get(f"/items/{waiting[-1]}")
                time.sleep(0.5)
                before = _anonymous_mb(server.proc.pid)
                peak, done = before, threading.Event()

                def sample() -> None:
                    nonlocal peak
                    while not done.is_set():
                        with contextlib.suppress(OSError, KeyError, ValueError):
                            peak = max(peak, _anonymous_mb(server.proc.pid))
                        time.sleep(0.02)
                t = threading.Thread(target=sample)
                t.start()
                took_big = _upload(client, waiting[-1], big)
                done.set()
                t.join()
                data = pdf(args.mb)
                times = [_upload(client, waiting[1 + k], data[:-8] + f"{k:08d}".encode()) for k in range(args.runs)]
                pages = {full: [], empty: []}
                for _ in range(args.pages):
                    for item in (full, empty):
                        t0 = time.perf_counter()
                        assert client.get(f"/items/{item}").status_code == 200
                        pages[item].append((time.perf_counter() - t0) * 1000)
        finally:
            server.stop()
    median = statistics.median(times)
    print(f"upload of {args.mb:.0f} MB through the workbench, median of {args.runs} (min–max): {median:.2f} s "
          f"({min(times):.2f}–{max(times):.2f})  target ≤ 2 s: {ok(median <= 2)}")
    print(f"upload of {args.big_mb:.0f} MB: {took_big:.2f} s; the server's own memory {before:.1f} → peak {peak:.1f} MB "
          f"(+{peak - before:.1f} MB)  target ≤ ~10 MB: {ok(peak - before <= 10)}")
    p_full, p_empty = pct(pages[full], 95), pct(pages[empty], 95)
    print(f"item page with 50 documents / with one, {args.pages} each taking turns: p50 {pct(pages[full], 50):.1f} / "
          f"{pct(pages[empty], 50):.1f} ms, p95 {p_full:.1f} / {p_empty:.1f} ms = {p_full / p_empty:.2f}×  "
          f"target ≤ 1.10×: {ok(p_full / p_empty <= 1.10)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
