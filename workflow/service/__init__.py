"""The use cases: what the command line, the scheduler, the demo and the web call, and nothing else.

Each takes the store, the acting person (where someone acts) and `now`, decides who may, runs one
transaction and returns a plain dataclass. Refusals raise the errors of workflow.errors.

Importing this loads every use case; the heavy libraries only some of them need (Jinja2 for notices,
`transitions` for moves, openpyxl and WeasyPrint for reports) are imported where they are first used.
"""

from ..audit_chain import VerifyResult
from ..config import Settings, load_settings
from ..store import Store, database_url, upgrade
from .admin import (
    CalendarImported,
    PeopleImported,
    Published,
    Recounted,
    Retried,
    import_calendar,
    import_people,
    mark_simulation,
    publish,
    publish_text,
    recount_progress,
    retry_outbox,
    running_from,
    set_simulation_clock,
    simulation_clock,
)
from .audit import AuditReport, Checkpoint, checkpoint, init_key, verify_audit
from .backup import BackedUp, backup_database
from .definitions import (
    MAX_TEMPLATE_BYTES,
    UploadResult,
    check_template_upload,
    definition_of_version,
    preview_notice,
    template,
)
from .delivery import Delivered, Message, deliver, deliver_with, list_outbox, transport_for
from .items import (
    Assigned,
    Created,
    FieldsSet,
    Moved,
    advance,
    assign,
    create_item,
    current_version,
    set_fields,
    unassign,
)
from .lookups import (
    CalendarYear,
    DueInfo,
    OrgInfo,
    PersonInfo,
    VersionInfo,
    calendar_due,
    calendar_year,
    list_orgs,
    list_people,
    template_versions,
)
from .meetings import add_meeting, list_meetings, move_meeting
from .migration import MigrationPlan, migrate, parse_map
from .reads import (
    OPERATOR,
    FileInfo,
    HistoryEntry,
    ItemDetail,
    ItemSummary,
    Viewer,
    download,
    history,
    item_files,
    list_items,
    show_item,
)
from .reads import search as search_items
from .reports import (
    Board,
    Ledger,
    OrgRollup,
    Results,
    add_activity,
    board,
    board_for,
    is_evaluator,
    ledger,
    ledger_for,
    org_rollup,
    results,
    send_digest,
    set_score,
    units_compared,
)
from .suspension import (
    ExtensionDecided,
    ExtensionRequested,
    Paused,
    Resumed,
    decide_extension,
    pause,
    request_extension,
    resume,
)
from .sweep import Swept, sweep
from .together import (
    Acknowledged,
    Commented,
    Reminded,
    Returned,
    acknowledge,
    comment,
    remind,
    return_item,
)


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


__all__ = ["Settings", "Store", "database_url", "load_settings", "open_store", "upgrade", "upgrade_schema",
           "Assigned",
           "AuditReport",
           "Board",
           "CalendarImported",
           "CalendarYear",
           "Checkpoint",
           "Created",
           "Delivered",
           "DueInfo",
           "ExtensionDecided",
           "ExtensionRequested",
           "FieldsSet",
           "HistoryEntry",
           "ItemDetail",
           "ItemSummary",
           "Ledger",
           "MAX_TEMPLATE_BYTES",
           "Message",
           "MigrationPlan",
           "Moved",
           "OPERATOR",
           "search_items",
           "OrgRollup",
           "OrgInfo",
           "Paused",
           "PeopleImported",
           "PersonInfo",
           "Published",
           "Recounted",
           "Results",
           "Resumed",
           "Retried",
           "Swept",
           "UploadResult",
           "VerifyResult",
           "VersionInfo",
           "Viewer",
           "add_activity", "Commented", "Reminded", "comment", "remind", "Acknowledged", "Returned", "acknowledge",
           "return_item",
           "add_meeting",
           "advance",
           "assign",
           "board",
           "board_for",
           "calendar_due",
           "calendar_year",
           "check_template_upload",
           "checkpoint",
           "create_item",
           "current_version",
           "decide_extension",
           "definition_of_version",
           "deliver",
           "deliver_with",
           "history",
           "import_calendar",
           "import_people",
           "init_key",
           "is_evaluator",
           "ledger",
           "ledger_for",
           "list_items",
           "list_meetings",
           "list_orgs",
           "org_rollup",
           "list_outbox",
           "list_people",
           "mark_simulation",
           "running_from",
           "set_simulation_clock",
           "simulation_clock",
           "migrate",
           "move_meeting",
           "parse_map",
           "pause",
           "preview_notice",
           "publish",
           "publish_text",
           "recount_progress",
           "request_extension",
           "results",
           "resume",
           "retry_outbox",
           "send_digest",
           "set_fields",
           "set_score",
           "show_item",
           "sweep",
           "template",
           "template_versions",
           "transport_for",
           "unassign",
           "units_compared",
           "verify_audit", "FileInfo", "download", "item_files", "BackedUp", "backup_database"]
