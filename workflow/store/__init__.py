"""All SQL of wuzhuan: engines and transactions, tables, migrations, and one module of queries per table.

Above this package nothing runs a statement or sees an ORM object: store functions take a `Tx`
and return the typed rows of workflow.rows.
"""

from .engine import Store, Tx, database_url, upgrade
from .models import LEFT_WITH_PARENT, ExtensionStatus, OutboxStatus, RungStatus, StepStatus

__all__ = ["Store", "Tx", "database_url", "upgrade", "ExtensionStatus", "OutboxStatus", "RungStatus", "StepStatus", "LEFT_WITH_PARENT"]
