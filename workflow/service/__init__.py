"""The use cases: what the command line, the scheduler, the demo and the web call, and nothing else.

Each takes the store, the acting person (where someone acts) and `now`, decides who may, runs one
transaction and returns a plain dataclass. Refusals raise the errors of workflow.errors.
"""

from ..audit_chain import VerifyResult
from ..config import Settings, load_settings
from ..store import Store, database_url, upgrade
from .admin import (
    CalendarImported,
    PeopleImported,
    Published,
    Retried,
    import_calendar,
    import_people,
    publish,
    retry_outbox,
)
from .audit import verify_audit
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
from .views import (
    CalendarYear,
    DueInfo,
    HistoryEntry,
    ItemDetail,
    ItemSummary,
    PersonInfo,
    VersionInfo,
    calendar_due,
    calendar_year,
    history,
    list_items,
    list_people,
    show_item,
    template,
    template_versions,
)


def open_store(url: str | None = None, settings: Settings | None = None, *, migrate: bool = True) -> Store:
    """The store for a database URL (default ./wuzhuan.db, or WUZHUAN_DATABASE_URL), with its settings."""
    return Store(url, migrate=migrate, settings=settings)


def upgrade_schema(url: str | None = None) -> tuple[str | None, str]:
    """Apply the schema migrations; returns (revision before, revision after)."""
    store = Store(url, migrate=False)
    try:
        return upgrade(store.engine)
    finally:
        store.dispose()


__all__ = [
    "Assigned",
    "CalendarImported",
    "CalendarYear",
    "Created",
    "Delivered",
    "DueInfo",
    "ExtensionDecided",
    "ExtensionRequested",
    "FieldsSet",
    "HistoryEntry",
    "ItemDetail",
    "ItemSummary",
    "Message",
    "Moved",
    "Paused",
    "PeopleImported",
    "PersonInfo",
    "Published",
    "Resumed",
    "Retried",
    "Settings",
    "Store",
    "Swept",
    "VerifyResult",
    "VersionInfo",
    "advance",
    "assign",
    "calendar_due",
    "calendar_year",
    "create_item",
    "current_version",
    "database_url",
    "decide_extension",
    "deliver",
    "deliver_with",
    "history",
    "import_calendar",
    "import_people",
    "list_items",
    "list_outbox",
    "list_people",
    "load_settings",
    "open_store",
    "pause",
    "publish",
    "request_extension",
    "resume",
    "retry_outbox",
    "set_fields",
    "show_item",
    "sweep",
    "template",
    "template_versions",
    "transport_for",
    "unassign",
    "upgrade_schema",
    "verify_audit",
]
