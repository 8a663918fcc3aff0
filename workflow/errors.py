"""The domain error tree; each error carries the CLI exit code it maps to.

    WuzhuanError                 exit 1 (a bug; never raised for bad input)
    ├── InvalidInput             exit 2  bad value on the command line or in a file
    │   ├── FileError            exit 2  a file is wrong; holds every located problem
    │   │   └── DefinitionError  exit 2  a template is wrong
    │   ├── CalendarError        exit 2  a calendar file or date is wrong
    │   ├── Backdated            exit 2  an action dated before the item's last event (recorded as refused)
    │   └── Unavailable          exit 2  the database cannot be reached or written (full, read-only, gone)
    ├── NotFound                 exit 2  no such item, person, template, message
    ├── NotPermitted             exit 3  this person may not do this now
    │   ├── TriggerNotAllowed    exit 3  no such move from the item's current step
    │   └── GuardFailed          exit 3  the move's conditions do not hold
    │   (every NotPermitted a use case raises is recorded in the audit trail as refused)
    ├── Conflict                 exit 4  the item changed meanwhile; look again
    └── SchemaOutdated           exit 2  the database needs `wuzhuan db upgrade`

Messages are written for a committee clerk: they name the file and line, the item, the
step, the person or the role concerned, and say what to do.
"""

from __future__ import annotations

from dataclasses import dataclass


class WuzhuanError(Exception):
    exit_code = 1


class InvalidInput(WuzhuanError):
    """A value on the command line or in a file is wrong; the message says which and why."""

    exit_code = 2


class NotFound(WuzhuanError):
    exit_code = 2


class NotPermitted(WuzhuanError):
    exit_code = 3


class TriggerNotAllowed(NotPermitted):
    """The trigger does not leave the current state; keeps what was asked and what is allowed."""

    def __init__(self, item_id: int, state: str, trigger: str, allowed: list[str]):
        self.item_id, self.state, self.trigger, self.allowed = item_id, state, trigger, allowed
        allowed_text = ", ".join(allowed) if allowed else "none (the item is finished)"
        super().__init__(
            f"item {item_id} is at step '{state}': '{trigger}' is not possible from there; "
            f"possible: {allowed_text}"
        )


class GuardFailed(NotPermitted):
    """The move exists and the person may make it, but its template conditions do not hold."""


class Conflict(WuzhuanError):
    exit_code = 4


class SchemaOutdated(WuzhuanError):
    exit_code = 2


class Unavailable(InvalidInput):
    """The database cannot be reached or written now (connection lost, disk full, read-only): not a bug, try again."""


class Backdated(InvalidInput):
    """An action dated before what already happened to the item; recorded in the audit trail as refused."""


class CalendarError(InvalidInput):
    """A holiday notice or a date given by a person is wrong."""


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem in a template file."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class FileError(InvalidInput):
    """A file failed its checks; `problems` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class DefinitionError(FileError):
    """A template failed validation."""
