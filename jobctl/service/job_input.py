"""Turning request bodies into the columns of a job: validation beyond field types.

Checks that need the store (the task function exists and is active, the job type exists) or
the schedule (a cron field that cannot fire) live here, each reported at the field's ``loc``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from jobctl.errors import Conflict, ValidationFailed
from jobctl.models import SHELL_TASK_FUNCTION, Caller, Job, JobType, TaskFunction
from jobctl.schedules.timing import NO_RUN, NextRun, build_schedule, first_run, stored_config
from jobctl.service.task_args import task_args_errors
from jobctl.store import Store
from jobctl.wire.requests import JobCreate, JobStatusUpdate, JobUpdate, parse_body

TaskFunctionLookup = Callable[[int], TaskFunction | None]


def new_job_values(
    store: Store,
    data: Mapping[str, Any],
    *,
    caller: Caller,
    default_timezone: str,
    now: datetime,
    task_function_of: TaskFunctionLookup | None = None,
) -> dict[str, Any]:
    """Columns of a new job from a ``POST /jobs`` body. :raises ValidationFailed:"""
    body = parse_body(JobCreate, data)
    _check_references(store, body.taskFunctionId, body.jobTypeId, body.taskArgs, task_function_of)
    config = stored_config(body.jobTypeId, body.scheduleConfig, default_timezone)
    schedule = build_schedule(body.jobTypeId, config, default_timezone=default_timezone, anchor=now)
    upcoming = first_run(schedule, config, now)
    _check_fires(upcoming, body.jobTypeId)
    active = body.isEnabled and not body.isPaused
    return {
        "id": str(uuid.uuid4()),
        "name": body.name,
        "description": body.description,
        "task_function_id": body.taskFunctionId,
        "job_type_id": body.jobTypeId,
        "schedule_config": config,
        "task_args": body.taskArgs,
        "max_instances": body.maxInstances,
        "timeout_seconds": body.timeoutSeconds,
        "retry_count": body.retryCount,
        "retry_delay_seconds": body.retryDelaySeconds,
        "is_enabled": body.isEnabled,
        "is_paused": body.isPaused,
        "misfire_policy": body.misfirePolicy,
        "next_slot": upcoming.slot if active else None,
        "next_run_time": upcoming.run_time if active else None,
        "created_at": now,
        "updated_at": now,
        "created_by": caller.user_id,
        "updated_by": caller.user_id,
    }


def changed_job_values(
    store: Store, job: Job, data: Mapping[str, Any], *, caller: Caller, default_timezone: str, now: datetime
) -> dict[str, Any]:
    """Columns to change from a ``PUT /jobs/{id}`` body. :raises ValidationFailed:"""
    body = parse_body(JobUpdate, data)
    sent = body.model_dump(exclude_unset=True)
    task_function_id = sent.get("taskFunctionId", job.task_function_id)
    job_type_id = sent.get("jobTypeId", job.job_type_id)
    task_args = sent.get("taskArgs", job.task_args)
    _check_references(store, task_function_id, job_type_id, task_args, None)
    values: dict[str, Any] = {_COLUMN[key]: value for key, value in sent.items()}
    if "scheduleConfig" in sent or "jobTypeId" in sent:
        values["schedule_config"] = stored_config(
            job_type_id, sent.get("scheduleConfig", job.schedule_config), default_timezone
        )
    enabled = sent.get("isEnabled", job.is_enabled)
    paused = sent.get("isPaused", job.is_paused)
    reschedule = "schedule_config" in values or not (job.is_enabled and not job.is_paused)
    values.update(
        _next_run_columns(
            job,
            job_type_id,
            values.get("schedule_config", job.schedule_config),
            active=enabled and not paused,
            reschedule=reschedule,
            default_timezone=default_timezone,
            now=now,
        )
    )
    values["updated_at"] = now
    values["updated_by"] = caller.user_id
    return values


def status_values(
    job: Job, data: Mapping[str, Any], *, caller: Caller, default_timezone: str, now: datetime
) -> dict[str, Any]:
    """Columns to change from a ``PUT /jobs/{id}/status`` body. :raises ValidationFailed, Conflict:"""
    body = parse_body(JobStatusUpdate, data)
    enabled = job.is_enabled if body.isEnabled is None else body.isEnabled
    paused = job.is_paused if body.isPaused is None else body.isPaused
    values: dict[str, Any] = {
        "is_enabled": enabled,
        "is_paused": paused,
        "updated_at": now,
        "updated_by": caller.user_id,
    }
    was_active = job.is_enabled and not job.is_paused
    try:
        values.update(
            _next_run_columns(
                job,
                job.job_type_id,
                job.schedule_config,
                active=enabled and not paused,
                reschedule=not was_active,
                default_timezone=default_timezone,
                now=now,
            )
        )
    except ValidationFailed as exc:
        raise Conflict(f"job {job.name!r} has no run left in its schedule; update its schedule first") from exc
    return values


_COLUMN = {
    "name": "name",
    "description": "description",
    "taskFunctionId": "task_function_id",
    "jobTypeId": "job_type_id",
    "scheduleConfig": "schedule_config",
    "taskArgs": "task_args",
    "maxInstances": "max_instances",
    "timeoutSeconds": "timeout_seconds",
    "retryCount": "retry_count",
    "retryDelaySeconds": "retry_delay_seconds",
    "isEnabled": "is_enabled",
    "isPaused": "is_paused",
    "misfirePolicy": "misfire_policy",
}


def _next_run_columns(
    job: Job,
    job_type_id: int,
    config: Mapping[str, Any],
    *,
    active: bool,
    reschedule: bool,
    default_timezone: str,
    now: datetime,
) -> dict[str, Any]:
    """``next_slot``/``next_run_time``: cleared while inactive, recomputed when the schedule or state changed."""
    schedule = build_schedule(job_type_id, config, default_timezone=default_timezone, anchor=job.created_at)
    if not active:
        return {"next_slot": None, "next_run_time": None}
    if not reschedule and job.next_slot is not None:
        return {}
    upcoming = first_run(schedule, config, now)
    _check_fires(upcoming, job_type_id)
    return {"next_slot": upcoming.slot, "next_run_time": upcoming.run_time}


def _check_fires(upcoming: NextRun, job_type_id: int) -> None:
    if upcoming is NO_RUN or upcoming.slot is None:
        field = "run_date" if job_type_id == JobType.DATE else "end_date"
        raise ValidationFailed.field(["body", "scheduleConfig", field], "the schedule has no run left after now")


def _check_references(
    store: Store,
    task_function_id: int,
    job_type_id: int,
    task_args: Mapping[str, Any] | None,
    task_function_of: TaskFunctionLookup | None,
) -> None:
    errors: list[dict[str, Any]] = []
    task_function = (task_function_of or store.catalog.get_task_function)(task_function_id)
    if task_function is None:
        errors.append(_error("taskFunctionId", f"no task function with id {task_function_id}"))
    elif not task_function.is_active:
        errors.append(_error("taskFunctionId", f"task function {task_function.name!r} is inactive"))
    elif task_function.name == SHELL_TASK_FUNCTION:
        command = (task_args or {}).get("command")
        if not isinstance(command, str) or not command.strip():
            errors.append(_error("taskArgs", "the shell task function needs taskArgs.command (a non-empty string)"))
    if store.catalog.get_job_type(job_type_id) is None:
        errors.append(_error("jobTypeId", f"no job type with id {job_type_id} (1 interval, 2 cron, 3 date)"))
    errors.extend(task_args_errors(task_args))
    if errors:
        raise ValidationFailed(errors)


def _error(field: str, msg: str) -> dict[str, Any]:
    return {"loc": ["body", field], "msg": msg, "type": "value_error"}
