"""Starting waiting executions: in slot order, never past ``maxInstances`` or a group's limit.

A waiting execution (a manual trigger, a retry that is due, a slot queued behind its job's
runs or waiting for its group) starts only in a transaction that locks its job's row and its
group's row, then counts what runs: the store, not this process's memory, keeps the limits,
so a second daemon, a retry or a failover cannot overshoot them (docs/concurrency-groups.md).
What is read before the transaction only picks the candidates and keeps each
``pendingReason`` current.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from jobctl.models import Execution, Job
from jobctl.scheduler.overlap import group_full, group_unknown, queued_behind
from jobctl.store import Store


class WaitingQueue:
    """What holds back each waiting execution, read once per tick for a batch of them."""

    def __init__(self, store: Store, waiting: Sequence[Execution]) -> None:
        self._running = store.executions.running_of_jobs(sorted({e.job_id for e in waiting}))
        self._limits = store.groups.limits()
        self._group_running = store.groups.running_by_group()

    def holding_back(self, job: Job) -> str | None:
        """Why a run of ``job`` cannot start now, or None."""
        running = self._running.get(job.id, [])
        if len(running) >= job.max_instances:
            return queued_behind(running[0])
        group = job.concurrency_group
        if group is None:
            return None
        limit = self._limits.get(group)
        if limit is None:
            return group_unknown(group)
        if self._group_running.get(group, 0) >= limit:
            return group_full(group)
        return None

    def started(self, job: Job, execution_id: str) -> None:
        self._running.setdefault(job.id, []).append(execution_id)
        if job.concurrency_group is not None:
            self._group_running[job.concurrency_group] = self._group_running.get(job.concurrency_group, 0) + 1


def start_waiting(
    store: Store,
    job: Job,
    execution: Execution,
    *,
    instance_id: str,
    now: datetime,
    on_started: Callable[[Execution], None] | None = None,
) -> Execution | None:
    """Take ``execution`` for this instance if its job and its group have room; else record
    why it waits. Returns the running execution, or None (it waits, or another took it).

    ``on_started`` runs inside the transaction that starts it (its ``start`` event is written
    with it or not at all)."""
    with store.transaction():
        store.jobs.get(job.id, lock=True)  # job before group, as the claim locks them
        reason = _held_back(store, job)
        if reason is not None:
            if reason != execution.pending_reason:
                store.executions.set_pending_reason(execution.id, reason)
            return None
        if not store.executions.mark_running(
            execution.id, instance_id=instance_id, started_at=now, concurrency_group=job.concurrency_group
        ):
            return None
        started = store.executions.get(execution.id)
        if started is not None and on_started is not None:
            on_started(started)
    return started


def _held_back(store: Store, job: Job) -> str | None:
    running = store.executions.running_of_jobs([job.id]).get(job.id, [])
    if len(running) >= job.max_instances:
        return queued_behind(running[0])
    group = job.concurrency_group
    if group is None:
        return None
    limit = store.groups.lock(group)
    if limit is None:
        return group_unknown(group)
    if store.groups.running(group) >= limit:
        return group_full(group)
    return None
