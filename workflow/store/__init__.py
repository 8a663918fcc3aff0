"""All SQL of wuzhuan: engines and transactions, tables, migrations, and one module of queries per table.

Above this package nothing runs a statement or sees an ORM object: store functions take a `Tx`
and return the typed rows of workflow.rows.
"""

from . import (
    announce_models,  # noqa: F401  (我监督's announcements and sign-ups join the metadata)
    deputy_models,  # noqa: F401  (the deputies' registry joins the metadata)
    file_models,  # noqa: F401  (the documents' tables join the metadata)
    personal_models,  # noqa: F401  (saved filters and news marks join the metadata)
    proposal_models,  # noqa: F401  (the deputies' proposals join the metadata)
    search_models,  # noqa: F401  (the search table joins the metadata)
)
from .engine import Store, Tx, database_url
from .models import LEFT_WITH_PARENT, ExtensionStatus, OutboxStatus, RungStatus, StepStatus
from .upgrades import Upgraded, upgrade

__all__ = ["Store", "Tx", "Upgraded", "database_url", "upgrade", "ExtensionStatus", "OutboxStatus", "RungStatus", "StepStatus", "LEFT_WITH_PARENT"]
