"""What a due slot does, given its job's active runs and its concurrency group's free places.

A pure decision (:func:`decide_slot`), taken inside the claim transaction from rows read in it:
the slot starts, waits as ``pending`` (queued behind the job's runs, or its group full), or is
``skipped``; older waiting slots of the job may end, and with ``replace`` the oldest active
run is stopped and recorded ``cancelled`` (docs/overlap.md, docs/concurrency-groups.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from jobctl.models import Execution, ExecutionStatus, Job, OverlapPolicy, TriggeredBy
from jobctl.store.writes import retry_at, skipped_because


def moment(value: datetime) -> str:
    """A slot as reasons name it: ISO 8601 in UTC with a ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def group_full(group: str) -> str:
    return f"group {group} full"


def group_unknown(group: str) -> str:
    return f"group {group} is not declared in the daemon's [[concurrency_groups]]"


def queued_behind(execution_id: str) -> str:
    return f"queued behind {execution_id}"


@dataclass(frozen=True, kw_only=True)
class Ending:
    """A pending execution the slot ends without running it."""

    execution_id: str
    status: ExecutionStatus
    reason: str


@dataclass(frozen=True, kw_only=True)
class SlotDecision:
    """What the claim writes for one slot."""

    action: str
    """``start``, ``wait`` or ``skip``."""
    reason: str | None = None
    """Why it waits (its ``pendingReason``) or is skipped (``1 run(s) still active ...``, or what
    else holds the job's places, :func:`holding`; its ``errorMessage`` says ``skipped:`` before
    it, :func:`~jobctl.store.writes.skipped_because`)."""
    ending: list[Ending] = field(default_factory=list)
    stopping: list[str] = field(default_factory=list)
    """Running executions to stop and record ``cancelled`` (``replace``)."""
    stop_reason: str | None = None


class GroupSeats:
    """Free places per concurrency group within one transaction: ``None`` for a group no
    daemon declares. Filled by the caller (which locks each group's row first)."""

    def __init__(self, free: dict[str, int | None]) -> None:
        self._free = free

    def free(self, group: str) -> int | None:
        return self._free.get(group)

    def take(self, group: str) -> None:
        left = self._free.get(group)
        if left is not None:
            self._free[group] = left - 1


def decide_slot(job: Job, slot: datetime, active: Sequence[Execution], seats: GroupSeats) -> SlotDecision:
    """The fate of ``job``'s slot ``slot`` given its ``active`` executions (oldest first).

    Waiting slots of the job (``pending``, from the scheduler) are not runs: what counts against
    ``maxInstances`` is its running executions and its other pending ones (a manual trigger, a
    retry), as before overlap policies existed.
    """
    waiting = [e for e in active if e.status == ExecutionStatus.PENDING and e.triggered_by == TriggeredBy.SCHEDULER]
    busy = [e for e in active if e not in waiting]
    if len(busy) >= job.max_instances:
        return _overlapping(job, slot, busy, waiting)
    # The job has room, so a slot still waiting waits for its group: the next slot came first.
    ending = [_skipped_waiting(e, slot) for e in waiting]
    group = job.concurrency_group
    if group is None:
        return SlotDecision(action="start", ending=ending)
    free = seats.free(group)
    if free is None:
        return SlotDecision(action="wait", reason=group_unknown(group), ending=ending)
    if free <= 0:
        return SlotDecision(action="wait", reason=group_full(group), ending=ending)
    seats.take(group)
    return SlotDecision(action="start", ending=ending)


def _overlapping(job: Job, slot: datetime, busy: list[Execution], waiting: list[Execution]) -> SlotDecision:
    if job.overlap_policy == OverlapPolicy.QUEUE:
        if len(waiting) < job.max_queued:
            return SlotDecision(action="wait", reason=queued_behind(_oldest_running(busy).id))
        reason = f"{len(waiting)} slot(s) already queued and maxQueued is {job.max_queued}"
        return SlotDecision(action="skip", reason=reason)
    if job.overlap_policy == OverlapPolicy.REPLACE:
        replaced = f"replaced by the slot of {moment(slot)}"
        excess = len(busy) - job.max_instances + 1
        doomed = busy[:excess]
        ending = [Ending(execution_id=e.id, status=ExecutionStatus.CANCELLED, reason=replaced) for e in waiting]
        ending += [
            Ending(execution_id=e.id, status=ExecutionStatus.CANCELLED, reason=replaced)
            for e in doomed
            if e.status == ExecutionStatus.PENDING
        ]
        stopping = [e.id for e in doomed if e.status == ExecutionStatus.RUNNING]
        behind = stopping[0] if stopping else doomed[0].id
        return SlotDecision(
            action="wait",
            reason=f"{queued_behind(behind)}, which it replaces",
            ending=ending,
            stopping=stopping,
            stop_reason=replaced,
        )
    reason = f"{holding(busy)} and maxInstances is {job.max_instances}"
    ending = [_skipped_waiting(e, slot) for e in waiting]
    return SlotDecision(action="skip", reason=reason, ending=ending)


def holding(busy: Sequence[Execution]) -> str:
    """What holds the job's places, as a skip's reason says it: "1 run(s) still active", "a retry
    of this job waits (retry at T)", "2 manual runs wait to start", or several of them joined.

    A waiting retry or manual trigger counts against ``maxInstances`` (docs/overlap.md) though
    nothing of it runs yet: saying "still active" of it sent people looking for a process. The
    words for running executions are those the reason always had, which scripts may match.
    """
    running = [e for e in busy if e.status == ExecutionStatus.RUNNING]
    retries = [e for e in busy if e.status != ExecutionStatus.RUNNING and e.triggered_by == TriggeredBy.RETRY]
    others = [e for e in busy if e.status != ExecutionStatus.RUNNING and e.triggered_by != TriggeredBy.RETRY]
    parts = [f"{len(running)} run(s) still active"] if running else []
    if retries:
        due = sorted(e.run_after for e in retries if e.run_after is not None)
        when = f" ({'the first ' if len(retries) > 1 else ''}{retry_at(due[0])})" if due else ""
        waits = "a retry of this job waits" if len(retries) == 1 else f"{len(retries)} retries of this job wait"
        parts.append(waits + when)
    if others:
        parts.append("a manual run waits to start" if len(others) == 1 else f"{len(others)} manual runs wait to start")
    return ", ".join(parts)


def _oldest_running(busy: list[Execution]) -> Execution:
    running = [e for e in busy if e.status == ExecutionStatus.RUNNING]
    return (running or busy)[0]


def _skipped_waiting(execution: Execution, slot: datetime) -> Ending:
    why = execution.pending_reason or "still waiting"
    return Ending(
        execution_id=execution.id,
        status=ExecutionStatus.SKIPPED,
        reason=skipped_because(f"{why} until the next slot ({moment(slot)}) came"),
    )
