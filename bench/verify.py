"""`audit verify` over documents: `python bench/verify.py [--mb 200] [--file-mb 10] [--runs 3] [--url URL]`.

Stores --mb of distinct PDFs (each --file-mb, one per item of a rectification template whose report is a file)
on a fresh database (SQLite by default), then times `verify_audit` with the blobs re-hashed and with --no-files,
taking turns, --runs times: the difference is the re-hashing, reported as MB/s of blobs (target ≥ 100 MB/s on
SQLite, issue 27). Every verify must come out clean.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chain import reset  # noqa: E402
from documents import RECTIFICATION, pdf  # noqa: E402
from web import ok  # noqa: E402

from workflow import service, templates  # noqa: E402
from workflow.store import Store  # noqa: E402


def build(url: str, work: Path, total_mb: float, file_mb: float) -> int:
    """The database with total_mb of documents; → how many."""
    store = Store(url)
    now = datetime.now(UTC)
    service.import_people(store, None, ROOT / "workflow" / "demo_people.yaml", now)
    for p in templates.builtin_paths():
        service.publish(store, "wang.fang", p, now)
    (work / "bench_documents.yaml").write_text(RECTIFICATION, encoding="utf-8")
    service.publish(store, "wang.fang", work / "bench_documents.yaml", now)
    n = max(1, int(total_mb / file_mb))
    base = pdf(file_mb)
    for k in range(n):
        item = service.create_item(store, "wang.fang", template="bench_documents", title=f"整改{k}", now=now, group="g-env").id
        data = base[:-8] + f"{k:08d}".encode()  # distinct contents: one blob each
        service.advance(store, "huang.bo", item, "report", now, fields={"measures_report": "已整改"},
                        files={"report_file": [("整改报告.pdf", io.BytesIO(data))]})
    store.dispose()
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=200)
    ap.add_argument("--file-mb", type=float, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--url", help="a database to fill (its contents are dropped); default a SQLite file in a temporary folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        url = args.url or f"sqlite:///{Path(work) / 'verify.db'}"
        reset(url)
        t = time.perf_counter()
        n = build(url, Path(work), args.mb, args.file_mb)
        print(f"stored {n} documents of {args.file_mb:g} MB in {time.perf_counter() - t:.1f} s ({url.split(':', 1)[0]})")
        store = Store(url)
        with_files, without = [], []
        for _ in range(args.runs):
            for files, into in ((True, with_files), (False, without)):
                t = time.perf_counter()
                report = service.verify_audit(store, files=files)
                into.append(time.perf_counter() - t)
                if not report.ok:
                    print(f"verify failed: {report.problem}")
                    return 1
        rehashed = service.verify_audit(store).file_bytes
        store.dispose()
    mb = rehashed / 1024 / 1024
    full, bare = statistics.median(with_files), statistics.median(without)
    rate = mb / max(full - bare, 1e-9)
    print(f"audit verify, median of {args.runs}: {full:.2f} s with the documents, {bare:.2f} s without (--no-files)")
    print(f"re-hashing {mb:.0f} MB of blobs: {full - bare:.2f} s = {rate:.0f} MB/s; "
          f"all of verify: {mb / full:.0f} MB/s  target ≥ 100 MB/s: {ok(rate >= 100)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
