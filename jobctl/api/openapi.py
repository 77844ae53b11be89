"""The OpenAPI document's schemas, from the one declaration of each shape.

Responses are the TypedDicts of :mod:`jobctl.wire.responses`, re-exported from here once
closed (``additionalProperties: false``, so a test and schemathesis catch a built dict that
drifted from its declaration): routes name them as ``response_model`` (FastAPI has pydantic
describe them) and return the service's dicts as they are, so the served schema stays
accurate without revalidating every response on the hot path. Requests are the strict models
of :mod:`jobctl.wire.requests`, which the service validates with; the routes read the body as
plain JSON, so their schemas are added here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from jobctl.wire.history import HISTORY_SHAPES, AuditList, JobTimeline
from jobctl.wire.requests import ApplyRequest, JobCreate, JobStatusUpdate, JobUpdate
from jobctl.wire.responses import (
    RESPONSE_SHAPES,
    ApplyPlan,
    ErrorBody,
    ExecutionList,
    ExecutionLog,
    ExecutionOut,
    GoneBody,
    Health,
    JobDetail,
    JobList,
    JobOut,
    JobTypeOut,
    NextRunTimes,
    NotificationList,
    NotifierList,
    NotifierTestResult,
    Overview,
    SchedulerStatus,
    TaskFunctionList,
    TriggerResult,
    ValidationErrorBody,
)

for _shape in (*RESPONSE_SHAPES, *HISTORY_SHAPES):
    _shape.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route whose body is ``model`` (see :func:`request_schemas`)."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def request_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schemas of the request bodies, tightened where a model validator adds rules."""
    create = JobCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    create["properties"]["scheduleConfig"]["description"] = _SCHEDULE_HELP
    nested = create.pop("$defs", {})  # models inside the body (a notification rule) join the components
    return {
        **nested,
        "JobCreate": create,
        "JobUpdate": _update_schema(create),
        "JobStatusUpdate": _status_schema(),
        "ApplyRequest": ApplyRequest.model_json_schema(ref_template="#/components/schemas/{model}"),
    }


def _update_schema(create: dict[str, Any]) -> dict[str, Any]:
    """:class:`JobUpdate` is :class:`JobCreate` with nothing required: the same fields, never null
    where the create body forbids null (its validators reject ``null`` for those)."""
    properties = {name: _without_default(prop) for name, prop in create["properties"].items()}
    schema = {key: value for key, value in create.items() if key not in ("required", "properties")}
    return {**schema, "title": JobUpdate.__name__, "description": JobUpdate.__doc__, "properties": properties}


def _without_default(prop: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in prop.items() if key != "default"}


def _status_schema() -> dict[str, Any]:
    """``isEnabled``, ``isPaused`` or both; each a boolean (the model's ``None`` only means "not sent")."""
    flag = {"type": "boolean"}
    return {
        "title": JobStatusUpdate.__name__,
        "description": JobStatusUpdate.__doc__,
        "type": "object",
        "properties": {
            "isEnabled": flag,
            "isPaused": flag,
            "reason": {"type": "string", "minLength": 1, "maxLength": 2000, "description": "why (with isPaused: true)"},
        },
        "additionalProperties": False,
        "minProperties": 1,
    }


_SCHEDULE_HELP = (
    "interval (jobTypeId 1): weeks, days, hours, minutes, seconds, start_date, end_date, jitter; "
    "cron (jobTypeId 2): year, month, day, week, day_of_week, hour, minute, second, start_date, end_date, "
    "timezone, jitter, or expression (a crontab line); date (jobTypeId 3): run_date"
)


__all__ = [
    "ApplyPlan", "AuditList", "ErrorBody", "ExecutionList", "ExecutionLog", "ExecutionOut", "GoneBody", "Health",
    "JobDetail", "JobList", "JobOut", "JobTimeline", "JobTypeOut", "NextRunTimes", "NotificationList", "NotifierList",
    "NotifierTestResult", "Overview", "SchedulerStatus", "TaskFunctionList", "TriggerResult", "ValidationErrorBody",
    "request_body",
    "request_schemas",
]  # fmt: skip
