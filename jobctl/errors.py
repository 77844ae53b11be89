"""The one exception tree of jobctl.

Every error a user can cause or meet is a :class:`JobctlError`. Each class knows the exit code
the CLI returns for it and the HTTP status the API answers with, and builds its message from
the identifier it is about, so that the CLI and the API report the same thing the same way.

::

    JobctlError                      exit 1, HTTP 500
    ├── UsageError                   exit 2, HTTP 400
    │   └── AmbiguousId              exit 2, HTTP 400   (an id prefix of several jobs or executions)
    ├── ValidationFailed             exit 2, HTTP 422   (carries field-level errors with ``loc``)
    ├── OutputUnwritable             exit 2             (the CLI's stdout takes no more: a full disk, closed)
    ├── NotFound                     exit 3, HTTP 404
    │   └── ExecutionGone            exit 3, HTTP 410   (deleted with its job by a forced delete that ended it)
    ├── Conflict                     exit 4, HTTP 409
    ├── NotAuthenticated             exit 5, HTTP 401
    ├── PermissionDenied             exit 5, HTTP 403
    ├── ApiUnreachable               exit 5, HTTP 502
    └── StoreError                   exit 1, HTTP 503
        ├── StoreUnavailable         exit 1, HTTP 503   (an outage: worth retrying)
        └── StoreUnusable            exit 1, HTTP 503   (never usable as given: not a jobctl store, ...)
            ├── StoreDamaged         exit 1, HTTP 503   (SQLite says the file is malformed)
            ├── StoreVersionError    exit 1, HTTP 503   (written by a newer jobctl)
            └── StoreUnusableForDaemon exit 78          (``jobctl daemon``'s refusal: EX_CONFIG, not restarted)

Foreign exceptions (sqlite3, psycopg, httpx, ...) are translated into this tree exactly once,
at the module that owns the library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from jobctl.shown import shown


class JobctlError(Exception):
    """Base of every error jobctl reports to a user."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def detail(self) -> Any:
        """The value of ``detail`` in the API's error body."""
        return self.message

    def extra(self) -> dict[str, Any]:
        """Keys of the API's error body beside ``detail`` (none but for :class:`ExecutionGone`)."""
        return {}


class UsageError(JobctlError):
    """The command line or request was malformed in a way no field names."""

    exit_code = 2
    http_status = 400


class AmbiguousId(UsageError):
    """An id prefix that matches more than one job or execution; the message lists them."""


class ValidationFailed(JobctlError):
    """One or more fields of the input are invalid.

    ``errors`` holds dicts shaped like the API's validation errors:
    ``{"loc": [...], "msg": "...", "type": "..."}``.
    """

    exit_code = 2
    http_status = 422

    def __init__(self, errors: Sequence[dict[str, Any]]) -> None:
        self.errors = [dict(error) for error in errors]
        super().__init__("; ".join(_describe(error) for error in self.errors))

    @classmethod
    def field(cls, loc: Sequence[str | int], msg: str, type_: str = "value_error") -> ValidationFailed:
        """One invalid field at ``loc``."""
        return cls([{"loc": list(loc), "msg": msg, "type": type_}])

    def prefixed(self, *prefix: str | int) -> ValidationFailed:
        """The same errors with ``prefix`` put in front of every ``loc``."""
        return ValidationFailed([{**e, "loc": [*prefix, *e["loc"]]} for e in self.errors])

    def detail(self) -> Any:
        return self.errors


def _describe(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", []) if part != "body"]
    where = ".".join(loc)
    return f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid"))


class OutputUnwritable(JobctlError):
    """The CLI's stdout cannot be written (a full disk, a closed descriptor, an I/O error): the
    exit code an export's ``-o FILE`` that cannot be written has always had, for every command.
    A reader that left (``| head``) is not this: it ends the command quietly (exit 141)."""

    exit_code = 2

    def __init__(self, why: str) -> None:
        super().__init__(f"cannot write to stdout: {why}")


class NotFound(JobctlError):
    """The named job, execution, task function or token does not exist."""

    exit_code = 3
    http_status = 404

    def __init__(self, kind: str, ident: object, *, note: str | None = None) -> None:
        """``note``: what may explain the absence, said after the name in parentheses."""
        text = f"no {kind} {shown(ident)}"  # a 300-character name is cut, not repeated
        super().__init__(text if note is None else f"{text} ({note})")
        self.kind = kind
        self.ident = ident


class ExecutionGone(NotFound):
    """An execution that a forced delete of its job ended (stopped or skipped) and then deleted
    with the job's history. ``record`` is its last record, kept in the audit log
    (``execution.deleted``): ``status``, ``errorMessage``, ``result``, ``jobName``, ... , so
    that ``jobctl run`` following it tells how it ended (docs/deleting-jobs.md).
    """

    http_status = 410

    def __init__(self, execution_id: str, record: dict[str, Any]) -> None:
        status, error = record.get("status"), record.get("errorMessage")
        ended = f"{status}: {str(error).splitlines()[0]}" if error else str(status)
        JobctlError.__init__(
            self, f"execution {execution_id!r} was deleted with its job {record.get('jobName')!r}; it had ended {ended}"
        )
        self.kind = "execution"
        self.ident = execution_id
        self.record = record

    def extra(self) -> dict[str, Any]:
        return {"execution": self.record}


class Conflict(JobctlError):
    """The operation conflicts with the current state (disabled job, duplicate name, ...)."""

    exit_code = 4
    http_status = 409


class NotAuthenticated(JobctlError):
    """No token, or a token that is unknown or revoked."""

    exit_code = 5
    http_status = 401


class PermissionDenied(JobctlError):
    """The caller's role is too low for the operation."""

    exit_code = 5
    http_status = 403


class ApiUnreachable(JobctlError):
    """The daemon's API could not be reached or answered nonsense."""

    exit_code = 5
    http_status = 502


class StoreError(JobctlError):
    """The store cannot be opened, read or written."""

    exit_code = 1
    http_status = 503


class StoreUnavailable(StoreError):
    """The store cannot be reached right now (connection lost, server gone, file busy).

    Worth trying again later, unlike a :class:`StoreError` the store gave for the statement
    itself (a value it refuses), which fails the same way every time.
    """


class StoreBusy(StoreUnavailable):
    """Another process held SQLite's write lock for longer than the busy timeout."""


class StoreUnusable(StoreError):
    """The store named can never be used as it is, however often it is tried: a file that is no
    jobctl store (empty, another application's database, not SQLite at all, damaged), no regular
    file (a directory, a FIFO, a device), a Postgres schema holding another application's
    ``jobs`` table, a backend whose driver is not installed, a schema of a newer jobctl.

    Unlike :class:`StoreUnavailable`, only a person can fix it (another ``--db``, a repair, an
    install); an outage, a busy store or a store that cannot be reached is never this.
    """


class StoreDamaged(StoreUnusable):
    """SQLite found the store's file damaged (``SQLITE_CORRUPT``, ``SQLITE_NOTADB``: "database
    disk image is malformed"). Unlike an outage it does not go away by trying again, and whatever
    writes on (a prune, a release of free pages) writes into a file whose structure SQLite can no
    longer vouch for: prunes stop at it (docs/retention.md)."""


class StoreVersionError(StoreUnusable):
    """The store was written by a newer jobctl than this one."""


EXIT_STORE_UNUSABLE = 78
"""``jobctl daemon``'s exit code when it refuses a store it can never use as configured (a newer
schema, not a jobctl store, ...): EX_CONFIG of sysexits.h, named in the systemd unit's
``RestartPreventExitStatus=`` (docs/systemd.md, docs/upgrading.md)."""


class StoreUnusableForDaemon(StoreUnusable):
    """The daemon refused a store it can never use as configured (:class:`StoreUnusable`).

    Its own exit code, so a service manager can tell it from an outage: restarting the daemon
    every few seconds cannot help, only a person can (install the newer release, point the config
    at the right store). Other commands keep exit 1 for the same refusal (SPEC's "1 error").
    """

    exit_code = EXIT_STORE_UNUSABLE
