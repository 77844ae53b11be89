"""The audit log: every change made through the service, recorded with who made it.

Call :func:`record` (or :func:`record_job` for a job) **inside the store transaction of the
change**, so the change and its entry commit or roll back together::

    with store.transaction():
        store.jobs.update(job.id, changes)
        audit.record_job(store, caller, audit.JOB_UPDATED, job, details={"changes": ...})

``actor`` is the caller's ``user_id``: an API token's name, or ``local:UNIXUSER`` for the CLI
working on the store (:func:`local_actor` for code that has no caller, like ``task-functions
sync``). ``action`` is ``<target type>.<verb in the past tense>``; the ones in use are the
constants below, and a new kind of change adds its own (``execution.cancelled``,
``job.applied``, ...). ``details`` is any JSON object; put values that may hold secrets through
:func:`masked` first (:func:`field_changes` does it for job fields). The log is read with
``jobctl audit`` / ``GET /audit`` and feeds the job timeline (docs/audit-log.md).
"""

from __future__ import annotations

import os
import pwd
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from jobctl.models import Caller, Job, JobSettings
from jobctl.redaction import MASK, redact
from jobctl.store import Store
from jobctl.store.writes import SETTINGS
from jobctl.wire.values import environment_change

JOB_CREATED = "job.created"
JOB_UPDATED = "job.updated"
JOB_DELETED = "job.deleted"
JOB_PAUSED = "job.paused"
JOB_RESUMED = "job.resumed"
JOB_ENABLED = "job.enabled"
JOB_DISABLED = "job.disabled"
JOB_TRIGGERED = "job.triggered"
TOKEN_CREATED = "token.created"
TOKEN_REVOKED = "token.revoked"
TASK_FUNCTIONS_SYNCED = "task_functions.synced"
EXECUTION_CANCELLED = "execution.cancelled"
"""A run cancelled (recorded against its job, with ``executionId`` and the state it was in)."""
EXECUTION_DELETED = "execution.deleted"
"""A run a forced delete ended, deleted with its job: its last record, against the execution
itself, so that it is found by its id (docs/deleting-jobs.md)."""

JOB = "job"
EXECUTION = "execution"
TOKEN = "token"
TASK_FUNCTIONS = "task_functions"

LOCAL_PREFIX = "local:"
UNKNOWN_ACTOR = "unknown"

_SECRET_KEY = re.compile(r"pass(word|wd)?|secret|token|api[_-]?key|credential|private", re.IGNORECASE)
"""Keys whose values are never written to the log, wherever they appear in a JSON value."""
_WHOLLY_MASKED = frozenset({"environment", "stdin"})
"""Job fields whose values are masked outright: environment values and standard input are
where secrets are handed to jobs. The names of environment variables stay visible."""


def local_actor() -> str:
    """``local:UNIXUSER``: the actor of a change made on the store by this process's user.

    The name comes from the real uid's passwd entry, not from ``$LOGNAME`` or ``$USER``
    (which ``getpass.getuser`` reads first): anyone can set those, and the audit log must not
    let ``LOGNAME=root jobctl jobs pause x`` be recorded as root's. A uid with no passwd entry
    is named by its number."""
    uid = os.getuid()
    try:
        return LOCAL_PREFIX + pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"{LOCAL_PREFIX}{uid}"


def actor_of(caller: Caller) -> str:
    """The caller as the log names it: the token's name, or ``local:UNIXUSER``."""
    return caller.user_id or UNKNOWN_ACTOR


def record(
    store: Store,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str | None = None,
    target_name: str | None = None,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Write one entry (in the caller's transaction, if one is open: open one around the change).

    :raises StoreError: when it cannot be written; inside a transaction the change is rolled
        back with it, so no change goes unrecorded.
    """
    from jobctl.store.audit import NewAuditEntry  # with store.audit, on first use (Store)

    store.audit.insert(
        NewAuditEntry(
            at=at or datetime.now(UTC),
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_name=target_name,
            reason=reason,
            details=None if details is None else dict(details),
        )
    )


def record_job(
    store: Store,
    caller: Caller | str,
    action: str,
    job: Job,
    *,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """:func:`record` for a change to ``job`` (its id and current name as the target)."""
    actor = caller if isinstance(caller, str) else actor_of(caller)
    record(
        store, actor=actor, action=action, target_type=JOB, target_id=job.id, target_name=job.name,
        reason=reason, details=details, at=at,
    )  # fmt: skip


def field_changes(before: JobSettings, after: JobSettings, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{"apiFieldName": {"old": ..., "new": ...}}`` for each of ``names`` whose value changed,
    secrets masked (:func:`masked`).

    The environment's values are masked on both sides, so its maps alone cannot tell a changed
    value from an unchanged one; its change also names the variables ``added``, ``removed`` and
    ``changed`` (docs/audit-log.md)."""
    changes: dict[str, dict[str, Any]] = {}
    for name in sorted(names):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes[_camel(name)] = {"old": masked(name, old), "new": masked(name, new)}
            if name == "environment":
                changes[_camel(name)].update(environment_change(old, new))
    return changes


def settings_snapshot(settings: JobSettings) -> dict[str, Any]:
    """Every setting of a job (API names), secrets masked: what a creation entry holds."""
    return {_camel(name): masked(name, getattr(settings, name)) for name in sorted(SETTINGS)}


def masked(field: str, value: Any) -> Any:
    """A job field's value as the log may show it.

    Environment values and standard input are masked whole (variable names stay); elsewhere,
    values under secret-looking keys (``password``, ``token``, ``apiKey``, ...) are masked and
    strings go through :func:`jobctl.redaction.redact` (passwords in URLs and ``password=``).
    """
    if value is None:
        return None
    if field in _WHOLLY_MASKED:
        return {key: MASK for key in value} if isinstance(value, dict) else MASK
    return _mask_json(_plain(value))


def _mask_json(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: MASK if _SECRET_KEY.search(str(key)) else _mask_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_json(item) for item in value]
    return value


def _plain(value: Any) -> Any:
    """Enums as their wire values, datetimes as ISO text: what JSON can hold."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return getattr(value, "value", value)


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


__all__ = [
    "EXECUTION", "EXECUTION_CANCELLED", "EXECUTION_DELETED", "JOB_CREATED", "JOB_DELETED", "JOB_DISABLED",
    "JOB_ENABLED", "JOB_PAUSED", "JOB_RESUMED", "JOB_TRIGGERED", "JOB_UPDATED", "TASK_FUNCTIONS_SYNCED",
    "TOKEN_CREATED", "TOKEN_REVOKED",
    "actor_of", "field_changes", "local_actor", "masked", "record", "record_job", "settings_snapshot",
]  # fmt: skip
