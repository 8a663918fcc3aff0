"""The use cases: what the command line, the scheduler, the demo and the web call, and nothing else.

Each takes the store, the acting person (where someone acts) and `now`, decides who may, runs one
transaction and returns a plain dataclass. Refusals raise the errors of workflow.errors.

The use cases are imported on first use (PEP 562), so a read command does not pay for the
template checker, the notice renderer or the people-file parser it never calls.
"""

from importlib import import_module
from typing import Any

from ..config import Settings, load_settings
from ..store import Store, database_url, upgrade

_LAZY = {
    "Assigned": ".items",
    "CalendarImported": ".admin",
    "CalendarYear": ".lookups",
    "Created": ".items",
    "Delivered": ".delivery",
    "DueInfo": ".lookups",
    "ExtensionDecided": ".suspension",
    "ExtensionRequested": ".suspension",
    "FieldsSet": ".items",
    "HistoryEntry": ".reads",
    "ItemDetail": ".reads",
    "ItemSummary": ".reads",
    "Message": ".delivery",
    "Moved": ".items",
    "Paused": ".suspension",
    "PeopleImported": ".admin",
    "PersonInfo": ".lookups",
    "Published": ".admin",
    "Resumed": ".suspension",
    "Retried": ".admin",
    "Swept": ".sweep",
    "VersionInfo": ".lookups",
    "advance": ".items",
    "assign": ".items",
    "calendar_due": ".lookups",
    "calendar_year": ".lookups",
    "create_item": ".items",
    "current_version": ".items",
    "decide_extension": ".suspension",
    "deliver": ".delivery",
    "deliver_with": ".delivery",
    "history": ".reads",
    "OPERATOR": ".reads",
    "Viewer": ".reads",
    "import_calendar": ".admin",
    "import_people": ".admin",
    "list_items": ".reads",
    "list_outbox": ".delivery",
    "list_people": ".lookups",
    "pause": ".suspension",
    "publish": ".admin",
    "request_extension": ".suspension",
    "resume": ".suspension",
    "retry_outbox": ".admin",
    "recount_progress": ".admin",
    "Recounted": ".admin",
    "set_fields": ".items",
    "show_item": ".reads",
    "sweep": ".sweep",
    "template": ".definitions",
    "definition_of_version": ".definitions",
    "check_template_upload": ".definitions",
    "preview_notice": ".definitions",
    "migrate": ".migration",
    "add_meeting": ".meetings",
    "list_meetings": ".meetings",
    "move_meeting": ".meetings",
    "parse_map": ".migration",
    "MigrationPlan": ".migration",
    "UploadResult": ".definitions",
    "MAX_TEMPLATE_BYTES": ".definitions",
    "publish_text": ".admin",
    "template_versions": ".lookups",
    "transport_for": ".delivery",
    "unassign": ".items",
    "AuditReport": ".audit",
    "Checkpoint": ".audit",
    "VerifyResult": "..audit_chain",
    "checkpoint": ".audit",
    "init_key": ".audit",
    "mark_simulation": ".admin",
    "verify_audit": ".audit",
    "add_activity": ".reports",
    "set_score": ".reports",
    "board": ".reports",
    "ledger": ".reports",
    "results": ".reports",
    "send_digest": ".reports",
    "Board": ".reports",
    "board_for": ".reports",
    "ledger_for": ".reports",
    "is_evaluator": ".reports",
    "units_compared": ".reports",
    "Ledger": ".reports",
    "Results": ".reports",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workflow.service' has no attribute '{name}'")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def open_store(url: str | None = None, settings: Settings | None = None, *, migrate: bool = True,
               readonly: bool = False) -> Store:
    """The store for a database URL (default ./wuzhuan.db, or WUZHUAN_DATABASE_URL), with its settings.

    `readonly`: for reading only; never migrates, never takes a write lock (a database that needs a
    migration is reported with the command that migrates it).
    """
    return Store(url, migrate=migrate, settings=settings, readonly=readonly)


def upgrade_schema(url: str | None = None, settings: Settings | None = None, now=None):
    """Apply the schema migrations, atomically; → store.engine.Upgraded (revisions before and after, who was made an
    administrator, every administrator). A database whose audit trail is signed needs its key in `settings`."""
    store = Store(url, migrate=False, settings=settings)
    try:
        return upgrade(store.engine, store.audit_key, now)
    finally:
        store.dispose()


__all__ = ["Settings", "Store", "database_url", "load_settings", "open_store", "upgrade", "upgrade_schema", *_LAZY]
