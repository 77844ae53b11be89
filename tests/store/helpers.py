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


def days(*values: float) -> list[timedelta]:
    return [timedelta(days=value) for value in values]


def ids_of(store: Store, job_id: str | None = None) -> set[str]:
    where = "WHERE job_id = :job" if job_id else ""
    params = {"job": job_id} if job_id else {}
    return {row["id"] for row in store.db.fetch_all(f"SELECT id FROM executions {where}", params)}


def output_rows(store: Store) -> int:
    return int(store.db.scalar("SELECT COUNT(*) FROM execution_output"))
