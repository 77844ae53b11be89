"""Typed values the store writes: a new job, a job's changes, a new execution.

The service and the scheduler build these; only the store knows the columns behind them. A
job's settings are the fields of :class:`~jobctl.models.JobSettings` (each stored in the column
of the same name), so a new setting needs no change here.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jobctl.models import Execution, ExecutionStatus, Job, JobSettings, TriggeredBy

SETTINGS = frozenset(f.name for f in dataclasses.fields(JobSettings))
"""The names of the settings a job has."""

SKIPPED_PREFIX = "skipped: "
"""How the ``errorMessage`` of a slot the scheduler skipped begins (the API's wording:
"skipped: 1 run(s) still active and maxInstances is 1")."""


def skipped_because(why: str) -> str:
    """The ``errorMessage`` of a slot skipped for ``why``."""
    return SKIPPED_PREFIX + why


def why_skipped(error_message: str) -> str:
    """The reason in a skipped row's ``errorMessage``, without the :data:`SKIPPED_PREFIX` it may
    start with, for texts that say "skipped" themselves."""
    return error_message.removeprefix(SKIPPED_PREFIX)


def retry_at(run_after: datetime) -> str:
    """``retry at 2026-12-07T12:04:06Z``: when a waiting retry is due, as its ``pendingReason``
    and a skip it causes say it (to the second)."""
    return f"retry at {run_after.astimezone(UTC).isoformat(timespec='seconds').replace('+00:00', 'Z')}"


def retry_due(pending_reason: str | None) -> datetime | None:
    """When a waiting retry is due, read back from its ``pendingReason`` (:func:`retry_at`); None
    for any other reason."""
    if not pending_reason or not pending_reason.startswith("retry at "):
        return None
    try:
        return datetime.fromisoformat(pending_reason.removeprefix("retry at ").replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True, kw_only=True)
class NextSlot:
    """The slot a job is due at next and the moment to run it (with jitter); both None: none."""

    slot: datetime | None
    run_time: datetime | None


NO_NEXT_SLOT = NextSlot(slot=None, run_time=None)


@dataclass(frozen=True, kw_only=True)
class NewJob:
    """A job to insert: its settings, its first slot, and who made it when."""

    id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    settings: JobSettings
    next: NextSlot
    created_at: datetime
    created_by: str | None


@dataclass(frozen=True, kw_only=True)
class JobChanges:
    """A change to a stored job: the ``changed`` settings take their values from ``settings``
    (the job's settings after the change); ``next`` is None when the next slot stays as it is.

    Only the changed settings are written, so a concurrent change of other fields (the
    scheduler disabling a finished one-shot job, say) is not undone.
    """

    settings: JobSettings
    changed: frozenset[str]
    next: NextSlot | None
    updated_at: datetime
    updated_by: str | None

    def __post_init__(self) -> None:
        unknown = self.changed - SETTINGS
        if unknown:
            raise ValueError(f"not job settings: {sorted(unknown)}")

    def values(self) -> dict[str, Any]:
        """The changed settings by name."""
        return {name: getattr(self.settings, name) for name in sorted(self.changed)}


@dataclass(frozen=True, kw_only=True)
class NewExecution:
    """An execution to insert. Build one with :meth:`for_slot`, :meth:`skipped_slot`,
    :meth:`missed_range`, :meth:`manual` or :meth:`retry_of`, which set its status, trigger and attempt consistently."""

    id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    job_id: str
    status: ExecutionStatus
    triggered_by: TriggeredBy
    created_at: datetime
    attempt: int = 1
    scheduled_for: datetime | None = None
    run_after: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    error_message: str | None = None
    triggered_by_user_id: str | None = None
    instance_id: str | None = None
    celery_task_id: str | None = None
    missed_count: int | None = None
    missed_until: datetime | None = None
    pending_reason: str | None = None
    concurrency_group: str | None = None

    @classmethod
    def for_slot(cls, job: Job, slot: datetime, *, now: datetime, start_at: datetime, instance_id: str) -> NewExecution:
        """A scheduled slot claimed by ``instance_id``: ``running`` from ``start_at`` (the outcome
        later records the moment the process really started)."""
        return cls(
            job_id=job.id,
            status=ExecutionStatus.RUNNING,
            triggered_by=TriggeredBy.SCHEDULER,
            created_at=now,
            scheduled_for=slot,
            started_at=start_at,
            instance_id=instance_id,
            concurrency_group=job.concurrency_group,
        )

    @classmethod
    def waiting_slot(cls, job: Job, slot: datetime, *, now: datetime, due_at: datetime, reason: str) -> NewExecution:
        """A scheduled slot that cannot start yet (queued behind the job's runs, or its group is
        full): ``pending`` with the reason, startable from its due moment (docs/overlap.md)."""
        return cls(
            job_id=job.id,
            status=ExecutionStatus.PENDING,
            triggered_by=TriggeredBy.SCHEDULER,
            created_at=now,
            scheduled_for=slot,
            run_after=due_at,
            pending_reason=reason,
            concurrency_group=job.concurrency_group,
        )

    @classmethod
    def skipped_slot(cls, job: Job, slot: datetime, *, now: datetime, reason: str) -> NewExecution:
        """A scheduled slot that does not run (``maxInstances`` reached), recorded ``skipped`` with
        why (``reason``, "1 run(s) still active ...", after :data:`SKIPPED_PREFIX`)."""
        return cls(
            job_id=job.id,
            status=ExecutionStatus.SKIPPED,
            triggered_by=TriggeredBy.SCHEDULER,
            created_at=now,
            scheduled_for=slot,
            completed_at=now,
            error_message=skipped_because(reason),
        )

    @classmethod
    def missed_range(
        cls, job: Job, *, first: datetime, last: datetime, count: int, now: datetime, reason: str
    ) -> NewExecution:
        """Slots ``first`` .. ``last`` (``count`` of them) that were due and never ran, as one
        ``missed`` row: ``scheduled_for`` is the first, ``missed_until`` the last."""
        return cls(
            job_id=job.id,
            status=ExecutionStatus.MISSED,
            triggered_by=TriggeredBy.SCHEDULER,
            created_at=now,
            scheduled_for=first,
            completed_at=now,
            error_message=reason,
            missed_count=count,
            missed_until=last,
        )

    @classmethod
    def manual(cls, job: Job, *, now: datetime, user_id: str | None, celery_task_id: str | None) -> NewExecution:
        """A manual trigger: ``pending`` until the daemon starts it."""
        return cls(
            job_id=job.id,
            status=ExecutionStatus.PENDING,
            triggered_by=TriggeredBy.MANUAL,
            created_at=now,
            triggered_by_user_id=user_id,
            celery_task_id=celery_task_id,
            concurrency_group=job.concurrency_group,
        )

    @classmethod
    def retry_of(cls, previous: Execution, *, now: datetime, run_after: datetime) -> NewExecution:
        """The next attempt after a failed or timed-out run: ``pending`` until ``run_after``."""
        return cls(
            job_id=previous.job_id,
            status=ExecutionStatus.PENDING,
            triggered_by=TriggeredBy.RETRY,
            created_at=now,
            attempt=previous.attempt + 1,
            scheduled_for=previous.scheduled_for,
            run_after=run_after,
            triggered_by_user_id=previous.triggered_by_user_id,
            concurrency_group=previous.concurrency_group,
            pending_reason=retry_at(run_after),
        )
