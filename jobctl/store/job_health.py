"""What the store keeps about a job's recent outcomes and pauses: the failure streak, the last final
status, and who paused the job, when and why (docs/auto-pause.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobctl.models import Execution, ExecutionStatus, Job
from jobctl.store.cluster import BUMP_GENERATION_SQL
from jobctl.store.database import Database, Row, to_utc
from jobctl.store.records import execution_from_row, job_from_row, load_json


@dataclass(frozen=True, kw_only=True)
class FinalOutcome:
    """A job's streak after a final outcome."""

    job_id: str
    consecutive_failures: int
    last_final_status: str


@dataclass(frozen=True, kw_only=True)
class JobStreak:
    """What recording a final outcome needs to know of a job before deciding whether it needs the
    whole job: its streak, its own rules (None: the defaults) and its auto-pause limit."""

    job_id: str
    consecutive_failures: int
    notify: list[dict[str, Any]] | None
    pause_after_failures: int | None


def _streak(row: Row) -> JobStreak:
    return JobStreak(
        job_id=row["id"], consecutive_failures=int(row["consecutive_failures"]),
        notify=load_json(row["notify"]), pause_after_failures=row["pause_after_failures"],
    )  # fmt: skip


class JobHealthRecords:
    """Reads and writes the streak and pause columns of ``jobs``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get_many(self, job_ids: Sequence[str]) -> dict[str, Job]:
        """The jobs among ``job_ids`` that exist, by id (one query)."""
        if not job_ids:
            return {}
        keys = {f"j{n}": job_id for n, job_id in enumerate(dict.fromkeys(job_ids))}
        rows = self.db.fetch_all(f"SELECT * FROM jobs WHERE id IN ({', '.join(':' + k for k in keys)})", keys)
        return {row["id"]: job_from_row(row) for row in rows}

    def streaks(self, job_ids: Sequence[str]) -> dict[str, JobStreak]:
        """:class:`JobStreak` of the jobs among ``job_ids`` that exist, by id (one query of four columns)."""
        if not job_ids:
            return {}
        keys = {f"j{n}": job_id for n, job_id in enumerate(dict.fromkeys(job_ids))}
        rows = self.db.fetch_all(
            f"SELECT id, consecutive_failures, notify, pause_after_failures FROM jobs"
            f" WHERE id IN ({', '.join(':' + k for k in keys)})",
            keys,
        )
        return {row["id"]: _streak(row) for row in rows}

    def record_final_outcomes(self, outcomes: Sequence[FinalOutcome]) -> None:
        """Write each job's streak after its final outcome, only where it changed: a job that
        succeeds run after run keeps ``0`` and ``success``, and an update that writes the same
        values still makes a new version of the row on Postgres (with every index entry, when the
        page has no room) and a page in SQLite's log."""
        self.db.execute_many(
            "UPDATE jobs SET consecutive_failures = :streak, last_final_status = :status WHERE id = :id"
            " AND (consecutive_failures <> :streak OR last_final_status IS NULL OR last_final_status <> :status)",
            [{"streak": o.consecutive_failures, "status": o.last_final_status, "id": o.job_id} for o in outcomes],
        )

    def pause(self, job_id: str, *, reason: str, by: str, now: datetime) -> bool:
        """Pause an enabled, unpaused job (no next run until resumed); False if it already was.

        A pause is a change of the job, made ``by`` someone: ``updated_at`` and ``updated_by`` say
        so, as a manual pause sets them (the auto-pause used to move ``updated_at`` alone, and the
        job read "updated ... by" whoever had changed it before)."""
        changed = self.db.execute(
            """
            UPDATE jobs SET is_paused = :true, next_slot = NULL, next_run_time = NULL, paused_reason = :reason,
                paused_by = :by, paused_at = :now, updated_at = :now, updated_by = :by
            WHERE id = :id AND is_paused = :false
            """,
            {"true": True, "false": False, "reason": reason, "by": by, "now": now, "id": job_id},
        )
        if changed:
            self.db.execute(BUMP_GENERATION_SQL)
        return changed > 0

    def set_pause_note(self, job_id: str, *, reason: str | None, by: str | None, at: datetime | None) -> None:
        """Who paused the job, when and why; all None (a resume) also restarts its failure streak."""
        streak = "" if at is not None else ", consecutive_failures = 0"
        self.db.execute(
            f"UPDATE jobs SET paused_reason = :reason, paused_by = :by, paused_at = :at{streak} WHERE id = :id",
            {"reason": reason, "by": by, "at": at, "id": job_id},
        )

    def running_with_runtime_alert(self) -> list[tuple[Job, Execution]]:
        """Running executions of jobs that set ``max_runtime_alert_seconds``, with their job."""
        rows = self.db.fetch_all(
            """
            SELECT e.* FROM executions e JOIN jobs j ON j.id = e.job_id
            WHERE e.status = :running AND j.max_runtime_alert_seconds IS NOT NULL
            """,
            {"running": ExecutionStatus.RUNNING.value},
        )
        executions = [execution_from_row(row) for row in rows]
        jobs = self.get_many([e.job_id for e in executions])
        return [(jobs[e.job_id], e) for e in executions if e.job_id in jobs]

    def expecting_success(self) -> list[tuple[Job, datetime | None]]:
        """Enabled jobs that set ``expect_success_within_seconds``, each with its last success (or
        None), as ``job_run_stats`` counted it: a success pruned since still counts."""
        rows = self.db.fetch_all(
            "SELECT * FROM jobs WHERE expect_success_within_seconds IS NOT NULL AND is_enabled = :true",
            {"true": True},
        )
        jobs = [job_from_row(row) for row in rows]
        if not jobs:
            return []
        keys = {f"j{n}": job.id for n, job in enumerate(jobs)}
        last = self.db.fetch_all(  # kept by triggers (migration 0024): one row per job, and retention leaves it
            f"""
            SELECT job_id, latest_completed_at AS last_success FROM job_run_stats
            WHERE status = :success AND job_id IN ({", ".join(":" + k for k in keys)})
            """,
            {"success": ExecutionStatus.SUCCESS.value, **keys},
        )
        by_job = {row["job_id"]: to_utc(row["last_success"]) for row in last}
        return [(job, by_job.get(job.id)) for job in jobs]

    def own_rules(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """Each job with rules of its own (``notify`` not null, not empty): its name and its rules,
        by name. Read at a daemon's start and at each reload to find jobs naming a notifier the
        config lacks (two narrow columns of every job, once)."""
        rows = self.db.fetch_all("SELECT name, notify FROM jobs WHERE notify IS NOT NULL ORDER BY name")
        found = [(str(row["name"]), load_json(row["notify"])) for row in rows]
        return [(name, rules) for name, rules in found if isinstance(rules, list) and rules]
