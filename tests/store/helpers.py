"""Stores filled with history of known age, written straight into the tables (fast enough for
hundreds of thousands of rows), for the retention, maintenance and paging tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from jobctl.store import Store
from jobctl.store.database import Database

NOW = datetime.now(UTC).replace(microsecond=0)
"""The tests' "now": the real time, since commands like ``store prune`` prune at the real time."""
SHELL_ID = 1

_EXECUTION_SQL = """
    INSERT INTO executions (id, job_id, status, scheduled_for, attempt, started_at, completed_at, duration_seconds,
        result, triggered_by, instance_id, created_at)
    VALUES (:id, :job_id, :status, :scheduled_for, 1, :created_at, :created_at, 0.1, '{"exitCode": 0}',
        'scheduler', :instance_id, :created_at)
"""


def add_job(db: Database, name: str) -> str:
    job_id = str(uuid.uuid4())
    db.execute(
        """
        INSERT INTO jobs (id, name, task_function_id, job_type_id, schedule_config, task_args, created_at, updated_at)
        VALUES (:id, :name, 1, 1, '{"minutes": 1}', '{"command": "true"}', :at, :at)
        """,
        {"id": job_id, "name": name, "at": NOW - timedelta(days=400)},
    )
    return job_id


def add_executions(
    db: Database,
    job_id: str,
    ages: Sequence[timedelta],
    *,
    status: str = "success",
    output: str | None = None,
    instance_id: str | None = None,
    manual: bool = False,
) -> list[str]:
    """One execution per age (created ``NOW - age``, each its own slot, or none when ``manual``),
    with ``output`` if given."""
    rows: list[dict[str, Any]] = []
    for age in ages:
        at = NOW - age
        slot = None if manual else at
        rows.append({"id": str(uuid.uuid4()), "job_id": job_id, "status": status, "scheduled_for": slot,
                     "created_at": at, "instance_id": instance_id})  # fmt: skip
    with db.transaction():
        db.execute_many(_EXECUTION_SQL, rows)
        if output is not None:
            db.execute_many(
                "INSERT INTO execution_output (execution_id, start_offset, data) VALUES (:id, 0, :data)",
                [{"id": row["id"], "data": output} for row in rows],
            )
    return [row["id"] for row in rows]


WHOLE_SECOND = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
"""A timestamp without microseconds: ``isoformat`` then writes none, and neither may the listing."""
FRACTION = datetime(2031, 5, 6, 7, 8, 9, 120, tzinfo=UTC)
"""Microseconds with leading zeros (``.000120``)."""

_EVERY_KIND_COLUMNS = (
    "id, job_id, celery_task_id, status, scheduled_for, run_after, attempt, started_at, completed_at, "
    "duration_seconds, result, error_message, triggered_by, triggered_by_user_id, instance_id, created_at, "
    "output_dropped_bytes, missed_count, missed_until, output_pruned, cancelled_by, pending_reason, "
    "concurrency_group"
)


def _runs_of_every_kind(job_id: str) -> list[dict[str, Any]]:
    """One row per case: each status, each source of ``pendingReason``, every column set or null."""
    base: dict[str, Any] = {
        "job_id": job_id, "celery_task_id": None, "status": "success", "scheduled_for": None, "run_after": None,
        "attempt": 1, "started_at": None, "completed_at": None, "duration_seconds": None, "result": None,
        "error_message": None, "triggered_by": "scheduler", "triggered_by_user_id": None, "instance_id": None,
        "output_dropped_bytes": 0, "missed_count": None, "missed_until": None, "output_pruned": False,
        "cancelled_by": None, "pending_reason": None, "concurrency_group": None,
    }  # fmt: skip
    cases: list[dict[str, Any]] = [
        {"status": "success", "scheduled_for": WHOLE_SECOND, "started_at": WHOLE_SECOND, "completed_at": FRACTION,
         "duration_seconds": 72.4, "result": '{"exitCode": 0, "note": "Ünïcødé \\u2603"}', "instance_id": "i-1"},
        {"status": "failed", "started_at": FRACTION, "completed_at": FRACTION, "duration_seconds": 0.0,
         "result": '{"exitCode": 1}', "error_message": "exit code 1: \"quoted\"\nsecond line",
         "output_dropped_bytes": 12345, "output_pruned": True, "attempt": 3},
        {"status": "timeout", "celery_task_id": "celery-1", "duration_seconds": 3, "result": "[1, 2]"},
        {"status": "running", "started_at": FRACTION, "instance_id": "i-2", "concurrency_group": "db"},
        {"status": "pending", "triggered_by": "retry", "run_after": FRACTION, "attempt": 2},
        {"status": "pending", "triggered_by": "retry", "run_after": WHOLE_SECOND, "pending_reason": "group db full"},
        {"status": "pending", "triggered_by": "manual", "triggered_by_user_id": "alice",
         "pending_reason": "queued behind 0b9e8a8e-1c7e-4d55-a1c6-3c8f8b8e2d11"},
        {"status": "pending", "triggered_by": "manual"},
        {"status": "skipped", "scheduled_for": FRACTION, "error_message": "2 runs active (maxInstances 2)",
         "pending_reason": "left from when it waited"},
        {"status": "missed", "scheduled_for": WHOLE_SECOND - timedelta(hours=1), "missed_count": 42,
         "missed_until": FRACTION, "error_message": "no daemon was leading"},
        {"status": "cancelled", "cancelled_by": "local:root", "completed_at": WHOLE_SECOND, "result": "null"},
        {"status": "success", "triggered_by": "manual", "result": '"done, \\"quoted\\""', "duration_seconds": 1e-05},
        {"status": "success", "triggered_by": "manual", "result": "true"},
    ]  # fmt: skip
    rows = []
    for n, case in enumerate(cases):
        created = (WHOLE_SECOND if n % 2 else FRACTION) - timedelta(minutes=n)
        rows.append({**base, **case, "id": str(uuid.uuid4()), "created_at": created})
    return rows


def add_runs_of_every_kind(db: Database, job_id: str) -> list[dict[str, Any]]:
    """A run of every kind (each status, each source of ``pendingReason``, every column set or
    null), written straight into ``executions``; the rows written, newest first."""
    rows = _runs_of_every_kind(job_id)
    names = ", ".join(":" + name.strip() for name in _EVERY_KIND_COLUMNS.split(","))
    db.execute_many(f"INSERT INTO executions ({_EVERY_KIND_COLUMNS}) VALUES ({names})", rows)
    return rows


def days(*values: float) -> list[timedelta]:
    return [timedelta(days=value) for value in values]


def ids_of(store: Store, job_id: str | None = None) -> set[str]:
    where = "WHERE job_id = :job" if job_id else ""
    params = {"job": job_id} if job_id else {}
    return {row["id"] for row in store.db.fetch_all(f"SELECT id FROM executions {where}", params)}


def output_rows(store: Store) -> int:
    return int(store.db.scalar("SELECT COUNT(*) FROM execution_output"))
