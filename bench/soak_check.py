"""The soak test's verdict: every invariant checked over the database, the SMTP inbox and the workers' logs."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from workflow.config import Settings
from workflow.errors import Unavailable
from workflow.service import verify_audit
from workflow.store import Store
from workflow.store.models import AuditEvent, Escalation, Item, Outbox, Step

EXPECTED_ERRORS = {"Unavailable", "OperationalError", "InterfaceError", "DBAPIError"}


def store_of(url: str, patience: float = 30.0) -> Store:
    """The store of a worker process (simulated time runs ahead of the wall clock). A worker restarted while the
    killer terminates connections may meet the outage as it opens the store: it waits for the database, as a
    service manager restarting `scheduler run` would, rather than die."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return Store(url, settings=Settings(clock_simulation=True))
        except Unavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)



def check(url: str, inbox: Any, logs: list[Path], final_now: datetime) -> tuple[list[str], Counter]:
    breaches: list[str] = []
    n = Counter()
    store = store_of(url)
    v = verify_audit(store)
    with store.read() as s:
        n["audit_events"] = v.events
        if not v.ok:
            breaches.append(f"audit verify: {v.problem}")
        versions = dict(s.execute(select(Item.id, Item.version)).all())
        steps = dict(s.execute(select(Step.item_id, func.count()).group_by(Step.item_id)).all())
        advanced = dict(s.execute(select(AuditEvent.item_id, func.count()).where(AuditEvent.kind == "advanced")
                                  .group_by(AuditEvent.item_id)).all())
        ok, unknown = Counter(), Counter()
        for p in logs:
            tries: dict[tuple, int] = {}
            for line in p.read_text().splitlines():
                try:
                    kind, item_id, version, *why = json.loads(line)
                except ValueError:
                    continue  # a line cut by SIGKILL
                if why:
                    n["error_" + why[0]] += 1
                if kind == "try":
                    tries[(item_id, version)] = 1
                elif kind in ("ok", "conflict", "backdated", "error"):
                    tries.pop((item_id, version), None)
                    if kind == "ok":
                        ok[item_id] += 1
                    n["ops_" + kind] += 1
            for (item_id, _v) in tries:  # killed mid-call: it may or may not have committed
                unknown[item_id] += 1
        unexpected = {k: c for k, c in n.items() if k.startswith("error_") and k[6:] not in EXPECTED_ERRORS}
        if unexpected:
            breaches.append(f"advancers met unexpected errors: {unexpected} (only connection losses are injected)")
        for item_id, version in versions.items():
            moved = version - 1
            if steps.get(item_id, 0) != moved + 1 or advanced.get(item_id, 0) != moved:
                breaches.append(f"item {item_id}: version {version}, {steps.get(item_id)} steps, {advanced.get(item_id)} advances")
            if not ok[item_id] <= moved <= ok[item_id] + unknown[item_id]:
                breaches.append(f"item {item_id}: {ok[item_id]} confirmed advances (+{unknown[item_id]} unknown) but version {version}")
        n["advances"] = sum(v - 1 for v in versions.values())
        n["unknown_outcome"] = sum(unknown.values())
        overdue = s.execute(select(func.count()).select_from(Step).where(Step.next_escalation_at <= final_now,
                                                                      Step.status == "open")).scalar_one()
        if overdue:
            breaches.append(f"{overdue} due rungs were never claimed")
        n["rungs_fired"] = s.execute(select(func.count()).select_from(Escalation).where(Escalation.status == "fired")).scalar_one()
        n["rungs_skipped"] = s.execute(select(func.count()).select_from(Escalation).where(Escalation.status == "skipped")).scalar_one()
        rows = s.execute(select(Outbox.message_id, Outbox.status)).all()
    store.dispose()
    n["messages"] = len(rows)
    stuck = [m for m, st in rows if st != "sent"]
    if stuck:
        breaches.append(f"{len(stuck)} messages left in the outbox (not sent)")
    received = Counter(inbox.ids)
    missing = [m for m, _st in rows if m not in received]
    if missing:
        breaches.append(f"{len(missing)} queued messages never reached the SMTP server")
    queued = {m for m, _ in rows}  # built once: 285,000 messages in the long run
    strangers = [m for m in received if m not in queued]
    if strangers:
        breaches.append(f"{len(strangers)} messages arrived that the outbox never queued")
    n["received"] = sum(received.values())
    n["received_twice_same_id"] = sum(c - 1 for c in received.values() if c > 1)
    return breaches, n
