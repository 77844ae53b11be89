"""A job's executions over a window, read lean for its timeline (``jobctl jobs why``).

A month of a minutely job is 43,200 executions: only the columns a timeline shows are read
(no results, no output), through the ``(job_id, created_at)`` index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jobctl.models import ExecutionStatus, TriggeredBy
from jobctl.store.database import Database, Row, to_utc

CLAIM_SLACK = timedelta(minutes=1)
"""A slot's execution is written up to a little before the slot (claimed ahead): read that much earlier."""

_COLUMNS = """id, status, scheduled_for, started_at, completed_at, error_message, triggered_by,
    triggered_by_user_id, attempt, missed_count, missed_until, created_at"""


@dataclass(frozen=True, kw_only=True)
class RunRow:
    """What a timeline shows of one execution."""

    id: str
    status: ExecutionStatus
    scheduled_for: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    error_message: str | None
    triggered_by: TriggeredBy
    triggered_by_user_id: str | None
    attempt: int
    missed_count: int | None
    missed_until: datetime | None
    created_at: datetime

    @property
    def moment(self) -> datetime:
        """Where the row sits in time: its slot, else when it started, else when it was made."""
        return self.scheduled_for or self.started_at or self.created_at


class HistoryRecords:
    """Lean reads of a job's executions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def runs_between(self, job_id: str, since: datetime, until: datetime) -> list[RunRow]:
        """Executions written in the window (and a minute before it), oldest first, missed ranges
        excluded (see :meth:`missed_overlapping`)."""
        rows = self.db.fetch_all(
            f"""
            SELECT {_COLUMNS} FROM executions
            WHERE job_id = :job_id AND created_at >= :since AND created_at <= :until AND status <> :missed
            ORDER BY created_at, id
            """,
            {"job_id": job_id, "since": since - CLAIM_SLACK, "until": until, "missed": ExecutionStatus.MISSED.value},
        )
        return [_run(row) for row in rows]

    def missed_overlapping(self, job_id: str, since: datetime, until: datetime) -> list[RunRow]:
        """Missed ranges with a slot in the window, whenever they were written (a range is
        written when the scheduler comes back, possibly after the window)."""
        rows = self.db.fetch_all(
            f"""
            SELECT {_COLUMNS} FROM executions
            WHERE job_id = :job_id AND status = :missed AND scheduled_for <= :until AND missed_until >= :since
            ORDER BY scheduled_for
            """,
            {"job_id": job_id, "since": since, "until": until, "missed": ExecutionStatus.MISSED.value},
        )
        return [_run(row) for row in rows]

    def at_slot(self, job_id: str, slot: datetime) -> list[RunRow]:
        """The executions of one slot (every attempt) and the missed range holding it, if any."""
        rows = self.db.fetch_all(
            f"""
            SELECT {_COLUMNS} FROM executions
            WHERE job_id = :job_id AND (scheduled_for = :slot
                OR (status = :missed AND scheduled_for <= :slot AND missed_until >= :slot))
            ORDER BY attempt
            """,
            {"job_id": job_id, "slot": slot, "missed": ExecutionStatus.MISSED.value},
        )
        return [_run(row) for row in rows]


def _run(row: Row) -> RunRow:
    return RunRow(
        id=row["id"],
        status=ExecutionStatus(row["status"]),
        scheduled_for=to_utc(row["scheduled_for"]),
        started_at=to_utc(row["started_at"]),
        completed_at=to_utc(row["completed_at"]),
        error_message=row["error_message"],
        triggered_by=TriggeredBy(row["triggered_by"]),
        triggered_by_user_id=row["triggered_by_user_id"],
        attempt=int(row["attempt"]),
        missed_count=None if row["missed_count"] is None else int(row["missed_count"]),
        missed_until=to_utc(row["missed_until"]),
        created_at=_created(row["created_at"]),
    )


def _created(value: Any) -> datetime:
    moment = to_utc(value)
    assert moment is not None, "executions.created_at is NOT NULL"
    return moment
