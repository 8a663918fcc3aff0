"""Build a database with an old release's own code: run from a folder holding that release's files (git archive).

    python tests/build_old.py SOURCE_DIR DATABASE_URL WORK_DIR [AUDIT_KEY_HEX]

The old code runs its own demo (people, five items moved along the chain, a pause, an extension, escalation
sweeps, delivered notices) against DATABASE_URL instead of its own SQLite file, then sweeps once more three
months later without delivering, so that the database also holds fired rungs with notices still queued. It
prints one JSON line: the revision the old code left and how many notices wait. Nothing here is the project's
code of today: it is only the wiring that points the old demo at another database.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

source, url, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
key = sys.argv[4] if len(sys.argv) > 4 else None
sys.path.insert(0, source)

import workflow.demo as demo  # noqa: E402  (the old release's)

try:  # releases with the service layer open their store through it
    from workflow import service
except ImportError:
    service = None

if service is not None and hasattr(service, "open_store"):
    real_open = service.open_store

    def open_store(_url=None, settings=None, **kw):
        if key is not None:
            settings = dataclasses.replace(settings, audit_key=key) if settings is not None else service.Settings(audit_key=key)
        return real_open(url, settings, **kw)

    service.open_store = open_store
if hasattr(demo, "Store"):  # the first releases built their Store in the demo itself
    real_store = demo.Store
    demo.Store = lambda _url=None, *a, **kw: real_store(url, *a, **kw)

demo.run_demo(work, lambda _line: None)

later = datetime(2026, 7, 15, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
if service is not None and hasattr(service, "sweep"):
    store = service.open_store(url)
    service.sweep(store, later)
else:
    from workflow.db import Store
    from workflow.sweep import sweep

    store = Store(url)
    sweep(store, later)
with store.engine.connect() as conn:
    revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    pending = conn.exec_driver_sql("SELECT count(*) FROM outbox WHERE status = 'pending'").scalar()
store.engine.dispose()
print(json.dumps({"revision": revision, "pending": pending}))
