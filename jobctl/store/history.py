"""A job's executions over a window, read lean for its timeline (``jobctl jobs why``).

A month of a minutely job is 43,200 executions: only the columns a timeline shows are read
(no results, no output), through the ``(job_id, created_at)`` index, with the lateness computed
by the database.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from jobctl.models import ExecutionStatus, TriggeredBy
from jobctl.store.database import Database, Row, to_utc

_ACTIVE_PARAMS = {"pending": ExecutionStatus.PENDING.value, "running": ExecutionStatus.RUNNING.value}

CLAIM_SLACK = timedelta(minutes=1)
"""A slot's execution is written up to a little before the slot (claimed ahead): read that much earlier."""

_COLUMNS = """id, status, scheduled_for, started_at, completed_at, error_message, triggered_by,
    triggered_by_user_id, attempt, missed_count, missed_until, created_at"""

_LATENESS = {
    True: "(julianday(started_at) - julianday(scheduled_for)) * 86400.0",
    False: "EXTRACT(EPOCH FROM (started_at - scheduled_for))",
}
"""A run's start minus its slot, in seconds, computed by the database (no timestamp parsing per row)."""


class RunRow(NamedTuple):
    """What a timeline shows of one execution; built per row of a month of runs, so a plain tuple."""

    id: str
    status: str
    moment: datetime
    """Where the row sits in time: its slot, else when it started, else when it was made."""
    lateness: float | None
    """Start minus slot in seconds (None without both)."""
    error_message: str | None
    triggered_by: str
    triggered_by_user_id: str | None
    attempt: int
    started_at: datetime | None
    missed_count: int | None = None
    missed_until: datetime | None = None

    @property
    def scheduled(self) -> bool:
        return self.triggered_by == TriggeredBy.SCHEDULER.value


class HistoryRecords:
    """Lean reads of a job's executions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def runs_between(self, job_id: str, since: datetime, until: datetime) -> list[RunRow]:
        """Executions of the window (written in it, or a minute before), in time order, missed
        ranges excluded (see :meth:`missed_overlapping`). Lean: the lateness comes computed, and
        timestamps are parsed only for the moment each row sits at."""
        rows = self.db.fetch_all(
            f"""
            SELECT id, status, COALESCE(scheduled_for, started_at, created_at) AS moment,
                {_LATENESS[self.db.is_sqlite]} AS lateness, error_message, triggered_by, triggered_by_user_id,
                attempt, started_at
            FROM executions
            WHERE job_id = :job_id AND created_at >= :since AND created_at <= :until AND status <> :missed
            ORDER BY moment, attempt
            """,
            {"job_id": job_id, "since": since - CLAIM_SLACK, "until": until, "missed": ExecutionStatus.MISSED.value},
        )
        parse = _parse_text_time if self.db.is_sqlite else _as_utc
        found = []
        for row in rows:
            moment = parse(row["moment"])
            if since <= moment <= until:
                late = row["lateness"]
                found.append(
                    RunRow(
                        row["id"],
                        row["status"],
                        moment,
                        None if late is None else round(float(late), 3),
                        row["error_message"],
                        row["triggered_by"],
                        row["triggered_by_user_id"],
                        row["attempt"],
                        None if row["started_at"] is None else parse(row["started_at"]),
                    )
                )
        return found

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
        params = {"job_id": job_id, "slot": slot, "missed": ExecutionStatus.MISSED.value}
        rows = self.db.fetch_all(
            f"SELECT {_COLUMNS} FROM executions WHERE job_id = :job_id AND scheduled_for = :slot ORDER BY attempt",
            params,
        )  # the (job, slot, attempt) key
        rows += self.db.fetch_all(
            f"""
            SELECT {_COLUMNS} FROM executions
            WHERE status = :missed AND job_id = :job_id AND scheduled_for < :slot AND missed_until >= :slot
            """,
            params,
        )  # the status index: missed rows are few
        return [_run(row) for row in rows]

    def oldest_finished(self, job_id: str) -> datetime | None:
        """Where the job's oldest finished execution still stored sits in time (its slot, else its
        start, else its creation, as :attr:`RunRow.moment`); oldest in retention's order (by
        creation, then id): every finished one before it is gone, if retention removed any."""
        row = self.db.fetch_one(
            """
            SELECT COALESCE(scheduled_for, started_at, created_at) AS moment FROM executions
            WHERE job_id = :job_id AND status NOT IN (:pending, :running) ORDER BY created_at, id LIMIT 1
            """,
            {"job_id": job_id, **_ACTIVE_PARAMS},
        )  # the (job_id, created_at, id) index, from its oldest end
        return None if row is None else to_utc(row["moment"])

    def has_at_least(self, job_id: str, count: int) -> bool:
        """Whether the job has ``count`` executions or more: the ``count``-th newest, probed as the
        ``keep_per_job`` pruner orders them (at most ``count`` entries of one job's index)."""
        found = self.db.fetch_one(
            "SELECT id FROM executions WHERE job_id = :job_id ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET :skip",
            {"job_id": job_id, "skip": count - 1},
        )
        return found is not None


def _run(row: Row) -> RunRow:
    """A row of :data:`_COLUMNS` (the few missed ranges and one slot's executions)."""
    scheduled, started = to_utc(row["scheduled_for"]), to_utc(row["started_at"])
    moment = scheduled or started or to_utc(row["created_at"])
    assert moment is not None, "executions.created_at is NOT NULL"
    late = (started - scheduled).total_seconds() if scheduled and started else None
    return RunRow(
        row["id"], row["status"], moment, None if late is None else round(late, 3), row["error_message"],
        row["triggered_by"], row["triggered_by_user_id"], int(row["attempt"]), started,
        None if row["missed_count"] is None else int(row["missed_count"]), to_utc(row["missed_until"]),
    )  # fmt: skip


def _parse_text_time(value: str) -> datetime:
    """SQLite's fixed-width UTC text (``jobctl.store.database.format_sqlite_time``), parsed directly."""
    return datetime.fromisoformat(value)


def _as_utc(value: datetime) -> datetime:
    """Postgres hands back aware datetimes already (in the session's zone: compared as instants)."""
    return value
