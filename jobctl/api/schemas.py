"""Response models: the OpenAPI description of what :mod:`jobctl.wire.shapes` builds.

Routes return the service's dicts as they are; these models only document them, so the
served schema stays accurate without revalidating every response on the hot path. Each model
forbids extra keys so a test (and schemathesis) catches a shape that drifted from the wire
module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ExecutionStatusName = Literal["pending", "running", "success", "failed", "timeout", "skipped"]
TriggeredByName = Literal["scheduler", "manual", "retry"]
HandlerTypeName = Literal["command", "python", "celery_task"]
MisfirePolicyName = Literal["run_once", "skip"]
Timestamp = datetime
"""ISO 8601 in UTC with a ``Z``."""


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskFunctionOut(_Shape):
    id: int
    name: str
    displayName: str
    description: str | None
    handlerPath: str
    handlerType: HandlerTypeName
    queue: str | None
    defaultTimeoutSeconds: int | None
    isActive: bool
    isSystem: bool
    createdAt: Timestamp


class TaskFunctionList(_Shape):
    taskFunctions: list[TaskFunctionOut]
    total: int


class JobTypeOut(_Shape):
    id: int
    name: str
    displayName: str
    description: str | None


class JobOut(_Shape):
    id: str = Field(description="UUID of the job")
    name: str
    description: str | None
    taskFunctionId: int
    jobTypeId: int = Field(description="1 interval, 2 cron, 3 date")
    scheduleConfig: dict[str, Any]
    taskArgs: dict[str, Any] | None
    maxInstances: int
    timeoutSeconds: int | None
    retryCount: int
    retryDelaySeconds: int
    isEnabled: bool
    isPaused: bool
    misfirePolicy: MisfirePolicyName
    nextRunTime: Timestamp | None = Field(description="null while the job is disabled or paused")
    lastRunTime: Timestamp | None
    lastStatus: ExecutionStatusName | None
    createdAt: Timestamp
    updatedAt: Timestamp
    createdBy: str | None
    updatedBy: str | None


class JobList(_Shape):
    jobs: list[JobOut]
    total: int
    enabledCount: int
    disabledCount: int
    runningCount: int = Field(description="jobs with at least one running execution")


class ExecutionOut(_Shape):
    id: str = Field(description="UUID of the execution")
    jobId: str
    celeryTaskId: str | None
    status: ExecutionStatusName
    startedAt: Timestamp | None
    completedAt: Timestamp | None
    durationSeconds: float | None
    result: Any = Field(description="JSON value the run produced, or null")
    errorMessage: str | None
    triggeredBy: TriggeredByName
    triggeredByUserId: str | None
    scheduledFor: Timestamp | None = Field(description="the schedule slot; null for manual runs")
    attempt: int
    instanceId: str | None


class ExecutionList(_Shape):
    executions: list[ExecutionOut]
    total: int


class ExecutionLog(_Shape):
    data: str
    nextOffset: int
    complete: bool = Field(description="true once the run has ended and all its output was read")


class JobDetail(JobOut):
    taskFunction: TaskFunctionOut
    jobType: JobTypeOut
    recentExecutions: list[ExecutionOut] = Field(description="the latest 10 executions, newest first")


class TriggerResult(_Shape):
    jobId: str
    executionId: str
    celeryTaskId: str | None
    message: str


class InstanceOut(_Shape):
    id: str
    hostname: str
    pid: int
    isLeader: bool
    leaderSince: Timestamp | None
    lastHeartbeat: Timestamp
    startedAt: Timestamp
    version: str


class NextScheduledJob(_Shape):
    id: str
    name: str
    nextRunTime: Timestamp | None


class SchedulerStatus(_Shape):
    isRunning: bool
    leaderInstance: InstanceOut | None
    totalJobs: int
    enabledJobs: int
    runningJobs: int
    nextScheduledJob: NextScheduledJob | None
    instances: list[InstanceOut]


class Health(_Shape):
    status: Literal["ok"]


class ErrorBody(_Shape):
    detail: str


class FieldError(_Shape):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(_Shape):
    detail: list[FieldError]
