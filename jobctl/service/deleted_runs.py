"""The last record of each run a forced delete ended, kept past the delete in the audit log.

A forced delete stops the job's running runs, skips its waiting ones, waits for those records,
then deletes the job with its history (docs/deleting-jobs.md). Someone may be following one of
those runs: ``jobctl run`` reads its output every 0.25 s and its record at the end, and the
record lived some 50 ms between the stop being recorded and the delete. Mostly the follower
found no execution any more and said ``no execution '...'`` (exit 3), not how its run ended.

So the delete writes, in its own transaction, one ``execution.deleted`` audit entry per run it
ended, against the execution's id, holding that run's last record; a read of that id then
raises :class:`~jobctl.errors.ExecutionGone` (HTTP 410) with the record instead of a bare
:class:`~jobctl.errors.NotFound`. Finished runs of the job go without an entry, as before: only
an ended-by-the-delete run can still have someone following it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from jobctl.errors import ExecutionGone, NotFound
from jobctl.models import Caller, Job
from jobctl.service import audit
from jobctl.store import Store
from jobctl.wire.ids import execution_not_found, is_uuid
from jobctl.wire.responses import DeletedRun, timestamp


def record_deleted_runs(store: Store, caller: Caller, job: Job, execution_ids: Iterable[str]) -> None:
    """One ``execution.deleted`` entry per run of ``execution_ids``, as it is recorded now; call
    it in the delete's transaction, before the rows go."""
    for execution_id in execution_ids:
        execution = store.executions.get(execution_id)
        if execution is None or execution.job_id != job.id:
            continue
        audit.record(
            store,
            actor=audit.actor_of(caller),
            action=audit.EXECUTION_DELETED,
            target_type=audit.EXECUTION,
            target_id=execution.id,
            target_name=job.name,
            details={
                "jobId": job.id,
                "status": execution.status.value,
                "startedAt": timestamp(execution.started_at),
                "completedAt": timestamp(execution.completed_at),
                "result": audit.masked("result", execution.result),
                "errorMessage": audit.masked("errorMessage", execution.error_message),
            },
        )


def missing_execution(store: Store, execution_id: str) -> NotFound:
    """The error for an id no execution has: :class:`ExecutionGone` when a forced delete ended
    that run and deleted it, else :class:`NotFound` (for a whole id, saying it may have been pruned)."""
    gone = deleted_run(store, execution_id) if is_uuid(execution_id) else None
    return execution_not_found(execution_id) if gone is None else ExecutionGone(execution_id, dict(gone))


def deleted_run(store: Store, execution_id: str) -> DeletedRun | None:
    """The last record of a run deleted with its job, if a forced delete ended it (and the audit
    log still holds the entry: ``[history] audit_keep_days``)."""
    entries = store.audit.of_target(audit.EXECUTION, execution_id, until=datetime.now(UTC))
    entry = next((e for e in reversed(entries) if e.action == audit.EXECUTION_DELETED), None)
    if entry is None:
        return None
    details = entry.details or {}
    return {
        "id": execution_id,
        "jobId": str(details.get("jobId")),
        "jobName": entry.target_name or "",
        "status": str(details.get("status")),
        "startedAt": details.get("startedAt"),
        "completedAt": details.get("completedAt"),
        "result": details.get("result"),
        "errorMessage": details.get("errorMessage"),
        "deletedBy": entry.actor,
        "deletedAt": str(timestamp(entry.at)),
    }
