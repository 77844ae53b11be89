"""Cancelling a run: a pending one ends at once, a running one is stopped by its daemon.

The process belongs to the daemon that started it (any instance, leader or not, or a
``jobctl run`` in the foreground), which may not be the process serving this request. So the
request goes through the store, as a forced delete does: the execution is marked
(``stop_requested`` with the reason, ``cancelled_by``), the daemon running it finds the mark
within a fraction of a second, sends SIGTERM to the run's process group, SIGKILL after
``[daemon] kill_grace_seconds``, revokes a Celery task, and records the run ``cancelled``.
The caller waits for that record (docs/cancelling-runs.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

from jobctl.errors import Conflict
from jobctl.models import Execution, ExecutionStatus
from jobctl.notifier_config import NotifySettings
from jobctl.service import audit
from jobctl.service.notifications import execution_event
from jobctl.service.stop_wait import record_unconfirmed_stop, still_running_after
from jobctl.store import Store
from jobctl.wire.ids import execution_not_found

CONFIRM_MARGIN_SECONDS = 3.0
"""Beyond the kill grace: up to a second for the daemon to notice, plus the record itself."""
_ATTEMPTS = 3
"""A run may change state between our read and our write (pending -> running): read again."""


def cancel_execution(
    store: Store, execution_id: str, who: str, *, kill_grace_seconds: float, notify: NotifySettings | None = None
) -> Execution:
    """Cancel the execution and return it as recorded afterwards.

    :raises NotFound: for an unknown execution.
    :raises Conflict: for one that already ended (cancelling changes nothing then).
    """
    reason = f"cancelled by {who}"
    for _ in range(_ATTEMPTS):
        execution = _get(store, execution_id)
        if execution.status == ExecutionStatus.PENDING:
            with store.transaction():
                if store.executions.cancel_pending(execution.id, who=who, reason=reason, now=datetime.now(UTC)):
                    _record(store, execution, who)
                    cancelled = _get(store, execution.id)
                    execution_event(store, notify, cancelled, "cancelled", now=datetime.now(UTC))
                    return cancelled
        elif execution.status == ExecutionStatus.RUNNING:
            with store.transaction():
                asked = store.executions.request_cancel(execution.id, who=who, reason=reason)
                if asked:
                    _record(store, execution, who)
            if asked:
                return _wait_for_stop(store, execution.id, reason, kill_grace_seconds + CONFIRM_MARGIN_SECONDS, notify)
        else:
            raise Conflict(
                f"execution {execution.id} already ended ({execution.status.value}); "
                "only a pending or running run can be cancelled"
            )
    raise Conflict(f"execution {execution_id} kept changing state; try again")


def _wait_for_stop(
    store: Store, execution_id: str, reason: str, wait_seconds: float, notify: NotifySettings | None
) -> Execution:
    """Wait until the daemon running it records the run; record it here if none did in time
    (its daemon died or lost the store: a daemon still alive kills the process once it sees
    the run is no longer running)."""
    if still_running_after(store, [execution_id], wait_seconds):
        with store.transaction():
            if record_unconfirmed_stop(store, execution_id, ExecutionStatus.CANCELLED, reason, wait_seconds):
                execution_event(store, notify, _get(store, execution_id), "cancelled", now=datetime.now(UTC))
    return _get(store, execution_id)


def _record(store: Store, execution: Execution, who: str) -> None:
    """The audit entry (in the cancel's transaction) and a nudge to every scheduler."""
    job = store.jobs.get(execution.job_id)
    if job is not None:
        details = {"executionId": execution.id, "was": execution.status.value}
        audit.record_job(store, who, audit.EXECUTION_CANCELLED, job, details=details)
    store.cluster.bump_generation()


def _get(store: Store, execution_id: str) -> Execution:
    execution = store.executions.get(execution_id)
    if execution is None:
        raise execution_not_found(execution_id)
    return execution
