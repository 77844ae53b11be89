"""Figures for monitoring: every job's latest outcome and run counts, read in three aggregate statements.

What ``GET /metrics`` shows per job comes from here, so every daemon (leader or standby) reports
the same values, and the cost of a scrape does not grow with a query per job: one statement reads
the jobs with their latest success and latest duration (index lookups, one pair per job), one
counts executions by job and status (one pass over an index), one counts the slots recorded as
skipped or missed (through the index on status). Statuses are counted as they are stored: a
status added later is counted without a change here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from jobctl.models import Execution, ExecutionStatus, TriggeredBy
from jobctl.store.database import Database, Row, to_utc
from jobctl.store.records import execution_from_row

_JOBS_SQL = """
    SELECT j.id, j.name, j.last_run_time, j.last_status, j.next_run_time,
        (SELECT MAX(e.completed_at) FROM executions e
            WHERE e.job_id = j.id AND e.status = :success) AS last_success_time,
        (SELECT e.duration_seconds FROM executions e
            WHERE e.job_id = j.id AND e.duration_seconds IS NOT NULL
            ORDER BY e.created_at DESC LIMIT 1) AS last_duration_seconds
    FROM jobs j
"""

_COUNTS_SQL = "SELECT job_id, status, COUNT(*) AS runs FROM executions GROUP BY job_id, status"
"""Reads only the index on (job_id, status, completed_at)."""

_SLOTS_SQL = """
    SELECT job_id, status, SUM(COALESCE(missed_count, 1)) AS slots FROM executions
    WHERE status IN (:skipped, :missed) AND scheduled_for IS NOT NULL
        AND (status = :missed OR triggered_by = :scheduler)
    GROUP BY job_id, status
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
        """Every job's figures, in no particular order (three statements, whatever the number of jobs)."""
        jobs = self.db.fetch_all(_JOBS_SQL, {"success": ExecutionStatus.SUCCESS.value})
        runs = _by_job(self.db.fetch_all(_COUNTS_SQL), "runs")
        slots = _by_job(self.db.fetch_all(_SLOTS_SQL, _SLOT_PARAMS), "slots")
        return list(_figures(jobs, runs, slots))

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


def _by_job(rows: Iterable[Row], column: str) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["job_id"], {})[row["status"]] = int(row[column])
    return counts


def _figures(
    jobs: Iterable[Row], runs: dict[str, dict[str, int]], slots: dict[str, dict[str, int]]
) -> Iterable[JobFigures]:
    for row in jobs:
        duration = row["last_duration_seconds"]
        yield JobFigures(
            job_id=row["id"],
            name=row["name"],
            last_run_time=to_utc(row["last_run_time"]),
            last_status=row["last_status"],
            last_success_time=to_utc(row["last_success_time"]),
            last_duration_seconds=None if duration is None else float(duration),
            next_run_time=to_utc(row["next_run_time"]),
            runs_by_status=runs.get(row["id"], {}),
            slots_by_status=slots.get(row["id"], {}),
        )
