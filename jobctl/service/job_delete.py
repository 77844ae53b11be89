"""Deleting a job: refused while it has active runs, or (with ``force``) after stopping them.

A running process belongs to the daemon that started it, so the service cannot kill it: it
writes the reason into the execution (``stop_requested``), and the daemon running it sends
SIGTERM to the run's process group, SIGKILL after the kill grace, and records the run as
``failed`` with that reason. The service waits for those records, then deletes the job with
its history, as a delete always did (docs/deleting-jobs.md).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from jobctl.errors import Conflict
from jobctl.executors.process import KILL_GRACE_SECONDS
from jobctl.models import Execution, ExecutionStatus, Job
from jobctl.service.stop_wait import record_unconfirmed_stop, still_running_after
from jobctl.store import Store
from jobctl.store.writes import NO_NEXT_SLOT, JobChanges

STOP_MARGIN_SECONDS = 3.0
"""Beyond the kill grace: up to a second for the daemon to notice, plus the record itself."""
STOP_WAIT_SECONDS = KILL_GRACE_SECONDS + STOP_MARGIN_SECONDS
"""How long a forced delete waits for the daemons to stop and record the job's runs, with the
default kill grace (the service passes ``[daemon] kill_grace_seconds`` plus the margin)."""


def active_runs_conflict(job: Job, active: list[Execution]) -> Conflict:
    """The 409 for deleting a job whose runs are active, naming each of them."""
    listed = ", ".join(f"{execution.id} ({execution.status})" for execution in active)
    runs = "run" if len(active) == 1 else "runs"
    return Conflict(
        f"job {job.name!r} has {len(active)} active {runs}: {listed}; "
        "delete with force (jobs delete --force, DELETE ?force=true) to stop them first"
    )


def stop_runs_for_delete(
    store: Store, job: Job, who: str | None, *, wait_seconds: float = STOP_WAIT_SECONDS
) -> list[str]:
    """Disable the job, end its waiting runs, have its running ones stopped and recorded; returns
    the ids of the runs it ended (those active when it began), whose records the delete keeps.

    Runs still unrecorded after ``wait_seconds`` (their daemon died or cannot reach the store)
    are recorded here; a daemon that is alive still kills their processes once it sees them
    gone with the job.
    """
    by = f" by {who}" if who else ""
    reason = f"stopped: job {job.name!r} deleted{by}"
    now = datetime.now(UTC)
    with store.transaction():
        store.jobs.get(job.id, lock=True)
        ended = [execution.id for execution in store.executions.active_of_job(job.id)]
        disabled = dataclasses.replace(job, is_enabled=False)
        store.jobs.update(
            job.id,
            JobChanges(settings=disabled, changed=frozenset({"is_enabled"}), next=NO_NEXT_SLOT, updated_at=now,
                       updated_by=who),
        )  # fmt: skip
        store.executions.skip_waiting(
            job.id,
            now=now,
            retry_reason=f"job deleted{by} before the retry was due",
            other_reason=f"job deleted{by} before the run started",
        )
        stopping = [execution.id for execution in store.executions.request_stop(job.id, reason)]
        store.cluster.bump_generation()
    for execution_id in still_running_after(store, stopping, wait_seconds):
        record_unconfirmed_stop(store, execution_id, ExecutionStatus.FAILED, reason, wait_seconds)
    return ended
