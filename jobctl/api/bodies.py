"""Request bodies: read as plain JSON here, validated once, by the service.

The routes hand the service the decoded JSON as it came, and the service validates it with
the strict models of :mod:`jobctl.wire.bodies` (the local CLI goes through the same code).
This module only turns bytes into JSON, reporting malformed input as a 422 at ``["body"]``,
and describes those models in the OpenAPI document so clients see the real request schema.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from pydantic import BaseModel

from jobctl.errors import ValidationFailed
from jobctl.wire.bodies import JobCreate, JobStatusUpdate, JobUpdate

_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


async def json_body(request: Request) -> Any:
    """The request's JSON body, decoded. :raises ValidationFailed: when it is not valid JSON."""
    raw = await request.body()
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
        if _ESCAPED_SURROGATE.search(raw):
            json.dumps(data, ensure_ascii=False).encode("utf-8")  # a lone surrogate cannot be stored
    except RecursionError:
        raise ValidationFailed.field(["body"], "JSON nested too deeply", "json_invalid") from None
    except ValueError as exc:
        raise ValidationFailed.field(["body"], f"malformed JSON: {exc}", "json_invalid") from None
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route whose body is ``model`` (see :func:`request_schemas`)."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def request_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schemas of the request bodies, tightened where a model validator adds rules."""
    create = JobCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    create["properties"]["scheduleConfig"]["description"] = _SCHEDULE_HELP
    return {
        "JobCreate": create,
        "JobUpdate": _update_schema(create),
        "JobStatusUpdate": _status_schema(),
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
        "properties": {"isEnabled": flag, "isPaused": flag},
        "additionalProperties": False,
        "minProperties": 1,
    }


_SCHEDULE_HELP = (
    "interval (jobTypeId 1): weeks, days, hours, minutes, seconds, start_date, end_date, jitter; "
    "cron (jobTypeId 2): year, month, day, week, day_of_week, hour, minute, second, start_date, end_date, "
    "timezone, jitter, or expression (a crontab line); date (jobTypeId 3): run_date"
)
