"""The domain error tree; each error carries its exit code, its HTTP status and the details of what went wrong.

    WuzhuanError                 exit 1  500  a bug; never raised for bad input
    ├── InvalidInput             exit 2  400  bad value on the command line, in a form or in a file
    │   ├── FileError            exit 2  400  a file is wrong; holds every located problem
    │   │   └── DefinitionError  exit 2  400  a template is wrong
    │   ├── CalendarError        exit 2  400  a calendar file or date is wrong
    │   └── Backdated            exit 2  400  an action dated before the item's last event (recorded as refused)
    ├── Unavailable              exit 2  503  the database cannot be reached or written now (lost, full, read-only,
    │   │                                     locked too long): nothing is wrong with the request; try again later
    │   └── KeyRequired          exit 2  503  the database's audit trail is signed and this process has no key
    ├── NotFound                 exit 2  404  no such item, person, template, message (or not visible to you)
    │   └── Hidden               exit 2  404  an item the person may not see (told as NotFound, recorded as refused)
    ├── NotPermitted             exit 3  403  this person may not do this now
    │   ├── TriggerNotAllowed    exit 3  403  no such move from the item's current step
    │   └── GuardFailed          exit 3  403  the move's conditions do not hold
    │   (every NotPermitted a use case raises is recorded in the audit trail as refused)
    ├── Conflict                 exit 4  409  the item changed meanwhile; look again
    └── SchemaOutdated           exit 2  503  the database needs `wuzhuan db upgrade`

The shells only translate: `exit_code_of` and `http_status_of` are the one mapping. Messages are written for a
committee clerk: they name the file and line, the item, the step, the person or the role concerned. `details`
holds the same facts as data (the field, the round, who may), for the API's JSON and for a shell's own hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class WuzhuanError(Exception):
    exit_code = 1
    http_status = 500

    def __init__(self, message: str = "", **details: Any):
        super().__init__(message)
        self.details: dict[str, Any] = details

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(WuzhuanError):
    """A value on the command line or in a file is wrong; the message says which and why."""

    exit_code = 2
    http_status = 400


class NotFound(WuzhuanError):
    exit_code = 2
    http_status = 404
    # What the pages and the API say for it, whatever was looked for: nothing of whether it exists unseen.
    public = "未找到（或您无权查看）。"


class Hidden(NotFound):
    """The item exists but the person may not see it: told exactly as an item that does not exist, and recorded."""


class NotPermitted(WuzhuanError):
    exit_code = 3
    http_status = 403


class TriggerNotAllowed(NotPermitted):
    """The trigger does not leave the current state; keeps what was asked and what is allowed."""

    def __init__(self, item_id: int, state: str, trigger: str, allowed: list[str]):
        self.item_id, self.state, self.trigger, self.allowed = item_id, state, trigger, allowed
        allowed_text = ", ".join(allowed) if allowed else "none (the item is finished)"
        super().__init__(
            f"item {item_id} is at step '{state}': '{trigger}' is not possible from there; "
            f"possible: {allowed_text}", item=item_id, state=state, trigger=trigger, allowed=allowed)


class GuardFailed(NotPermitted):
    """The move exists and the person may make it, but its template conditions do not hold."""


class Conflict(WuzhuanError):
    exit_code = 4
    http_status = 409


class SchemaOutdated(WuzhuanError):
    exit_code = 2
    http_status = 503


class Unavailable(WuzhuanError):
    """The database cannot be reached or written now (connection lost, disk full, read-only, locked too long):
    not a bug and not the request's fault; the same request may succeed later (HTTP 503 with Retry-After)."""

    exit_code = 2
    http_status = 503
    retry_after = 5  # seconds a client is asked to wait before trying again


class Backdated(InvalidInput):
    """An action dated before what already happened to the item; recorded in the audit trail as refused."""


class CalendarError(InvalidInput):
    """A holiday notice or a date given by a person is wrong."""


class KeyRequired(Unavailable):
    """The database's audit trail is signed with a key this process does not have: it may read, never write (the
    server is set up wrong, not the request: 503 on the web)."""


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
        super().__init__("\n".join(str(p) for p in self.problems),
                         problems=[{"file": p.file, "line": p.line, "column": p.column, "message": p.message}
                                   for p in self.problems])


class DefinitionError(FileError):
    """A template failed validation."""


def exit_code_of(e: BaseException) -> int:
    """The command line's exit code for an exception: the domain error's own, 1 for anything else (a bug)."""
    return e.exit_code if isinstance(e, WuzhuanError) else 1


def http_status_of(e: BaseException) -> int:
    """The HTTP status for an exception: the domain error's own, 500 for anything else (a bug)."""
    return e.http_status if isinstance(e, WuzhuanError) else 500
