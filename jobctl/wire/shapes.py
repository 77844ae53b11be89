"""Records turned into the exact JSON objects of the REST API (camelCase, UTC with ``Z``).

Plain functions over dicts, no validation library: ``jobctl jobs list --json`` goes through
here on every call and must stay cheap to import.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jobctl.models import ApiToken, Execution, Instance, Job, JobTypeRecord, TaskFunction

JsonDict = dict[str, Any]


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, or None."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def task_function(tf: TaskFunction) -> JsonDict:
    return {
        "id": tf.id,
        "name": tf.name,
        "displayName": tf.display_name,
        "description": tf.description,
        "handlerPath": tf.handler_path,
        "handlerType": tf.handler_type,
        "queue": tf.queue,
        "defaultTimeoutSeconds": tf.default_timeout_seconds,
        "isActive": tf.is_active,
        "isSystem": tf.is_system,
        "createdAt": timestamp(tf.created_at),
    }


def job_type(jt: JobTypeRecord) -> JsonDict:
    return {"id": jt.id, "name": jt.name, "displayName": jt.display_name, "description": jt.description}


def job(j: Job) -> JsonDict:
    return {
        "id": j.id,
        "name": j.name,
        "description": j.description,
        "taskFunctionId": j.task_function_id,
        "jobTypeId": j.job_type_id,
        "scheduleConfig": j.schedule_config,
        "taskArgs": j.task_args,
        "maxInstances": j.max_instances,
        "timeoutSeconds": j.timeout_seconds,
        "retryCount": j.retry_count,
        "retryDelaySeconds": j.retry_delay_seconds,
        "isEnabled": j.is_enabled,
        "isPaused": j.is_paused,
        "misfirePolicy": j.misfire_policy,
        "nextRunTime": timestamp(j.next_run_time),
        "lastRunTime": timestamp(j.last_run_time),
        "lastStatus": j.last_status,
        "createdAt": timestamp(j.created_at),
        "updatedAt": timestamp(j.updated_at),
        "createdBy": j.created_by,
        "updatedBy": j.updated_by,
    }


def job_detail(j: Job, tf: TaskFunction, jt: JobTypeRecord, recent: list[Execution]) -> JsonDict:
    return {
        **job(j),
        "taskFunction": task_function(tf),
        "jobType": job_type(jt),
        "recentExecutions": [execution(e) for e in recent],
    }


def execution(e: Execution) -> JsonDict:
    return {
        "id": e.id,
        "jobId": e.job_id,
        "celeryTaskId": e.celery_task_id,
        "status": e.status,
        "startedAt": timestamp(e.started_at),
        "completedAt": timestamp(e.completed_at),
        "durationSeconds": e.duration_seconds,
        "result": e.result,
        "errorMessage": e.error_message,
        "triggeredBy": e.triggered_by,
        "triggeredByUserId": e.triggered_by_user_id,
        "scheduledFor": timestamp(e.scheduled_for),
        "attempt": e.attempt,
        "instanceId": e.instance_id,
    }


def instance(i: Instance, *, leader_id: str | None, leader_since: datetime | None) -> JsonDict:
    is_leader = i.id == leader_id
    return {
        "id": i.id,
        "hostname": i.hostname,
        "pid": i.pid,
        "isLeader": is_leader,
        "leaderSince": timestamp(leader_since) if is_leader else None,
        "lastHeartbeat": timestamp(i.last_heartbeat),
        "startedAt": timestamp(i.started_at),
        "version": i.version,
    }


def api_token(t: ApiToken) -> JsonDict:
    return {
        "id": t.id,
        "name": t.name,
        "role": t.role,
        "createdAt": timestamp(t.created_at),
        "lastUsedAt": timestamp(t.last_used_at),
        "revokedAt": timestamp(t.revoked_at),
    }
