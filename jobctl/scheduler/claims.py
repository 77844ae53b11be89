"""Claiming due slots: each slot of a job becomes at most one execution, whoever asks.

For every due job, one transaction (per batch) advances ``next_slot`` only if it still holds
the slot being claimed, and inserts the execution under the unique ``(job, scheduledFor,
attempt)`` key; the lease is re-checked in the same transaction. So two leaders, a failover or
a retried tick can never run a slot twice.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobctl.errors import ValidationFailed
from jobctl.models import Execution, ExecutionStatus, Job, JobType
from jobctl.notifier_config import NotifySettings
from jobctl.scheduler.missed import LeaderGap, MissedSlots, plan_missed
from jobctl.scheduler.overlap import GroupSeats, SlotDecision, decide_slot
from jobctl.schedules import Schedule, parse_schedule
from jobctl.schedules.timing import NextRun, run_after
from jobctl.service.notifications import scheduled_effects
from jobctl.store import Store
from jobctl.store.jobs import Advance
from jobctl.store.writes import NewExecution

log = logging.getLogger(__name__)

REPLACED_BY = "jobctl"
"""``cancelledBy`` of a run a slot replaced (``overlapPolicy: replace``): jobctl itself."""

_TEST_HOLD_SECONDS = float(os.environ.get("JOBCTL_TEST_CLAIM_HOLD_SECONDS") or 0)
"""For tests only: stay this long inside every claim transaction, right after the first lease
check, so that a test can freeze a leader mid-claim (tests/cluster/test_frozen_claim.py)."""


@dataclass(frozen=True, kw_only=True)
class Claim:
    """A claimed slot ready to run (``execution.status == running``) at ``due_at``."""

    job: Job
    execution: Execution
    due_at: datetime
    """The slot's due moment (the slot plus jitter): a slot claimed ahead starts then, not before."""


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
    fence: timedelta,
    schedules: ScheduleCache,
    misfire_grace: timedelta,
    notify: NotifySettings | None = None,
    gap: LeaderGap | None = None,
) -> list[Claim]:
    """Claim the current slot of each due job; returns the executions to start now.

    A slot that finds ``maxInstances`` runs active is ``skipped``, waits, or replaces the oldest
    run, as its job's ``overlapPolicy`` says; one whose concurrency group is full waits
    (:mod:`jobctl.scheduler.overlap`). A slot claimed
    more than ``misfire_grace`` late means every slot from it on that is that late too was
    missed; a slot after them within the grace runs as on time, and without one ``run_once`` runs
    the last missed slot, ``skip`` none. The others become one ``missed`` row (why: ``gap``, the
    time no daemon led before this term, or a late scheduler; :mod:`.missed`), and the job moves
    on from the slot within the grace, else to its next future slot. The whole batch is two statements, each sent
    for all jobs at once: advance every job, then insert the executions of those that moved.

    The transaction commits only if this instance still holds term ``term`` of the lease with
    ``fence`` of it left by the store's clock, checked first and again last thing before the
    commit, without locking the lease row (docs/exactly-once.md).
    """
    try:
        with store.transaction():
            if not store.cluster.holds_lease(instance_id, term, for_at_least=fence):
                log.warning("lease lost before claiming; not claiming")
                return []
            if _TEST_HOLD_SECONDS:
                time.sleep(_TEST_HOLD_SECONDS)
            rows, inserted = _claim_in_transaction(store, jobs, now, instance_id, schedules, misfire_grace, gap)
            if notify is not None:  # start, late, skipped and missed events commit with the claims
                written = [  # a waiting slot's start event is written when it starts
                    (plan.job, execution) for (plan, _), execution in zip(rows, inserted, strict=True)
                    if execution and execution.status != ExecutionStatus.PENDING
                ]  # fmt: skip
                scheduled_effects(store, notify, written, now=now, default_timezone=schedules.default_timezone)
            if not store.cluster.holds_lease(instance_id, term, for_at_least=fence):
                raise _LeaseLost
    except _LeaseLost:
        log.warning("lease lost while claiming; the claims were rolled back")
        return []
    claims: list[Claim] = []
    for (plan, row), execution in zip(rows, inserted, strict=True):
        if row.status == ExecutionStatus.MISSED:
            continue
        if execution is None:
            log.warning("slot %s of job %s was already claimed", plan.slot.isoformat(), plan.job.name)
        elif row.status == ExecutionStatus.RUNNING:
            claims.append(Claim(job=plan.job, execution=execution, due_at=plan.due_at))
    return claims


class _LeaseLost(Exception):
    """Raised inside a claim transaction to roll it back: the lease ran out meanwhile."""


def _claim_in_transaction(
    store: Store,
    jobs: list[Job],
    now: datetime,
    instance_id: str,
    schedules: ScheduleCache,
    misfire_grace: timedelta,
    gap: LeaderGap | None,
) -> tuple[list[tuple[_Plan, NewExecution]], list[Execution | None]]:
    """Advance every due job and insert the executions of those that moved (running, waiting or
    skipped) and their missed ranges."""
    active = store.executions.active_of_jobs([job.id for job in jobs])
    plans = [plan for job in jobs if (plan := _plan(store, job, now, schedules, misfire_grace, gap)) is not None]
    moved = store.jobs.advance_many([plan.advance for plan in plans], now=now)
    rows: list[tuple[_Plan, NewExecution]] = []
    claimed: list[tuple[_Plan, datetime, MissedSlots | None]] = []
    for plan, advanced in zip(plans, moved, strict=True):
        if not advanced:
            continue
        outcome = plan.missed
        if outcome is None:
            claimed.append((plan, plan.slot, None))
            continue
        if outcome.catch_up is not None:
            claimed.append((plan, outcome.catch_up, outcome))
        elif outcome.missed is not None:
            rows.append((plan, _logged_missed(plan.job, outcome.missed)))
    seats = _lock_groups(store, {plan.job.concurrency_group for plan, _, _ in claimed})
    for plan, slot, late in claimed:
        decision = decide_slot(plan.job, slot, active.get(plan.job.id, []), seats)
        _apply_side_effects(store, decision, now)
        # The missed row says what became of the catch-up slot, known only now: a queued manual
        # trigger or a run still going may have taken its place (docs/missed-slots.md).
        missed = late.row(decision) if late is not None else None
        if missed is not None:
            rows.append((plan, _logged_missed(plan.job, missed)))
        rows.append((plan, _row(plan, slot, decision, now, instance_id)))
    inserted = store.executions.insert_many([row for _, row in rows])
    return rows, inserted


def _logged_missed(job: Job, missed: NewExecution) -> NewExecution:
    log.info(
        "job %s missed %d slot(s) from %s: %s", job.name, missed.missed_count or 0,
        missed.scheduled_for.isoformat() if missed.scheduled_for else "?", missed.error_message,
    )  # fmt: skip
    return missed


def _lock_groups(store: Store, groups: set[str | None]) -> GroupSeats:
    """Lock each group's row (in name order, so two transactions never wait on each other) and
    count its free places: the group's limit less its running executions."""
    free: dict[str, int | None] = {}
    for group in sorted(name for name in groups if name is not None):
        limit = store.groups.lock(group)
        free[group] = None if limit is None else limit - store.groups.running(group)
    return GroupSeats(free)


def _apply_side_effects(store: Store, decision: SlotDecision, now: datetime) -> None:
    """End the waiting executions the slot supersedes and have the runs it replaces cancelled,
    as a cancel does (docs/cancelling-runs.md), by :data:`REPLACED_BY`."""
    for ending in decision.ending:
        if ending.status == ExecutionStatus.CANCELLED:
            store.executions.cancel_pending(ending.execution_id, who=REPLACED_BY, reason=ending.reason, now=now)
            continue
        store.executions.finish(
            ending.execution_id, status=ending.status.value, started_at=None, completed_at=now,
            duration_seconds=None, result=None, error_message=ending.reason,
        )  # fmt: skip
    for execution_id in decision.stopping:
        assert decision.stop_reason is not None
        log.info("stopping execution %s: %s", execution_id, decision.stop_reason)
        store.executions.request_cancel(execution_id, who=REPLACED_BY, reason=decision.stop_reason)


def _row(plan: _Plan, slot: datetime, decision: SlotDecision, now: datetime, instance_id: str) -> NewExecution:
    job = plan.job
    if decision.action == "skip":
        assert decision.reason is not None
        return NewExecution.skipped_slot(job, slot, now=now, reason=decision.reason)
    if decision.action == "wait":
        assert decision.reason is not None
        return NewExecution.waiting_slot(job, slot, now=now, due_at=plan.due_at, reason=decision.reason)
    start_at = max(now, plan.due_at)  # until the outcome records the moment the process started
    return NewExecution.for_slot(job, slot, now=now, start_at=start_at, instance_id=instance_id)


@dataclass(frozen=True, kw_only=True)
class _Plan:
    """Where a due job moves next, worked out before anything is written."""

    job: Job
    schedule: Schedule
    slot: datetime
    due_at: datetime
    missed: MissedSlots | None
    """What becomes of the slots behind a job claimed more than the grace late (None: on time)."""
    advance: Advance


def _plan(
    store: Store, job: Job, now: datetime, schedules: ScheduleCache, misfire_grace: timedelta, gap: LeaderGap | None
) -> _Plan | None:
    slot = job.next_slot
    if slot is None or job.next_run_time is None:
        return None
    try:
        schedule = schedules.get(job)
    except ValidationFailed as exc:
        log.error("job %s has an invalid schedule, disabling it: %s", job.name, exc.message)
        store.jobs.advance(job.id, expected_slot=slot, next_slot=None, next_run_time=None, disable=True, now=now)
        return None
    missed = None
    if now - job.next_run_time > misfire_grace:
        # Only a late claim works the range out; the job moves on from the slot within the grace
        # that it claims as on time, else from now (docs/missed-slots.md).
        missed = plan_missed(job, schedule, now=now, gap=gap, misfire_grace=misfire_grace)
    resume = slot
    if missed is not None:
        resume = missed.catch_up if missed.on_time and missed.catch_up is not None else now
    following: NextRun = run_after(schedule, resume)
    return _Plan(
        job=job,
        schedule=schedule,
        slot=slot,
        due_at=job.next_run_time,
        missed=missed,
        advance=Advance(
            job_id=job.id,
            expected_slot=slot,
            next_slot=following.slot,
            next_run_time=following.run_time,
            disable=job.job_type_id == JobType.DATE and following.slot is None,
        ),
    )
