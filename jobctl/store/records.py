"""Rows as they come from either driver, turned into the frozen records of :mod:`jobctl.models`."""

from __future__ import annotations

import json
from typing import Any

from jobctl.models import ApiToken, Execution, Instance, Job, JobTypeRecord, Lease, TaskFunction
from jobctl.store.database import Row, to_utc


def load_json(value: Any) -> Any:
    """A JSON text column; Postgres may already hand back a parsed value."""
    if value is None or not isinstance(value, str):
        return value
    return json.loads(value)


def dump_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=False)


def _required_time(value: Any) -> Any:
    converted = to_utc(value)
    assert converted is not None, "a NOT NULL timestamp column was NULL"
    return converted


def task_function_from_row(row: Row) -> TaskFunction:
    return TaskFunction(
        id=int(row["id"]),
        name=row["name"],
        display_name=row["display_name"],
        description=row["description"],
        handler_type=row["handler_type"],
        handler_path=row["handler_path"],
        queue=row["queue"],
        default_timeout_seconds=row["default_timeout_seconds"],
        is_active=bool(row["is_active"]),
        is_system=bool(row["is_system"]),
        created_at=_required_time(row["created_at"]),
    )


def job_type_from_row(row: Row) -> JobTypeRecord:
    return JobTypeRecord(
        id=int(row["id"]), name=row["name"], display_name=row["display_name"], description=row["description"]
    )


def job_from_row(row: Row) -> Job:
    return Job(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        task_function_id=int(row["task_function_id"]),
        job_type_id=int(row["job_type_id"]),
        schedule_config=load_json(row["schedule_config"]),
        task_args=load_json(row["task_args"]),
        max_instances=int(row["max_instances"]),
        timeout_seconds=row["timeout_seconds"],
        retry_count=int(row["retry_count"]),
        retry_delay_seconds=int(row["retry_delay_seconds"]),
        is_enabled=bool(row["is_enabled"]),
        is_paused=bool(row["is_paused"]),
        misfire_policy=row["misfire_policy"],
        next_run_time=to_utc(row["next_run_time"]),
        next_slot=to_utc(row["next_slot"]),
        last_run_time=to_utc(row["last_run_time"]),
        last_status=row["last_status"],
        created_at=_required_time(row["created_at"]),
        updated_at=_required_time(row["updated_at"]),
        created_by=row["created_by"],
        updated_by=row["updated_by"],
    )


def execution_from_row(row: Row) -> Execution:
    duration = row["duration_seconds"]
    return Execution(
        id=row["id"],
        job_id=row["job_id"],
        celery_task_id=row["celery_task_id"],
        status=row["status"],
        scheduled_for=to_utc(row["scheduled_for"]),
        run_after=to_utc(row["run_after"]),
        attempt=int(row["attempt"]),
        started_at=to_utc(row["started_at"]),
        completed_at=to_utc(row["completed_at"]),
        duration_seconds=None if duration is None else float(duration),
        result=load_json(row["result"]),
        error_message=row["error_message"],
        triggered_by=row["triggered_by"],
        triggered_by_user_id=row["triggered_by_user_id"],
        instance_id=row["instance_id"],
        created_at=_required_time(row["created_at"]),
    )


def instance_from_row(row: Row) -> Instance:
    return Instance(
        id=row["id"],
        hostname=row["hostname"],
        pid=int(row["pid"]),
        version=row["version"],
        started_at=_required_time(row["started_at"]),
        last_heartbeat=_required_time(row["last_heartbeat"]),
        stopped_at=to_utc(row["stopped_at"]),
    )


def lease_from_row(row: Row) -> Lease:
    return Lease(
        holder_id=row["holder_id"],
        term=int(row["term"]),
        acquired_at=to_utc(row["acquired_at"]),
        expires_at=to_utc(row["expires_at"]),
    )


def token_from_row(row: Row) -> ApiToken:
    return ApiToken(
        id=int(row["id"]),
        name=row["name"],
        role=row["role"],
        created_at=_required_time(row["created_at"]),
        last_used_at=to_utc(row["last_used_at"]),
        revoked_at=to_utc(row["revoked_at"]),
    )
