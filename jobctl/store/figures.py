"""Figures for monitoring: every job's latest outcome and run counts, read three statements per 5,000 jobs.

What ``GET /metrics`` shows per job comes from here, so every daemon (leader or standby) reports
the same values, and the cost of a scrape grows with the jobs, not with the executions kept. The
counts of finished runs, the slots, the latest completion and duration per status are kept in
``job_run_stats`` by triggers on ``executions`` (migration 0024, docs/metrics.md): a read is the
jobs' rows, that table (a row per job and finished status) and the running executions (a range
of the status index). A read compares each job with what the reader already has
(:meth:`FigureRecords.job_figure_chunks`) and converts only the jobs whose answer differs.
Statuses are counted as they are stored: a status added later is counted without a change here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from jobctl.models import Execution, ExecutionStatus
from jobctl.store.database import Database, Row, to_utc
from jobctl.store.records import execution_from_row

FAILURES = (ExecutionStatus.FAILED.value, ExecutionStatus.TIMEOUT.value)
FAILURES_SQL = f"status IN ('{FAILURES[0]}', '{FAILURES[1]}')"
"""The condition of the partial index ``ix_executions_failures`` (migration 0028), written out
with the statuses themselves, as ``ACTIVE_SQL`` in :mod:`jobctl.store.executions` is: a bound
parameter would hide from both stores that the query implies the index's condition."""

_RECENT_FAILURES_SQL = f"""
    SELECT e.*, j.name AS job_name FROM executions e {{hint}} JOIN jobs j ON j.id = e.job_id
    WHERE e.{FAILURES_SQL} ORDER BY e.completed_at DESC, e.id DESC LIMIT :limit
"""


def recent_failures_sql(db: Database) -> str:
    """The query of :meth:`FigureRecords.recent_failures` on ``db``'s backend.

    SQLite is told the index (``INDEXED BY``): with no statistics on a jobctl store its planner
    prefers the equality on ``status`` of ``ix_executions_status_created_id``, which reads every
    failure kept and sorts them (a million at 10,000,000 runs) for the newest 20. Postgres
    picks the index by itself.
    """
    return _RECENT_FAILURES_SQL.format(hint="INDEXED BY ix_executions_failures" if db.is_sqlite else "")


_JOBS_SQL = """
    SELECT id, name, last_run_time, last_status, next_run_time FROM jobs
    WHERE id > :after ORDER BY id LIMIT :limit
"""

FIGURES_CHUNK = 5000
"""Jobs read at a time (with their counter rows). Reading 100,000 jobs and their counters at once
took 230 MB for a moment, and the daemon kept the memory afterwards."""

_STATS_SQL = """
    SELECT job_id, status, runs, slots, latest_completed_at, last_duration_seconds, last_duration_created_at
    FROM job_run_stats WHERE job_id > :after AND job_id <= :last ORDER BY job_id, status
"""
"""Finished runs by job and status as the triggers counted them: never fewer after retention.
``latest_completed_at`` of ``success`` is the last success; the duration of the job's latest
created run that has one is the ``last_duration_seconds`` of its status with the latest
``last_duration_created_at``."""

_RUNNING_SQL = """
    SELECT job_id, COUNT(*) AS running FROM executions
    WHERE status = :running AND job_id > :after AND job_id <= :last
    GROUP BY job_id ORDER BY job_id
"""
"""Runs going on now: a gauge, read from the executions themselves (a range of the status index)."""


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
    """Finished executions of the job by status, as counted when they finished (retention does
    not lower them), and ``running``: the runs going on now. Statuses with none are left out."""
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


JobSignature = int
"""What one read said about a job: the hash of its values as stored (compared, never interpreted).

A hash, not the values: a daemon keeps one per job between reads, and at 100,000 jobs the values
themselves (the row, its counter rows) held 150 MB. Two different states with the same hash
would leave one job's lines as they were until its next change; with 64-bit hashes of 100,000
jobs that is about one chance in 10^14 per read."""


@dataclass(frozen=True, kw_only=True)
class FigureChunk:
    """A read's jobs of one span of ids (:data:`FIGURES_CHUNK` at most)."""

    changed: list[JobFigures]
    """Jobs of the span that are new or whose figures may differ from the reader's."""
    signatures: dict[str, JobSignature]
    """Every job of the span's signature."""


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
        """Every job's figures, by job id (three statements per :data:`FIGURES_CHUNK` jobs)."""
        return [figures for chunk in self.job_figure_chunks({}) for figures in chunk.changed]

    def job_figure_chunks(
        self, known: Mapping[str, JobSignature], *, chunk_size: int = FIGURES_CHUNK
    ) -> Iterator[FigureChunk]:
        """The jobs in spans of ids, each with what changed since the read that returned ``known``.

        A job's signature is its row's monitored columns, its ``job_run_stats`` rows and its
        count of running executions, as stored: a run that starts or finishes, a job renamed,
        moved on or deleted changes it; deleting executions (retention) does not. A reader that
        takes in each span before asking for the next holds one span's rows at a time.
        """
        after = ""
        while True:
            jobs = self.db.fetch_all(_JOBS_SQL, {"after": after, "limit": chunk_size})
            if not jobs:
                return
            span = {"after": after, "last": jobs[-1]["id"]}
            stats = _group_by_job(self.db.fetch_all(_STATS_SQL, span))
            running_rows = self.db.fetch_all(_RUNNING_SQL, {**span, "running": ExecutionStatus.RUNNING.value})
            running = {row["job_id"]: int(row["running"]) for row in running_rows}
            chunk = FigureChunk(changed=[], signatures={})
            for row in jobs:
                job_id = row["id"]
                job_stats, job_running = stats.get(job_id, ()), running.get(job_id, 0)
                signature = hash((tuple(row.values()), job_stats, job_running))
                chunk.signatures[job_id] = signature
                if known.get(job_id) != signature:
                    chunk.changed.append(_figures(row, job_stats, job_running))
            yield chunk
            if len(jobs) < chunk_size:
                return
            after = span["last"]

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

    def recent_failures(self, *, limit: int) -> list[NamedRow]:
        """The ``limit`` failed or timed-out runs that ended last, each with its job's name.

        By when they ended, not when they were created: a long run that has just failed comes
        before the quick failures that ended while it ran. A backward range read of
        ``ix_executions_failures`` that stops after ``limit`` rows (docs/scale-query-plans.md).
        """
        rows = self.db.fetch_all(recent_failures_sql(self.db), {"limit": limit})
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


def _required(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment


def _group_by_job(rows: list[Row]) -> dict[str, tuple[tuple[Any, ...], ...]]:
    """Each job's ``(job id, status, figure...)`` rows, in the statement's order (by job, then status)."""
    return {job_id: tuple(group) for job_id, group in groupby(map(tuple, map(dict.values, rows)), itemgetter(0))}


def _figures(row: Row, stats: tuple[tuple[Any, ...], ...], running: int) -> JobFigures:
    """A job's figures from its row, its ``job_run_stats`` rows (``_STATS_SQL``'s columns) and its running count."""
    runs_by_status = {str(status): int(runs) for _, status, runs, *_ in stats if runs}
    if running:
        runs_by_status[ExecutionStatus.RUNNING.value] = running
    success = [latest for _, status, _, _, latest, *_ in stats if status == ExecutionStatus.SUCCESS.value]
    durations = [(created, duration) for *_, duration, created in stats if created is not None]
    return JobFigures(
        job_id=row["id"],
        name=row["name"],
        last_run_time=to_utc(row["last_run_time"]),
        last_status=row["last_status"],
        last_success_time=to_utc(success[0]) if success else None,
        last_duration_seconds=float(max(durations, key=itemgetter(0))[1]) if durations else None,
        next_run_time=to_utc(row["next_run_time"]),
        runs_by_status=runs_by_status,
        slots_by_status={str(status): int(slots) for _, status, _, slots, *_ in stats if slots},
    )
