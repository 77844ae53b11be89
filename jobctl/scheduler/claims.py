"""Claiming due slots: each slot of a job becomes at most one execution, whoever asks.

For every due job, one transaction (per batch) advances ``next_slot`` only if it still holds
the slot being claimed, and inserts the execution under the unique ``(job, scheduledFor,
attempt)`` key; the lease is re-checked in the same transaction. So two leaders, a failover or
a retried tick can never run a slot twice.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jobctl.errors import ValidationFailed
from jobctl.models import Execution, ExecutionStatus, Job, JobType, MisfirePolicy, TriggeredBy
from jobctl.schedules import Schedule, parse_schedule
from jobctl.service.timing import NextRun, run_after
from jobctl.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Claim:
    """A claimed slot ready to run (``execution.status == running``)."""

    job: Job
    execution: Execution


class ScheduleCache:
    """Parsed schedules by job, rebuilt when the job changes (croniter parsing is not free)."""

    def __init__(self, default_timezone: str) -> None:
        self.default_timezone = default_timezone
        self._entries: dict[str, tuple[datetime, Schedule]] = {}

    def get(self, job: Job) -> Schedule:
        entry = self._entries.get(job.id)
        if entry is not None and entry[0] == job.updated_at:
            return entry[1]
        schedule = parse_schedule(
            job.job_type_id, job.schedule_config, default_timezone=self.default_timezone, anchor=job.created_at
        )
        self._entries[job.id] = (job.updated_at, schedule)
        return schedule


def claim_due_slots(
    store: Store,
    jobs: list[Job],
    *,
    now: datetime,
    instance_id: str,
    term: int,
    schedules: ScheduleCache,
    misfire_grace: timedelta,
) -> list[Claim]:
    """Claim the current slot of each due job; returns the executions to start now.

    Slots that find ``maxInstances`` runs active are recorded as ``skipped``. A slot missed by
    more than ``misfire_grace`` runs once (``run_once``) or not at all (``skip``), and the job
    moves on to its next future slot either way.
    """
    claims: list[Claim] = []
    with store.transaction():
        if not store.cluster.holds_lease(instance_id, term, now):
            log.warning("lease lost before claiming; not claiming")
            return []
        active = store.executions.active_counts([job.id for job in jobs])
        for job in jobs:
            claim = _claim_one(
                store,
                job,
                active=active.get(job.id, 0),
                now=now,
                instance_id=instance_id,
                schedules=schedules,
                misfire_grace=misfire_grace,
            )
            if claim is not None:
                claims.append(claim)
    return claims


def _claim_one(
    store: Store,
    job: Job,
    *,
    active: int,
    now: datetime,
    instance_id: str,
    schedules: ScheduleCache,
    misfire_grace: timedelta,
) -> Claim | None:
    slot = job.next_slot
    if slot is None or job.next_run_time is None:
        return None
    try:
        schedule = schedules.get(job)
    except ValidationFailed as exc:
        log.error("job %s has an invalid schedule, disabling it: %s", job.name, exc.message)
        store.jobs.advance(job.id, expected_slot=slot, next_slot=None, next_run_time=None, disable=True, now=now)
        return None
    missed = now - job.next_run_time > misfire_grace
    following: NextRun = run_after(schedule, now if missed else slot)
    one_shot_done = job.job_type_id == JobType.DATE and following.slot is None
    if not store.jobs.advance(
        job.id,
        expected_slot=slot,
        next_slot=following.slot,
        next_run_time=following.run_time,
        disable=one_shot_done,
        now=now,
    ):
        return None
    if missed and job.misfire_policy == MisfirePolicy.SKIP:
        log.info("job %s missed its slot %s; skipping it (misfire policy skip)", job.name, slot.isoformat())
        return None
    if active >= job.max_instances:
        _record_skip(store, job, slot, now, active)
        return None
    execution = store.executions.insert(_execution_row(job, slot, now, instance_id))
    if execution is None:
        log.warning("slot %s of job %s was already claimed", slot.isoformat(), job.name)
        return None
    return Claim(job=job, execution=execution)


def _execution_row(job: Job, slot: datetime, now: datetime, instance_id: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "job_id": job.id,
        "status": ExecutionStatus.RUNNING.value,
        "scheduled_for": slot,
        "attempt": 1,
        "started_at": now,
        "triggered_by": TriggeredBy.SCHEDULER.value,
        "instance_id": instance_id,
        "created_at": now,
    }


def _record_skip(store: Store, job: Job, slot: datetime, now: datetime, active: int) -> None:
    store.executions.insert(
        {
            "id": str(uuid.uuid4()),
            "job_id": job.id,
            "status": ExecutionStatus.SKIPPED.value,
            "scheduled_for": slot,
            "attempt": 1,
            "completed_at": now,
            "triggered_by": TriggeredBy.SCHEDULER.value,
            "error_message": f"skipped: {active} run(s) still active and maxInstances is {job.max_instances}",
            "created_at": now,
        }
    )
