"""The API's response JSON: each shape declared once, as a TypedDict, next to the function that
builds it from a record (camelCase keys, timestamps in UTC with a ``Z``).

One declaration serves three readers: the service builds these dicts, the API describes them in
its OpenAPI document (:mod:`jobctl.api.openapi` hands the classes to pydantic), and the remote
client types what it decodes with them, so mypy checks that local and remote mode hand the CLI
the same keys. TypedDicts cost nothing at run time, unlike pydantic models: ``jobctl jobs list
--json`` goes through here on every call and imports no validation library
(``docs/response-shapes.md``).

Where the OpenAPI document needs more than the Python type says (a description, a date-time
format, the allowed values of a string), the field's ``Annotated`` metadata carries a
:class:`Schema`, which pydantic reads when the API builds its document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any, Literal

from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only from Python 3.12

from jobctl.models import (
    ApiToken,
    Delivery,
    DeliveryStatus,
    ExecutionStatus,
    HandlerType,
    Instance,
    Job,
    JobTypeRecord,
    MisfirePolicy,
    OverlapPolicy,
    TaskFunction,
    TriggeredBy,
)
from jobctl.models import Execution as ExecutionRecord


class Schema:
    """JSON Schema details for a field: ``description``, ``format``, and ``enum`` (the values of
    an enum class). Pydantic calls :meth:`__get_pydantic_json_schema__` on ``Annotated``
    metadata; nothing here imports it."""

    def __init__(self, description: str | None = None, *, format: str | None = None, enum: type[Enum] | None = None):
        self.description = description
        self.format = format
        self.enum = enum

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Callable[[Any], dict[str, Any]]) -> Any:
        schema = handler(core_schema)
        value_schema = schema["anyOf"][0] if "anyOf" in schema else schema  # X | None: the X part
        if self.format:
            value_schema["format"] = self.format
        if self.enum:
            value_schema["enum"] = [member.value for member in self.enum]
        if self.description:
            schema["description"] = self.description
        return schema


Timestamp = Annotated[str, Schema(format="date-time")]
"""ISO 8601 in UTC with a ``Z``."""
StatusName = Annotated[str, Schema(enum=ExecutionStatus)]


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, or None."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def _required_timestamp(value: datetime) -> str:
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


# -- catalog -------------------------------------------------------------------------------


class TaskFunctionOut(TypedDict):
    id: int
    name: str
    displayName: str
    description: str | None
    handlerPath: str
    handlerType: Annotated[str, Schema(enum=HandlerType)]
    queue: str | None
    defaultTimeoutSeconds: int | None
    isActive: bool
    isSystem: bool
    createdAt: Timestamp


class TaskFunctionList(TypedDict):
    taskFunctions: list[TaskFunctionOut]
    total: int


class JobTypeOut(TypedDict):
    id: int
    name: str
    displayName: str
    description: str | None


def task_function(tf: TaskFunction) -> TaskFunctionOut:
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
        "createdAt": _required_timestamp(tf.created_at),
    }


def task_function_list(items: Iterable[TaskFunction], total: int) -> TaskFunctionList:
    return {"taskFunctions": [task_function(tf) for tf in items], "total": total}


def job_type(jt: JobTypeRecord) -> JobTypeOut:
    return {"id": jt.id, "name": jt.name, "displayName": jt.display_name, "description": jt.description}


# -- executions ----------------------------------------------------------------------------


class ExecutionOut(TypedDict):
    id: Annotated[str, Schema("UUID of the execution")]
    jobId: str
    celeryTaskId: str | None
    status: StatusName
    startedAt: Timestamp | None
    completedAt: Timestamp | None
    durationSeconds: float | None
    result: Annotated[Any, Schema("JSON value the run produced, or null")]
    errorMessage: str | None
    triggeredBy: Annotated[str, Schema(enum=TriggeredBy)]
    triggeredByUserId: str | None
    scheduledFor: Annotated[Timestamp | None, Schema("the schedule slot; null for manual runs")]
    attempt: int
    instanceId: str | None
    outputDroppedBytes: Annotated[
        int, Schema("bytes dropped from the start of the output to keep its last 1,000,000 characters; 0 if none")
    ]
    outputPruned: Annotated[bool, Schema("true when retention removed the run's output ([history] output_keep_days)")]
    cancelledBy: Annotated[str | None, Schema("who cancelled the run (token name or local:USER); null if nobody")]
    missedCount: Annotated[int | None, Schema("status missed: how many slots the range holds; else null")]
    missedUntil: Annotated[Timestamp | None, Schema("status missed: the range's last slot (scheduledFor is its first)")]
    pendingReason: Annotated[
        str | None,
        Schema('why a pending execution waits ("retry at TIME", "queued behind ID", "group NAME full"); else null'),
    ]
    createdAt: Annotated[
        Timestamp,
        Schema("when the execution was recorded: listings sort by it; since, until and keep_days count from it"),
    ]


class ExecutionList(TypedDict):
    executions: list[ExecutionOut]
    total: Annotated[int | None, Schema("executions matching the filters; null when the request gives a cursor")]
    nextCursor: Annotated[
        str | None, Schema("the id to pass as after (as before, in a before walk) for the next page; null at the end")
    ]


class ExecutionLog(TypedDict):
    data: str
    nextOffset: int
    complete: Annotated[bool, Schema("true once the run has ended and all its output was read")]


OUTPUT_PRUNED_HEADER = "X-Jobctl-Output-Pruned"
"""Header of ``GET /executions/{id}/log``: ``true`` when retention removed the run's output (its
``outputPruned``), else ``false``. A header, since the contract fixes the body's three keys."""


@dataclass(frozen=True, kw_only=True)
class ExecutionLogPage:
    """``GET /executions/{id}/log``'s answer: its body, and what :data:`OUTPUT_PRUNED_HEADER` says."""

    body: ExecutionLog
    output_pruned: bool


def execution(e: ExecutionRecord) -> ExecutionOut:
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
        "outputDroppedBytes": e.output_dropped_bytes,
        "outputPruned": e.output_pruned,
        "cancelledBy": e.cancelled_by,
        "missedCount": e.missed_count,
        "missedUntil": timestamp(e.missed_until),
        "pendingReason": pending_reason(e),
        "createdAt": _required_timestamp(e.created_at),
    }


def pending_reason(e: ExecutionRecord) -> str | None:
    """Why a pending run waits: what the scheduler last recorded ("queued behind ID", "group db
    full"), else, for a retry, its due time (``retry at TIME``); null once it is not pending."""
    if e.status != ExecutionStatus.PENDING:
        return None
    if e.pending_reason:
        return e.pending_reason
    if e.triggered_by == TriggeredBy.RETRY and e.run_after is not None:
        return f"retry at {timestamp(e.run_after)}"
    return None


def execution_list(
    items: Iterable[ExecutionRecord], total: int | None, *, next_cursor: str | None = None
) -> ExecutionList:
    return {"executions": [execution(e) for e in items], "total": total, "nextCursor": next_cursor}


# -- jobs ----------------------------------------------------------------------------------


class JobOut(TypedDict):
    id: Annotated[str, Schema("UUID of the job")]
    name: str
    description: str | None
    taskFunctionId: int
    jobTypeId: Annotated[int, Schema("1 interval, 2 cron, 3 date")]
    scheduleConfig: dict[str, Any]
    taskArgs: dict[str, Any] | None
    maxInstances: int
    timeoutSeconds: int | None
    retryCount: int
    retryDelaySeconds: int
    isEnabled: bool
    isPaused: bool
    misfirePolicy: Annotated[str, Schema(enum=MisfirePolicy)]
    nextRunTime: Annotated[Timestamp | None, Schema("null while the job is disabled or paused")]
    lastRunTime: Timestamp | None
    lastStatus: StatusName | None
    createdAt: Timestamp
    updatedAt: Timestamp
    createdBy: str | None
    updatedBy: str | None
    labels: Annotated[dict[str, str], Schema("key/value pairs to select jobs by; {} when none")]
    environment: Annotated[
        dict[str, str] | None, Schema("variables set for each run (docs/run-environment.md); null when none")
    ]
    workingDirectory: Annotated[
        str | None,
        Schema("where runs start; null: the home of the run's user (runAsUser, else [daemon] default_run_as), else /"),
    ]
    umask: Annotated[str | None, Schema("octal umask of runs; null: 022")]
    nice: Annotated[int | None, Schema("nice value of runs; null: the daemon's")]
    stdin: Annotated[str | None, Schema("text given to each run on standard input; null: /dev/null")]
    runAsUser: Annotated[str | None, Schema("user runs switch to (name or uid); null: the daemon's default")]
    runAsGroup: Annotated[str | None, Schema("group of runs (name or gid); null: the user's primary group")]
    source: Annotated[str | None, Schema("the jobs file jobctl apply last set the job from; null: made by hand")]
    notify: Annotated[
        list[dict[str, Any]] | None,
        Schema("notification rules {notifier, on, eachAttempt}; null: the config's default"),
    ]
    pauseAfterFailures: Annotated[
        int | None, Schema("pause after this many failed final outcomes in a row; null: never")
    ]
    pausedReason: Annotated[str | None, Schema("why the job is paused; null when not paused or no reason given")]
    pausedBy: Annotated[str | None, Schema("who paused it ('jobctl' for an automatic pause)")]
    pausedAt: Timestamp | None
    startGraceSeconds: Annotated[int | None, Schema("a run starting later than this after its slot: late event")]
    maxRuntimeAlertSeconds: Annotated[int | None, Schema("a run still running after this long: long_running event")]
    expectSuccessWithinSeconds: Annotated[int | None, Schema("no success for this long: no_success event")]
    retryBackoff: Annotated[str, Schema("fixed or exponential (retryDelaySeconds x 2^(attempt-1), up to 10% less)")]
    retryMaxDelaySeconds: Annotated[int | None, Schema("cap of an exponential retry delay; null: 7 days")]
    retryOnExitCodes: Annotated[list[int] | None, Schema("retry only these exit codes; null or empty: any failure")]
    overlapPolicy: Annotated[str, Schema("what a slot does when maxInstances runs are active", enum=OverlapPolicy)]
    maxQueued: Annotated[int, Schema("with overlapPolicy queue: slots that may wait at once")]
    concurrencyGroup: Annotated[str | None, Schema("the concurrency group whose limit runs share; null: none")]


class JobList(TypedDict):
    jobs: list[JobOut]
    total: Annotated[int | None, Schema("jobs matching the filters; null when the request gives a cursor (after)")]
    enabledCount: Annotated[int | None, Schema("enabled jobs matching the filters; null with a cursor")]
    disabledCount: Annotated[int | None, Schema("disabled jobs matching the filters; null with a cursor")]
    runningCount: Annotated[int | None, Schema("jobs with at least one running execution; null with a cursor")]
    nextCursor: Annotated[str | None, Schema("pass as after for the next page, oldest first; null at the end")]


class JobDetail(JobOut):
    taskFunction: TaskFunctionOut
    jobType: JobTypeOut
    recentExecutions: Annotated[list[ExecutionOut], Schema("the latest 10 executions, newest first")]


JOB_READ_ONLY_KEYS = frozenset(
    {
        "id",
        "nextRunTime",
        "lastRunTime",
        "lastStatus",
        "createdAt",
        "updatedAt",
        "createdBy",
        "updatedBy",
        "taskFunction",
        "jobType",
        "recentExecutions",
        "source",
        "pausedReason",
        "pausedBy",
        "pausedAt",
    }
)
"""Keys of :class:`JobDetail` that no request body sets. The CLI's ``--from-json`` drops them so
that what ``jobs show --json`` prints can be fed back (the API itself refuses them, as any
unknown field); a test holds this set to JobDetail's keys minus JobCreate's fields."""


class TriggerResult(TypedDict):
    jobId: str
    executionId: str
    celeryTaskId: str | None
    message: str


def job(j: Job) -> JobOut:
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
        "createdAt": _required_timestamp(j.created_at),
        "updatedAt": _required_timestamp(j.updated_at),
        "createdBy": j.created_by,
        "updatedBy": j.updated_by,
        "labels": j.labels,
        "environment": j.environment,
        "workingDirectory": j.working_directory,
        "umask": j.umask,
        "nice": j.nice,
        "stdin": j.stdin,
        "runAsUser": j.run_as_user,
        "runAsGroup": j.run_as_group,
        "source": j.source,
        "notify": j.notify,
        "pauseAfterFailures": j.pause_after_failures,
        "pausedReason": j.paused_reason,
        "pausedBy": j.paused_by,
        "pausedAt": timestamp(j.paused_at),
        "startGraceSeconds": j.start_grace_seconds,
        "maxRuntimeAlertSeconds": j.max_runtime_alert_seconds,
        "expectSuccessWithinSeconds": j.expect_success_within_seconds,
        "retryBackoff": j.retry_backoff.value,
        "retryMaxDelaySeconds": j.retry_max_delay_seconds,
        "retryOnExitCodes": j.retry_on_exit_codes,
        "overlapPolicy": j.overlap_policy,
        "maxQueued": j.max_queued,
        "concurrencyGroup": j.concurrency_group,
    }


def job_detail(j: Job, tf: TaskFunction, jt: JobTypeRecord, recent: Iterable[ExecutionRecord]) -> JobDetail:
    return {
        **job(j),
        "taskFunction": task_function(tf),
        "jobType": job_type(jt),
        "recentExecutions": [execution(e) for e in recent],
    }


def trigger_result(*, job_id: str, execution_id: str, celery_task_id: str | None) -> TriggerResult:
    return {
        "jobId": job_id,
        "executionId": execution_id,
        "celeryTaskId": celery_task_id,
        "message": "Job triggered successfully",
    }


# -- status --------------------------------------------------------------------------------


class InstanceOut(TypedDict):
    id: str
    hostname: str
    pid: int
    isLeader: bool
    leaderSince: Timestamp | None
    lastHeartbeat: Timestamp
    startedAt: Timestamp
    version: str


class NextRunTimes(TypedDict):
    """``GET /jobs/{id}/next``: the job's coming slots (before jitter) and the zone to read them in."""

    jobId: str
    timezone: str
    nextRunTimes: list[str]


class JobChangeOut(TypedDict):
    """One job ``POST /apply`` changes: each changed key of the jobs file with its old and new value."""

    name: str
    changes: Annotated[
        dict[str, list[Any]],
        Schema(
            "jobs-file key -> [old, new], values as in the file, secrets masked as in the audit log;"
            " the environment per variable, env.NAME -> [old, new] with each value as ***"
        ),
    ]


class StaysPausedOut(TypedDict):
    """A paused job of the file whose table leaves ``paused`` out: apply keeps its pause."""

    name: str
    pausedBy: Annotated[str | None, Schema("who paused it ('jobctl' for an automatic pause)")]
    pausedAt: Timestamp | None
    pausedReason: Annotated[str | None, Schema("why it is paused; null when no reason was given")]


def stays_paused(job: Job) -> StaysPausedOut:
    return {"name": job.name, "pausedBy": job.paused_by, "pausedAt": timestamp(job.paused_at),
            "pausedReason": job.paused_reason}  # fmt: skip


class ApplyPlan(TypedDict):
    """``POST /apply``: what the jobs file changes (or, in a dry run, would change)."""

    created: list[str]
    updated: list[JobChangeOut]
    deleted: list[str]
    unchanged: Annotated[int, Schema("jobs of the file already as it says")]
    staysPaused: Annotated[
        list[StaysPausedOut],
        Schema("paused jobs whose table does not say paused: the pause is kept (docs/jobs-files.md)"),
    ]


def next_run_times(*, job_id: str, timezone: str, slots: Iterable[datetime]) -> NextRunTimes:
    return {"jobId": job_id, "timezone": timezone, "nextRunTimes": [_required_timestamp(s) for s in slots]}


class NextScheduledJob(TypedDict):
    id: str
    name: str
    nextRunTime: Timestamp | None


class ConcurrencyGroupOut(TypedDict):
    name: str
    limit: int
    running: Annotated[int, Schema("runs of the group's jobs running now, on any daemon")]
    waiting: Annotated[int, Schema("pending executions counted against the group")]


class SchedulerStatus(TypedDict):
    isRunning: bool
    leaderInstance: InstanceOut | None
    leaseExpiresAt: Annotated[
        Timestamp | None, Schema("when the leader's lease ends unless it renews it; null when none leads")
    ]
    leaderHeartbeatOverdue: Annotated[
        bool,
        Schema(
            "the leader has missed two heartbeats: dead, frozen or cut off from the store; until its lease"
            " ends no other daemon may lead, then one takes over (docs/leader-heartbeat.md)"
        ),
    ]
    totalJobs: int
    enabledJobs: int
    pausedJobs: Annotated[
        int,
        Schema(
            "enabled jobs that are paused, by hand or by auto-pause (counted among enabledJobs); a jobctl extension"
        ),
    ]
    runningJobs: int
    nextScheduledJob: NextScheduledJob | None
    instances: list[InstanceOut]
    concurrencyGroups: Annotated[
        list[ConcurrencyGroupOut], Schema("each group the daemons declare, by name (docs/concurrency-groups.md)")
    ]


def concurrency_group(name: str, limit: int, running: int, waiting: int) -> ConcurrencyGroupOut:
    return {"name": name, "limit": limit, "running": running, "waiting": waiting}


def instance(i: Instance, *, leader_id: str | None, leader_since: datetime | None) -> InstanceOut:
    is_leader = i.id == leader_id
    return {
        "id": i.id,
        "hostname": i.hostname,
        "pid": i.pid,
        "isLeader": is_leader,
        "leaderSince": timestamp(leader_since) if is_leader else None,
        "lastHeartbeat": _required_timestamp(i.last_heartbeat),
        "startedAt": _required_timestamp(i.started_at),
        "version": i.version,
    }


def next_scheduled_job(j: Job) -> NextScheduledJob:
    return {"id": j.id, "name": j.name, "nextRunTime": timestamp(j.next_run_time)}


# -- tokens (CLI only: tokens are managed on the store, not through the API) ---------------


class TokenOut(TypedDict):
    id: int
    name: str
    role: str
    createdAt: str
    lastUsedAt: str | None
    revokedAt: str | None


def api_token(t: ApiToken) -> TokenOut:
    return {
        "id": t.id,
        "name": t.name,
        "role": t.role,
        "createdAt": _required_timestamp(t.created_at),
        "lastUsedAt": timestamp(t.last_used_at),
        "revokedAt": timestamp(t.revoked_at),
    }


# -- the rest of the API -------------------------------------------------------------------


class Health(TypedDict):
    status: Literal["ok"]


class ErrorBody(TypedDict):
    detail: str


class DeletedRun(TypedDict):
    """The last record of an execution a forced delete ended, kept in the audit log."""

    id: str
    jobId: str
    jobName: str
    status: StatusName
    startedAt: Timestamp | None
    completedAt: Timestamp | None
    result: Annotated[Any, Schema("JSON value the run produced, or null")]
    errorMessage: str | None
    deletedBy: Annotated[str, Schema("who deleted the job (token name or local:USER)")]
    deletedAt: Timestamp


class GoneBody(TypedDict):
    detail: str
    execution: DeletedRun


class FieldError(TypedDict):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(TypedDict):
    detail: list[FieldError]


# -- notifications -------------------------------------------------------------------------


class NotificationOut(TypedDict):
    id: Annotated[str, Schema("the delivery's id (the event JSON's deliveryId)")]
    event: str
    jobId: str | None
    jobName: str | None
    executionId: str | None
    notifier: str
    status: Annotated[str, Schema(enum=DeliveryStatus)]
    attempts: Annotated[int, Schema("attempts made, the one that sent it included")]
    lastError: Annotated[
        str | None, Schema("why the latest attempt failed; null once sent (the latest attempt worked) or before any")
    ]
    lastFailedAttemptError: Annotated[
        str | None,
        Schema("why the most recent failed attempt failed, kept after a later one sent it; null if none failed"),
    ]
    createdAt: Timestamp
    nextAttemptAt: Annotated[Timestamp | None, Schema("when a pending delivery is tried next; null otherwise")]
    sentAt: Timestamp | None


class NotificationList(TypedDict):
    notifications: list[NotificationOut]
    total: int


class NotifierOut(TypedDict):
    name: str
    type: str
    target: Annotated[str, Schema("where it sends, secrets masked: addresses, a URL's host, a command")]
    settings: Annotated[dict[str, Any], Schema("the notifier's config keys, secrets and URL paths masked")]


class NotifierList(TypedDict):
    notifiers: list[NotifierOut]


class NotifierTestResult(TypedDict):
    notifier: str
    ok: bool
    error: Annotated[str | None, Schema("why the test event was not delivered; null when it was")]


def notification(d: Delivery) -> NotificationOut:
    """A delivery as the API shows it. The store keeps the error of the last failed attempt after a
    retry sent the event; ``lastError`` is the state now (null once ``sent``, as an error beside
    ``sent`` reads as a delivery that went wrong), ``lastFailedAttemptError`` the history."""
    return {
        "id": d.id,
        "event": d.event,
        "jobId": d.job_id,
        "jobName": d.job_name,
        "executionId": d.execution_id,
        "notifier": d.notifier,
        "status": d.status,
        "attempts": d.attempts,
        "lastError": None if d.status == DeliveryStatus.SENT else d.last_error,
        "lastFailedAttemptError": d.last_error,
        "createdAt": _required_timestamp(d.created_at),
        "nextAttemptAt": timestamp(d.next_attempt_at) if d.status == DeliveryStatus.PENDING else None,
        "sentAt": timestamp(d.sent_at),
    }


def notification_list(items: Iterable[Delivery], total: int) -> NotificationList:
    return {"notifications": [notification(d) for d in items], "total": total}


RESPONSE_SHAPES: tuple[type, ...] = (
    TaskFunctionOut, TaskFunctionList, JobTypeOut, ExecutionOut, ExecutionList, ExecutionLog, JobOut, JobList,
    JobDetail, TriggerResult, NextRunTimes, InstanceOut, NextScheduledJob, SchedulerStatus, Health, ErrorBody,
    FieldError, ValidationErrorBody, JobChangeOut, ApplyPlan, NotificationOut, NotificationList, NotifierOut,
    NotifierList, NotifierTestResult, ConcurrencyGroupOut, DeletedRun, GoneBody,
)  # fmt: skip
"""Every shape the API answers with (the OpenAPI document forbids keys beyond the declared ones)."""


# -- overview (jobctl top) -----------------------------------------------------------------


class ActiveRun(TypedDict):
    executionId: str
    jobId: str
    jobName: str
    status: StatusName
    startedAt: Timestamp | None
    scheduledFor: Timestamp | None
    attempt: int
    instanceId: str | None


class RecentOutcome(TypedDict):
    executionId: str
    jobId: str
    jobName: str
    status: StatusName
    startedAt: Timestamp | None
    completedAt: Timestamp | None
    durationSeconds: float | None
    errorMessage: str | None


class MissedRange(TypedDict):
    executionId: str
    jobId: str
    jobName: str
    firstSlot: Annotated[Timestamp | None, Schema("the first missed slot (the execution's scheduledFor)")]
    lastSlot: Annotated[Timestamp | None, Schema("the last missed slot of the range")]
    slots: Annotated[int, Schema("how many slots the range holds")]
    reason: str | None


class UpcomingSlot(TypedDict):
    jobId: str
    jobName: str
    nextRunTime: Timestamp


class Overview(TypedDict):
    generatedAt: Annotated[Timestamp, Schema("the server's time when the overview was read")]
    status: SchedulerStatus
    running: Annotated[list[ActiveRun], Schema("runs going on now, the longest running first")]
    upcoming: Annotated[list[UpcomingSlot], Schema("the next slots of all jobs, soonest first")]
    recentFailures: Annotated[list[RecentOutcome], Schema("the latest failed or timed-out runs, newest first")]
    missed: Annotated[list[MissedRange], Schema("the latest missed ranges, newest first")]


def active_run(e: ExecutionRecord, job_name: str) -> ActiveRun:
    return {
        "executionId": e.id, "jobId": e.job_id, "jobName": job_name, "status": e.status,
        "startedAt": timestamp(e.started_at), "scheduledFor": timestamp(e.scheduled_for), "attempt": e.attempt,
        "instanceId": e.instance_id,
    }  # fmt: skip


def recent_outcome(e: ExecutionRecord, job_name: str) -> RecentOutcome:
    return {
        "executionId": e.id, "jobId": e.job_id, "jobName": job_name, "status": e.status,
        "startedAt": timestamp(e.started_at), "completedAt": timestamp(e.completed_at),
        "durationSeconds": e.duration_seconds, "errorMessage": e.error_message,
    }  # fmt: skip


def missed_range(e: ExecutionRecord, job_name: str) -> MissedRange:
    return {
        "executionId": e.id, "jobId": e.job_id, "jobName": job_name, "firstSlot": timestamp(e.scheduled_for),
        "lastSlot": timestamp(e.missed_until or e.scheduled_for), "slots": e.missed_count or 1,
        "reason": e.error_message,
    }  # fmt: skip


RESPONSE_SHAPES += (ActiveRun, RecentOutcome, MissedRange, UpcomingSlot, Overview)
