"""Executions: every run, skip and retry of a job, and the output each one printed."""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobctl.models import Execution, ExecutionStatus, TriggeredBy
from jobctl.store.database import Database, Row, UniqueViolation
from jobctl.store.records import dump_json, execution_from_row
from jobctl.store.text import optional_text, storable_json, storable_text
from jobctl.store.writes import NewExecution

OUTPUT_LIMIT_CHARS = 1_000_000
"""Output kept per execution: its last this many characters (docs/output-limit.md)."""

ACTIVE = (ExecutionStatus.PENDING.value, ExecutionStatus.RUNNING.value)
ACTIVE_SQL = f"status IN ('{ACTIVE[0]}', '{ACTIVE[1]}')"
"""The condition of the partial index ``ix_executions_job_active`` (migration 0026), written out
with the statuses themselves: a query about a job's active runs says it in these words, so that
SQLite (and Postgres, with prepared statements) can tell it implies the index's condition, which
a bound parameter hides from them (docs/scale-query-plans.md)."""

_FINISH_SQL = """
    UPDATE executions SET
        status = CASE WHEN cancelled_by IS NOT NULL AND :status <> :success THEN :cancelled ELSE :status END,
        completed_at = :completed_at, pending_reason = NULL,
        started_at = COALESCE(:started_at, started_at),
        duration_seconds = :duration, result = :result, error_message = :error
    WHERE id = :id AND status IN (:pending, :running)
"""

_FINISH_RUN_PG_SQL = f"""
    WITH finished AS ({_FINISH_SQL} RETURNING job_id, status)
    UPDATE jobs SET last_run_time = :started_at, last_status = finished.status
    FROM finished WHERE jobs.id = finished.job_id
"""
"""A run that someone cancelled (``cancelled_by``) and that did not succeed is ``cancelled``,
even when it ended on its own before its daemon saw the request (docs/cancelling-runs.md)."""

_JOB_LAST_RUN_SQLITE_SQL = """
    UPDATE jobs SET last_run_time = :started_at, last_status = (SELECT status FROM executions WHERE id = :id)
    WHERE id = (SELECT job_id FROM executions WHERE id = :id)
"""


@dataclass(frozen=True)
class StopRequest:
    """Why a running execution is asked to stop: ``reason`` becomes its error message; a
    cancel (``cancelled_by`` set) is recorded ``cancelled``, a forced delete ``failed``."""

    reason: str
    cancelled_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class FinishedRun:
    """The outcome of one run, as :meth:`ExecutionRecords.finish_runs` records it."""

    execution_id: str
    status: str
    started_at: datetime
    completed_at: datetime
    duration_seconds: float | None
    result: Any
    error_message: str | None


def _finish_params(run: FinishedRun) -> dict[str, Any]:
    return {
        "status": run.status, "started_at": run.started_at, "completed_at": run.completed_at,
        "duration": run.duration_seconds, "result": dump_json(storable_json(run.result)),
        "error": optional_text(run.error_message),
        "id": run.execution_id, "pending": ACTIVE[0], "running": ACTIVE[1],
        "success": ExecutionStatus.SUCCESS.value, "cancelled": ExecutionStatus.CANCELLED.value,
    }  # fmt: skip


_INSERTED = tuple(f.name for f in dataclasses.fields(NewExecution))
_INSERT_SQL = (
    f"INSERT INTO executions ({', '.join(_INSERTED)}) VALUES ({', '.join(f':{name}' for name in _INSERTED)})"
    " ON CONFLICT DO NOTHING"
)


def _insert_row(new: NewExecution) -> dict[str, Any]:
    row = {name: getattr(new, name) for name in _INSERTED}
    row.update(status=new.status.value, triggered_by=new.triggered_by.value)
    return row


def _inserted(new: NewExecution) -> Execution:
    """The record of an execution just inserted, without reading it back."""
    return Execution(**{name: getattr(new, name) for name in _INSERTED}, duration_seconds=None, result=None)


@dataclass(frozen=True, kw_only=True)
class ExecutionFilter:
    """The filters of ``GET /executions``; times compare with ``created_at`` (``since`` included,
    ``until`` not)."""

    job_id: str | None = None
    status: str | None = None
    id_prefix: str | None = None
    """The start of the id in lower case (hex digits and dashes: no LIKE escaping needed)."""
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses: builtins.list[str] = []
        params: dict[str, Any] = {}
        for column, operator, value in (
            ("job_id", "=", self.job_id), ("status", "=", self.status), ("created_at", ">=", self.since),
            ("created_at", "<", self.until),
        ):  # fmt: skip
            if value is not None:
                key = f"filter_{len(params)}"
                clauses.append(f"{column} {operator} :{key}")
                params[key] = value
        if self.id_prefix:
            clauses.append("id LIKE :id_prefix")
            params["id_prefix"] = self.id_prefix + "%"
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


class ExecutionRecords:
    """Reads and writes the ``executions`` and ``execution_output`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, new: NewExecution) -> Execution | None:
        """Store a new execution; None when its ``(job, scheduledFor, attempt)`` is already taken."""
        # ON CONFLICT rather than catching the error: a failed INSERT aborts a surrounding Postgres
        # transaction (a claim batch), while this must only report the taken slot.
        inserted = self.db.execute(_INSERT_SQL, _insert_row(new))
        return _inserted(new) if inserted else None

    def insert_many(self, news: Sequence[NewExecution]) -> builtins.list[Execution | None]:
        """:meth:`insert` for many executions (one round trip on Postgres)."""
        if not news:
            return []
        counts = self.db.execute_many(_INSERT_SQL, [_insert_row(new) for new in news])
        return [_inserted(new) if count else None for new, count in zip(news, counts, strict=True)]

    def get(self, execution_id: str) -> Execution | None:
        row = self.db.fetch_one("SELECT * FROM executions WHERE id = :id", {"id": execution_id})
        return execution_from_row(row) if row else None

    def list(
        self, *, job_id: str | None, status: str | None, limit: int, offset: int, id_prefix: str | None = None
    ) -> tuple[builtins.list[Execution], int]:
        """One page, newest first, and the total for the filters.

        ``id_prefix`` is the start of the id in lower case (hex digits and dashes, no LIKE escaping).
        """
        where, params = ExecutionFilter(job_id=job_id, status=status, id_prefix=id_prefix).where()
        total = int(self.db.scalar(f"SELECT COUNT(*) FROM executions {where}", params))
        rows = self.db.fetch_all(
            f"SELECT * FROM executions {where} ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        return [execution_from_row(row) for row in rows], total

    def count(self, filters: ExecutionFilter) -> int:
        where, params = filters.where()
        return int(self.db.scalar(f"SELECT COUNT(*) FROM executions {where}", params))

    def page(
        self, filters: ExecutionFilter, *, limit: int, offset: int = 0, after: Execution | None = None,
        before: Execution | None = None,
    ) -> tuple[builtins.list[Execution], bool]:  # fmt: skip
        """Up to ``limit`` executions newest first, and whether more follow in the walk's direction.

        Keyset paging (docs/keyset-paging.md): ``after`` gives the ones listed after that
        execution (older), ``before`` the ones listed before it (newer, the nearest of them), by
        ``(created_at, id)``, so rows recorded meanwhile never shift a walk. The cursor's test is a
        row value: Postgres reads it as a range of the index, where the same test spelt with
        ``OR`` is a filter over every newer row (150,001 rows read for a page halfway through
        300,000; docs/scale-query-plans.md).
        """
        where, params = filters.where()
        clauses = [where.removeprefix("WHERE ")] if where else []
        order = "DESC"
        if after is not None:
            clauses.append("(created_at, id) < (:cursor_at, :cursor_id)")
            params.update(cursor_at=after.created_at, cursor_id=after.id)
        elif before is not None:
            clauses.append("(created_at, id) > (:cursor_at, :cursor_id)")
            params.update(cursor_at=before.created_at, cursor_id=before.id)
            order = "ASC"
        condition = "WHERE " + " AND ".join(clauses) if clauses else ""
        rows = self.db.fetch_all(
            f"SELECT * FROM executions {condition} ORDER BY created_at {order}, id {order} LIMIT :limit OFFSET :offset",
            {**params, "limit": limit + 1, "offset": offset},
        )
        more = len(rows) > limit
        found = [execution_from_row(row) for row in rows[:limit]]
        return (found[::-1] if order == "ASC" else found), more

    def page_rows(
        self, filters: ExecutionFilter, *, limit: int, after: tuple[datetime, str] | None = None
    ) -> tuple[builtins.list[Row], bool]:
        """The rows of up to ``limit`` executions newest first, as stored, after the key
        ``(created_at, id)`` (from the newest without one), and whether more follow: the query
        of :meth:`page` after a cursor, for a walk that builds the API's items straight from the
        rows (``GET /executions/stream``), an :class:`Execution` in between costing more than
        the rest of the walk."""
        where, params = filters.where()
        clauses = [where.removeprefix("WHERE ")] if where else []
        if after is not None:
            clauses.append("(created_at, id) < (:cursor_at, :cursor_id)")
            params.update(cursor_at=after[0], cursor_id=after[1])
        condition = "WHERE " + " AND ".join(clauses) if clauses else ""
        rows = self.db.fetch_all(
            f"SELECT * FROM executions {condition} ORDER BY created_at DESC, id DESC LIMIT :limit",
            {**params, "limit": limit + 1},
        )
        return rows[:limit], len(rows) > limit

    def count_active(self, job_id: str) -> int:
        return int(
            self.db.scalar(
                f"SELECT COUNT(*) FROM executions WHERE job_id = :job_id AND {ACTIVE_SQL}",
                {"job_id": job_id},
            )
        )

    def active_counts(self, job_ids: builtins.list[str]) -> dict[str, int]:
        """Active executions per job, for many jobs in one query (jobs with none are absent)."""
        if not job_ids:
            return {}
        keys = {f"j{n}": job_id for n, job_id in enumerate(job_ids)}
        rows = self.db.fetch_all(
            f"""
            SELECT job_id, COUNT(*) AS active FROM executions
            WHERE {ACTIVE_SQL} AND job_id IN ({", ".join(":" + key for key in keys)})
            GROUP BY job_id
            """,
            keys,
        )
        return {row["job_id"]: int(row["active"]) for row in rows}

    def startable(self, now: datetime, *, limit: int) -> builtins.list[Execution]:
        """Pending executions whose ``run_after`` has come, in the order they became due (a
        waiting slot or a retry by its due moment, a manual trigger by when it was made)."""
        rows = self.db.fetch_all(
            """
            SELECT * FROM executions WHERE status = :pending AND (run_after IS NULL OR run_after <= :now)
            ORDER BY COALESCE(run_after, created_at), created_at, id LIMIT :limit
            """,
            {"pending": ExecutionStatus.PENDING.value, "now": now, "limit": limit},
        )
        return [execution_from_row(row) for row in rows]

    def earliest_run_after(self, now: datetime | None = None) -> datetime | None:
        """When the next delayed pending execution (a retry, a slot claimed ahead) becomes
        startable; with ``now``, later than it only (one already due waits for a run to end,
        which wakes the scheduler)."""
        from jobctl.store.database import to_utc

        later = "AND run_after > :now" if now is not None else "AND run_after IS NOT NULL"
        return to_utc(
            self.db.scalar(
                f"SELECT MIN(run_after) FROM executions WHERE status = :pending {later}",
                {"pending": ExecutionStatus.PENDING.value, "now": now},
            )
        )

    def mark_running(
        self, execution_id: str, *, instance_id: str, started_at: datetime, concurrency_group: str | None = None
    ) -> bool:
        """Take a pending execution for this instance, counted against ``concurrency_group``;
        False if another instance took it first."""
        return (
            self.db.execute(
                """
                UPDATE executions SET status = :running, instance_id = :instance_id, started_at = :started_at,
                    pending_reason = NULL, concurrency_group = :group
                WHERE id = :id AND status = :pending
                """,
                {
                    "running": ExecutionStatus.RUNNING.value,
                    "pending": ExecutionStatus.PENDING.value,
                    "instance_id": instance_id,
                    "started_at": started_at,
                    "group": concurrency_group,
                    "id": execution_id,
                },
            )
            > 0
        )

    def set_pending_reason(self, execution_id: str, reason: str | None) -> None:
        """Say why a pending execution still waits."""
        self.db.execute(
            "UPDATE executions SET pending_reason = :reason WHERE id = :id AND status = :pending",
            {"reason": reason, "id": execution_id, "pending": ExecutionStatus.PENDING.value},
        )

    def running_of_jobs(self, job_ids: builtins.list[str]) -> dict[str, builtins.list[str]]:
        """The running executions of each job (ids, the longest running first); jobs with none are absent."""
        if not job_ids:
            return {}
        keys = {f"j{n}": job_id for n, job_id in enumerate(job_ids)}
        rows = self.db.fetch_all(
            f"""
            SELECT id, job_id FROM executions WHERE status = :running
            AND job_id IN ({", ".join(":" + key for key in keys)}) ORDER BY started_at, created_at, id
            """,
            {"running": ExecutionStatus.RUNNING.value, **keys},
        )
        found: dict[str, builtins.list[str]] = {}
        for row in rows:
            found.setdefault(row["job_id"], []).append(row["id"])
        return found

    def active_of_jobs(self, job_ids: builtins.list[str]) -> dict[str, builtins.list[Execution]]:
        """The pending and running executions of each job, oldest first; jobs with none are absent."""
        if not job_ids:
            return {}
        keys = {f"j{n}": job_id for n, job_id in enumerate(job_ids)}
        rows = self.db.fetch_all(
            f"""
            SELECT * FROM executions WHERE {ACTIVE_SQL}
            AND job_id IN ({", ".join(":" + key for key in keys)}) ORDER BY created_at, id
            """,
            keys,
        )
        found: dict[str, builtins.list[Execution]] = {}
        for row in rows:
            execution = execution_from_row(row)
            found.setdefault(execution.job_id, []).append(execution)
        return found

    def set_celery_task_id(self, execution_id: str, celery_task_id: str) -> None:
        self.db.execute(
            "UPDATE executions SET celery_task_id = :task WHERE id = :id", {"task": celery_task_id, "id": execution_id}
        )

    def finish(
        self,
        execution_id: str,
        *,
        status: str,
        started_at: datetime | None,
        completed_at: datetime,
        duration_seconds: float | None,
        result: Any,
        error_message: str | None,
    ) -> bool:
        """Record the outcome of an active execution; False if it had already finished.

        ``started_at`` replaces the claim time with the moment the process really started
        (None keeps what is stored).
        """
        return (
            self.db.execute(
                """
                UPDATE executions SET status = :status, completed_at = :completed_at, pending_reason = NULL,
                    started_at = COALESCE(:started_at, started_at),
                    duration_seconds = :duration, result = :result, error_message = :error
                WHERE id = :id AND status IN (:pending, :running)
                """,
                {
                    "status": status,
                    "started_at": started_at,
                    "completed_at": completed_at,
                    "duration": duration_seconds,
                    "result": dump_json(storable_json(result)),
                    "error": optional_text(error_message),
                    "id": execution_id,
                    "pending": ACTIVE[0],
                    "running": ACTIVE[1],
                },
            )
            > 0
        )

    def abandon(self, execution_id: str, *, completed_at: datetime, error: str, cancel_note: str) -> Execution | None:
        """Record an active execution of an instance that stopped heartbeating: ``failed`` with
        ``error``, or, when someone asked to cancel it (``cancelled_by``, set with the reason in
        ``stop_requested``), ``cancelled`` with that reason followed by ``cancel_note``, as the
        finish statement turns any marked outcome but success into ``cancelled``
        (docs/cancelling-runs.md). Decided in the statement, so a cancel marked since the
        execution was read counts. The row as recorded; None if it had already finished.
        """
        changed = self.db.execute(
            """
            UPDATE executions SET
                status = CASE WHEN cancelled_by IS NOT NULL THEN :cancelled ELSE :failed END,
                error_message = CASE WHEN cancelled_by IS NOT NULL
                    THEN COALESCE(stop_requested, 'cancelled by ' || cancelled_by) || :cancel_note ELSE :error END,
                completed_at = :completed_at, pending_reason = NULL, duration_seconds = NULL, result = NULL
            WHERE id = :id AND status IN (:pending, :running)
            """,
            {
                "cancelled": ExecutionStatus.CANCELLED.value,
                "failed": ExecutionStatus.FAILED.value,
                "cancel_note": cancel_note,
                "error": optional_text(error),
                "completed_at": completed_at,
                "id": execution_id,
                "pending": ACTIVE[0],
                "running": ACTIVE[1],
            },
        )
        return self.get(execution_id) if changed else None

    def finish_run(self, run: FinishedRun) -> bool:
        """:meth:`finish` plus the job's ``lastRunTime``/``lastStatus``; False if it had already finished.

        One round trip on Postgres (the hot path of every run); a transaction on SQLite.
        """
        params = _finish_params(run)
        if not self.db.is_sqlite:
            return self.db.execute(_FINISH_RUN_PG_SQL, params) > 0
        with self.db.transaction():
            if self.db.execute(_FINISH_SQL, params) == 0:
                return False
            self.db.execute(_JOB_LAST_RUN_SQLITE_SQL, params)
        return True

    def finish_runs(self, runs: Sequence[FinishedRun]) -> builtins.list[bool]:
        """:meth:`finish_run` for many runs in one transaction (one round trip on Postgres);
        whether each was recorded, in order.

        Runs that had already finished are left as they are, as by :meth:`finish_run`: another
        instance recorded them (a leader that took them for abandoned, a cancel that its daemon
        did not confirm in time), and that record stands.
        """
        params = [_finish_params(run) for run in runs]
        if not params:
            return []
        if not self.db.is_sqlite:
            return [changed > 0 for changed in self.db.execute_many(_FINISH_RUN_PG_SQL, params)]
        recorded = []
        with self.db.transaction():
            for one in params:
                finished = self.db.execute(_FINISH_SQL, one) > 0
                if finished:
                    self.db.execute(_JOB_LAST_RUN_SQLITE_SQL, one)
                recorded.append(finished)
        return recorded

    def active_of_job(self, job_id: str) -> builtins.list[Execution]:
        """The job's pending and running executions, oldest first."""
        rows = self.db.fetch_all(
            f"SELECT * FROM executions WHERE job_id = :job_id AND {ACTIVE_SQL} ORDER BY created_at, id",
            {"job_id": job_id},
        )
        return [execution_from_row(row) for row in rows]

    def request_stop(self, job_id: str, reason: str) -> builtins.list[Execution]:
        """Ask whoever runs the job's running executions to stop them (``reason`` becomes their
        error); returns those executions. The daemon running each sees it within a second."""
        self.db.execute(
            f"UPDATE executions SET stop_requested = :reason"
            f" WHERE job_id = :job_id AND {ACTIVE_SQL} AND status = :running",
            {"reason": reason, "job_id": job_id, "running": ACTIVE[1]},
        )
        rows = self.db.fetch_all(
            f"SELECT * FROM executions WHERE job_id = :job_id AND {ACTIVE_SQL} AND status = :running"
            " ORDER BY created_at, id",
            {"job_id": job_id, "running": ACTIVE[1]},
        )
        return [execution_from_row(row) for row in rows]

    def running_of_instance(self, instance_id: str) -> dict[str, StopRequest | None]:
        """This instance's running executions, each with why it was asked to stop (or None)."""
        rows = self.db.fetch_all(
            """
            SELECT id, stop_requested, cancelled_by FROM executions
            WHERE status = :running AND instance_id = :instance_id
            """,
            {"running": ACTIVE[1], "instance_id": instance_id},
        )
        return {
            row["id"]: StopRequest(row["stop_requested"], row["cancelled_by"]) if row["stop_requested"] else None
            for row in rows
        }

    def cancel_pending(self, execution_id: str, *, who: str, reason: str, now: datetime) -> bool:
        """End a pending execution as ``cancelled`` before it starts; False unless it was pending."""
        return (
            self.db.execute(
                """
                UPDATE executions SET status = :cancelled, completed_at = :now, error_message = :reason,
                    cancelled_by = :who, pending_reason = NULL
                WHERE id = :id AND status = :pending
                """,
                {
                    "cancelled": ExecutionStatus.CANCELLED.value,
                    "now": now,
                    "reason": reason,
                    "who": who,
                    "id": execution_id,
                    "pending": ACTIVE[0],
                },
            )
            > 0
        )

    def request_cancel(self, execution_id: str, *, who: str, reason: str) -> bool:
        """Ask the daemon running the execution to stop it and record it ``cancelled``;
        False unless it is running. The daemon sees it within a second."""
        return (
            self.db.execute(
                """
                UPDATE executions SET stop_requested = :reason, cancelled_by = :who
                WHERE id = :id AND status = :running
                """,
                {"reason": reason, "who": who, "id": execution_id, "running": ACTIVE[1]},
            )
            > 0
        )

    def still_running(self, execution_ids: Sequence[str]) -> builtins.list[str]:
        """Which of ``execution_ids`` are still running."""
        if not execution_ids:
            return []
        keys = {f"e{n}": value for n, value in enumerate(execution_ids)}
        rows = self.db.fetch_all(
            f"SELECT id FROM executions WHERE status = :running AND id IN ({', '.join(':' + key for key in keys)})",
            {"running": ACTIVE[1], **keys},
        )
        return [row["id"] for row in rows]

    def skip_waiting(self, job_id: str, *, now: datetime, retry_reason: str, other_reason: str) -> int:
        """End the job's pending executions without running them: ``skipped``, with the reason.

        Retries get ``retry_reason``, anything else (a manual trigger not started yet)
        ``other_reason``. Returns how many were ended.
        """
        return self.db.execute(
            f"""
            UPDATE executions SET status = :skipped, completed_at = :now, pending_reason = NULL,
                error_message = CASE WHEN triggered_by = :retry THEN :retry_reason ELSE :other_reason END
            WHERE job_id = :job_id AND {ACTIVE_SQL} AND status = :pending
            """,
            {
                "skipped": ExecutionStatus.SKIPPED.value,
                "now": now,
                "retry": TriggeredBy.RETRY.value,
                "retry_reason": retry_reason,
                "other_reason": other_reason,
                "job_id": job_id,
                "pending": ACTIVE[0],
            },
        )

    def release_to_pending(self, execution_id: str) -> None:
        """Give a claimed run that never started back, so any leader can start it."""
        self.db.execute(
            """
            UPDATE executions SET status = :pending, instance_id = NULL, started_at = NULL
            WHERE id = :id AND status = :running
            """,
            {"pending": ACTIVE[0], "running": ACTIVE[1], "id": execution_id},
        )

    def active_of_gone_instances(self) -> builtins.list[Execution]:
        """Active executions whose instance stopped or was forgotten (a stop that could not record them)."""
        rows = self.db.fetch_all(
            """
            SELECT * FROM executions WHERE status IN (:pending, :running) AND instance_id IS NOT NULL
            AND instance_id NOT IN (SELECT id FROM scheduler_instances WHERE stopped_at IS NULL)
            """,
            {"pending": ACTIVE[0], "running": ACTIVE[1]},
        )
        return [execution_from_row(row) for row in rows]

    def active_of_instances(self, instance_ids: builtins.list[str]) -> builtins.list[Execution]:
        """Active executions started by any of ``instance_ids``."""
        if not instance_ids:
            return []
        keys = {f"i{n}": value for n, value in enumerate(instance_ids)}
        rows = self.db.fetch_all(
            f"""
            SELECT * FROM executions WHERE status IN (:pending, :running)
            AND instance_id IN ({", ".join(":" + key for key in keys)})
            """,
            {"pending": ACTIVE[0], "running": ACTIVE[1], **keys},
        )
        return [execution_from_row(row) for row in rows]

    # -- output ---------------------------------------------------------------------------

    def append_output(
        self, execution_id: str, start_offset: int, data: str, *, dropped_bytes: int | None = None
    ) -> None:
        """Store a chunk of output at ``start_offset``; drop chunks wholly before the kept tail.

        Offsets count characters from the start of the run's output, dropped or not. Rows are
        only ever inserted and deleted, never rewritten, so a fast producer costs a bounded
        number of writes per flush and the store keeps about the tail's size. ``dropped_bytes``,
        when given, is the run's new ``output_dropped_bytes``.
        """
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO execution_output (execution_id, start_offset, data) VALUES (:id, :offset, :data)",
                {"id": execution_id, "offset": start_offset, "data": storable_text(data)},
            )
            horizon = start_offset + len(data) - OUTPUT_LIMIT_CHARS
            if horizon > 0:
                self.db.execute(
                    """
                    DELETE FROM execution_output WHERE execution_id = :id AND start_offset < :horizon
                    AND start_offset + LENGTH(data) <= :horizon
                    """,
                    {"id": execution_id, "horizon": horizon},
                )
            if dropped_bytes is not None:
                self.db.execute(
                    "UPDATE executions SET output_dropped_bytes = :dropped WHERE id = :id",
                    {"id": execution_id, "dropped": dropped_bytes},
                )

    def read_output(self, execution_id: str, offset: int, *, max_chars: int = OUTPUT_LIMIT_CHARS) -> tuple[str, int]:
        """Output from ``offset`` on and the offset after it: where what was read ends.

        Only the last :data:`OUTPUT_LIMIT_CHARS` characters are kept: a read from before them
        starts where the kept tail starts (a stored chunk may begin a little earlier). A read
        from past the end gives nothing and the end (the output's size so far, 0 for none), not
        the offset asked for: a client that follows from ``nextOffset`` then reads what is
        printed next instead of waiting for the output to grow past a number it never reached.
        """
        rows = self.db.fetch_all(
            """
            SELECT start_offset, data FROM execution_output WHERE execution_id = :id
            AND start_offset + LENGTH(data) > :offset ORDER BY start_offset
            """,
            {"id": execution_id, "offset": offset},
        )
        if not rows:
            return "", min(offset, self._output_end(execution_id))
        end = int(rows[-1]["start_offset"]) + len(str(rows[-1]["data"]))
        parts: builtins.list[str] = []
        size = 0
        position = max(offset, end - OUTPUT_LIMIT_CHARS)
        for row in rows:
            start, data = int(row["start_offset"]), str(row["data"])
            if start + len(data) <= position:
                continue
            position = max(position, start)
            piece = data[position - start :]
            if size + len(piece) > max_chars:
                break
            parts.append(piece)
            size += len(piece)
            position = start + len(data)
        return "".join(parts), position

    def _output_end(self, execution_id: str) -> int:
        """The offset after the last character stored for the run (0 when it stored none): the
        end of its last chunk, found by the primary key without reading the others."""
        row = self.db.fetch_one(
            """
            SELECT start_offset + LENGTH(data) AS output_end FROM execution_output WHERE execution_id = :id
            ORDER BY start_offset DESC LIMIT 1
            """,
            {"id": execution_id},
        )
        return 0 if row is None else int(row["output_end"])

    def with_output(self, execution_ids: Sequence[str]) -> set[str]:
        """Those of ``execution_ids`` that stored any output (one query for a batch of outcomes)."""
        if not execution_ids:
            return set()
        keys = {f"e{n}": value for n, value in enumerate(dict.fromkeys(execution_ids))}
        in_ids = ", ".join(":" + key for key in keys)
        sql = f"SELECT DISTINCT execution_id FROM execution_output WHERE execution_id IN ({in_ids})"
        rows = self.db.fetch_all(sql, keys)
        return {str(row["execution_id"]) for row in rows}

    def output_tail(self, execution_id: str, max_chars: int) -> str:
        """The last ``max_chars`` characters of output (for error messages)."""
        rows = self.db.fetch_all(
            "SELECT data FROM execution_output WHERE execution_id = :id ORDER BY start_offset DESC LIMIT 20",
            {"id": execution_id},
        )
        return "".join(str(row["data"]) for row in reversed(rows))[-max_chars:]


__all__ = ["OUTPUT_LIMIT_CHARS", "ExecutionRecords", "StopRequest", "UniqueViolation"]
