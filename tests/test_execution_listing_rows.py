"""``GET /executions/stream`` builds its items straight from the rows (``listed_execution``),
not through the :class:`~jobctl.models.Execution` record that ``GET /executions`` uses: the two
must give the same JSON, key for key and in the same order, for runs in every status and with
every column set, on both stores (SQLite keeps timestamps as text and booleans as 0/1,
Postgres as its own types)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.service.execution_listing import listed_execution
from jobctl.store import Store
from jobctl.store.executions import ExecutionFilter
from jobctl.store.records import execution_from_row
from jobctl.wire import responses
from tests.store.helpers import add_job

WHOLE_SECOND = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
"""A timestamp without microseconds: ``isoformat`` then writes none, and neither may the listing."""
FRACTION = datetime(2031, 5, 6, 7, 8, 9, 120, tzinfo=UTC)
"""Microseconds with leading zeros (``.000120``)."""

COLUMNS = ("id, job_id, celery_task_id, status, scheduled_for, run_after, attempt, started_at, completed_at, "
           "duration_seconds, result, error_message, triggered_by, triggered_by_user_id, instance_id, created_at, "
           "output_dropped_bytes, missed_count, missed_until, output_pruned, cancelled_by, pending_reason, "
           "concurrency_group")  # fmt: skip


def runs(job_id: str) -> list[dict[str, Any]]:
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
    ]  # fmt: skip
    rows = []
    for n, case in enumerate(cases):
        created = (WHOLE_SECOND if n % 2 else FRACTION) - timedelta(minutes=n)
        rows.append({**base, **case, "id": str(uuid.uuid4()), "created_at": created})
    return rows


def test_the_stream_items_equal_the_records_json_for_every_kind_of_run(store: Store) -> None:
    job_id = add_job(store.db, "j")
    wanted = runs(job_id)
    names = [name.strip() for name in COLUMNS.split(",")]
    store.db.execute_many(
        f"INSERT INTO executions ({COLUMNS}) VALUES ({', '.join(':' + name for name in names)})", wanted
    )
    rows, more = store.executions.page_rows(ExecutionFilter(), limit=100)
    assert len(rows) == len(wanted) and not more
    for row in rows:
        listed = listed_execution(row)
        recorded = responses.execution(execution_from_row(row))
        assert json.dumps(listed) == json.dumps(recorded), row["status"]
        assert list(listed) == list(recorded)

    service = Service(store, Caller(user_id="t", role=Role.ADMIN), default_timezone="UTC")
    streamed = [item for page in service.stream_executions() for item in page]
    page = service.list_executions(per_page=100)["executions"]
    assert json.dumps(streamed) == json.dumps(page) and len(page) == len(wanted)
    assert {item["pendingReason"] for item in streamed} >= {
        None,
        "group db full",
        "retry at 2031-05-06T07:08:09.000120Z",
    }
