"""Figures for monitoring: every job's latest outcome and run counts, read in a few aggregate statements.

What ``GET /metrics`` shows per job comes from here, so every daemon (leader or standby) reports
the same values, and the cost of a scrape does not grow with a query per job. A read compares
each job with what the reader already has (:meth:`FigureRecords.job_figure_changes`): three
cheap statements read every job's row, its executions counted by status with the latest
completion of each status (one pass over a covering index) and its skipped and missed slots;
only the jobs whose answer differs from the previous read are converted and get their latest
duration looked up (an index seek and a row fetch per job, the costly part). Statuses are
counted as they are stored: a status added later is counted without a change here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from jobctl.models import Execution, ExecutionStatus, TriggeredBy
from jobctl.store.database import Database, Row, to_utc
from jobctl.store.records import execution_from_row

_JOBS_SQL = "SELECT id, name, last_run_time, last_status, next_run_time FROM jobs"

_COUNTS_SQL = """
    SELECT job_id, status, COUNT(*) AS runs, MAX(completed_at) AS latest FROM executions
    GROUP BY job_id, status ORDER BY job_id, status
"""
"""Reads only the index on (job_id, status, completed_at). ``latest`` of ``success`` is the last
success; with the count it also tells a reader whether a job's executions changed (a run that
finishes, a row inserted or deleted moves one of them)."""

_DURATION_SQL = """
    SELECT j.id, (SELECT e.duration_seconds FROM executions e
            WHERE e.job_id = j.id AND e.duration_seconds IS NOT NULL
            ORDER BY e.created_at DESC LIMIT 1) AS duration
    FROM jobs j
"""
"""The duration of each job's latest execution that has one; the costliest read per job."""

DURATION_BATCH = 500
"""Jobs whose durations are looked up in one statement (bound parameters in an ``IN`` list)."""

_SLOTS_SQL = """
    SELECT job_id, status, SUM(COALESCE(missed_count, 1)) AS slots FROM executions
    WHERE status IN (:skipped, :missed) AND scheduled_for IS NOT NULL
        AND (status = :missed OR triggered_by = :scheduler)
    GROUP BY job_id, status ORDER BY job_id, status
"""
"""A missed row stands for ``missed_count`` slots; a skipped row for one, if the scheduler made it
(a manual run skipped because its job was disabled is not a slot)."""


@dataclass(frozen=True, kw_only=True)
class JobFigures:
    """One job as monitoring sees it."""

    job_id: str
    name: str
    last_run_time: datetime | None
    last_status: str | None
    last_success_time: datetime | None
    """When the latest successful run completed."""
    last_duration_seconds: float | None
    """How long the latest run that has a duration took (skips and missed slots have none)."""
    next_run_time: datetime | None
    runs_by_status: dict[str, int] = field(default_factory=dict)
    """Executions of the job by stored status (statuses with none are left out)."""
    slots_by_status: dict[str, int] = field(default_factory=dict)
    """Scheduled slots recorded without a run: ``skipped`` and ``missed`` (a missed row may stand for many)."""

    @property
    def running(self) -> int:
        return self.runs_by_status.get(ExecutionStatus.RUNNING.value, 0)


@dataclass(frozen=True, kw_only=True)
class ClusterFigures:
    """The store's view of the daemons: the lease's current term and the live instances."""

    lease_term: int
    live_instances: int
    round_trip_seconds: float
    """How long one trivial statement took to come back from the store."""


JobSignature = tuple[object, ...]
"""What one read said about a job, as stored (compared, never interpreted)."""


@dataclass(frozen=True, kw_only=True)
class FigureChanges:
    """One read of every job's figures, against what the reader had."""

    changed: list[JobFigures]
    """Jobs that are new or whose figures may differ from the reader's; the others are unchanged."""
    removed: list[str]
    """Ids of jobs the reader had that no longer exist."""
    signatures: dict[str, JobSignature]
    """Every job's signature at this read: give it to the next read as ``known``."""


@dataclass(frozen=True)
class NamedRow:
    """An execution with the name of its job."""

    execution: Execution
    job_name: str


class FigureRecords:
    """Reads for monitoring; nothing here writes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def job_figures(self) -> list[JobFigures]:
        """Every job's figures, in no particular order (four statements, whatever the number of jobs)."""
        return self.job_figure_changes({}).changed

    def job_figure_changes(self, known: Mapping[str, JobSignature]) -> FigureChanges:
        """Every job whose figures changed since the read that returned the signatures ``known``.

        A job's signature is its row's monitored columns, its execution count and latest
        completion per status, and its slot counts, as stored: a run that starts, finishes or is
        deleted, a job renamed, moved on or deleted changes it. The latest duration is not in it
        (reading it is what costs): it changes only with an execution that finishes or is
        deleted, which moves a count or a latest completion.
        """
        jobs = self.db.fetch_all(_JOBS_SQL)
        runs = _group_by_job(self.db.fetch_all(_COUNTS_SQL))
        slots = _group_by_job(self.db.fetch_all(_SLOTS_SQL, _SLOT_PARAMS))
        signatures: dict[str, JobSignature] = {}
        changed_rows: list[Row] = []
        for row in jobs:
            job_id = row["id"]
            signature = (tuple(row.values()), runs.get(job_id, ()), slots.get(job_id, ()))
            signatures[job_id] = signature
            if known.get(job_id) != signature:
                changed_rows.append(row)
        durations = self._durations([row["id"] for row in changed_rows], everyone=len(changed_rows) == len(jobs))
        changed = [_figures(row, runs.get(row["id"], ()), slots.get(row["id"], ()), durations) for row in changed_rows]
        return FigureChanges(
            changed=changed, removed=[job_id for job_id in known if job_id not in signatures], signatures=signatures
        )

    def _durations(self, job_ids: list[str], *, everyone: bool) -> dict[str, float]:
        """The latest duration of each of ``job_ids``: one statement for every job, else batches of ids."""
        if not job_ids:
            return {}
        if everyone:
            rows = self.db.fetch_all(_DURATION_SQL)
        else:
            rows = []
            for start in range(0, len(job_ids), DURATION_BATCH):
                batch = {f"id_{n}": job_id for n, job_id in enumerate(job_ids[start : start + DURATION_BATCH])}
                keys = ", ".join(f":{key}" for key in batch)
                rows.extend(self.db.fetch_all(f"{_DURATION_SQL} WHERE j.id IN ({keys})", batch))
        return {row["id"]: float(row["duration"]) for row in rows if row["duration"] is not None}

    def named_executions(self, statuses: Sequence[str], *, limit: int, oldest_first: bool = False) -> list[NamedRow]:
        """The latest (or oldest) ``limit`` executions in ``statuses``, each with its job's name."""
        names = {f"status_{index}": status for index, status in enumerate(statuses)}
        rows = self.db.fetch_all(
            f"""
            SELECT e.*, j.name AS job_name FROM executions e JOIN jobs j ON j.id = e.job_id
            WHERE e.status IN ({", ".join(f":{key}" for key in names)})
            ORDER BY e.created_at {"ASC" if oldest_first else "DESC"}, e.id LIMIT :limit
            """,
            {**names, "limit": limit},
        )
        return [NamedRow(execution=execution_from_row(row), job_name=row["job_name"]) for row in rows]

    def upcoming(self, *, limit: int) -> list[tuple[str, str, datetime]]:
        """``(job id, name, next run time)`` of the ``limit`` jobs due soonest."""
        rows = self.db.fetch_all(
            "SELECT id, name, next_run_time FROM jobs WHERE next_run_time IS NOT NULL "
            "ORDER BY next_run_time, id LIMIT :limit",
            {"limit": limit},
        )
        return [(row["id"], row["name"], _required(to_utc(row["next_run_time"]))) for row in rows]

    def cluster_figures(self) -> ClusterFigures:
        """The lease term and the count of instances that have not stopped, timed as a round trip."""
        started = time.perf_counter()
        row = self.db.fetch_one(
            """
            SELECT (SELECT COALESCE(MAX(term), 0) FROM leases) AS term,
                (SELECT COUNT(*) FROM scheduler_instances WHERE stopped_at IS NULL) AS live
            """
        )
        elapsed = time.perf_counter() - started
        assert row is not None
        return ClusterFigures(lease_term=int(row["term"]), live_instances=int(row["live"]), round_trip_seconds=elapsed)


_SLOT_PARAMS = {
    "skipped": ExecutionStatus.SKIPPED.value,
    "missed": ExecutionStatus.MISSED.value,
    "scheduler": TriggeredBy.SCHEDULER.value,
}


def _required(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment


def _group_by_job(rows: list[Row]) -> dict[str, tuple[tuple[Any, ...], ...]]:
    """Each job's ``(job id, status, figure...)`` rows, in the statement's order (by job, then status)."""
    return {job_id: tuple(group) for job_id, group in groupby(map(tuple, map(dict.values, rows)), itemgetter(0))}


def _figures(
    row: Row,
    runs: tuple[tuple[Any, ...], ...],
    slots: tuple[tuple[Any, ...], ...],
    durations: dict[str, float],
) -> JobFigures:
    runs_by_status = {str(status): int(count) for _, status, count, _ in runs}
    success = [latest for _, status, _, latest in runs if status == ExecutionStatus.SUCCESS.value]
    return JobFigures(
        job_id=row["id"],
        name=row["name"],
        last_run_time=to_utc(row["last_run_time"]),
        last_status=row["last_status"],
        last_success_time=to_utc(success[0]) if success else None,
        last_duration_seconds=durations.get(row["id"]),
        next_run_time=to_utc(row["next_run_time"]),
        runs_by_status=runs_by_status,
        slots_by_status={str(status): int(count) for _, status, count in slots},
    )
