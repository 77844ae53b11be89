"""What the store keeps about a job's recent outcomes and pauses: the failure streak, the last final
status, and who paused the job, when and why (docs/auto-pause.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from jobctl.models import Job
from jobctl.store.cluster import BUMP_GENERATION_SQL
from jobctl.store.database import Database
from jobctl.store.records import job_from_row


@dataclass(frozen=True, kw_only=True)
class FinalOutcome:
    """A job's streak after a final outcome."""

    job_id: str
    consecutive_failures: int
    last_final_status: str


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

    def record_final_outcomes(self, outcomes: Sequence[FinalOutcome]) -> None:
        self.db.execute_many(
            "UPDATE jobs SET consecutive_failures = :streak, last_final_status = :status WHERE id = :id",
            [{"streak": o.consecutive_failures, "status": o.last_final_status, "id": o.job_id} for o in outcomes],
        )

    def pause(self, job_id: str, *, reason: str, by: str, now: datetime) -> bool:
        """Pause an enabled, unpaused job (no next run until resumed); False if it already was."""
        changed = self.db.execute(
            """
            UPDATE jobs SET is_paused = :true, next_slot = NULL, next_run_time = NULL, paused_reason = :reason,
                paused_by = :by, paused_at = :now, updated_at = :now
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
