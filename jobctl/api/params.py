"""Query and path parameters, declared once so every route checks and documents them alike.

FastAPI rejects a bad value with a 422 naming the parameter (``["query", "per_page"]``)
before the route runs. Upper bounds keep numbers inside what the store's integer columns and
``OFFSET`` can hold, so an absurd value is a 422 rather than a driver error.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path, Query

from jobctl.models import INT32_MAX, NAME_MAX
from jobctl.wire.ids import ID_PREFIX_PATTERN
from jobctl.wire.requests import IN_LOWER_CASE

OFFSET_MAX = 2**53

BoolText = Literal["true", "false"]
ExecutionStatusName = Literal["pending", "running", "success", "failed", "timeout", "skipped", "missed", "cancelled"]

Page = Annotated[int, Query(ge=1, le=INT32_MAX, description="page number, from 1")]
PerPage = Annotated[int, Query(ge=1, le=100, description="items per page, 1 to 100")]
IsEnabled = Annotated[BoolText | None, Query(description='"true" or "false"')]
IsActive = Annotated[BoolText | None, Query(description='"true" or "false"')]
NameFilter = Annotated[
    str | None, Query(max_length=NAME_MAX, pattern=r"^[^\x00]*$", description="part of the job name, any case")
]
LabelFilter = Annotated[
    list[str] | None, Query(description="key=value; only jobs with this label (repeat: all of them)")
]
TaskFunctionId = Annotated[int | None, Query(ge=1, le=INT32_MAX, description="only jobs of this task function")]
StatusFilter = Annotated[ExecutionStatusName | None, Query(description="only executions in this status")]
JobIdFilter = Annotated[uuid.UUID | None, Query(description="only executions of this job")]
AfterCursor = Annotated[
    str | None, Query(max_length=36, description="an execution's id: the page after it (older runs); see nextCursor")
]
JobsAfterCursor = Annotated[
    str | None,
    Query(max_length=128, description="a nextCursor of an earlier answer: the page after it (no counts)"),
]
BeforeCursor = Annotated[
    str | None, Query(max_length=36, description="an execution's id: the page before it (newer runs, the nearest)")
]
_DATE_TIME = {"format": "date-time"}
"""How the OpenAPI document describes a time parameter: read as text, by :func:`query_time`."""
SinceFilter = Annotated[
    str | None,
    Query(description="only executions created at or after this time (ISO 8601)", json_schema_extra=_DATE_TIME),
]
UntilFilter = Annotated[
    str | None, Query(description="only executions created before this time (ISO 8601)", json_schema_extra=_DATE_TIME)
]
DeliveryStatusFilter = Annotated[
    Literal["pending", "sent", "failed"] | None, Query(description="only notifications in this status")
]
NotifierName = Annotated[str, Path(description="the notifier's name in the daemon's config")]
IdPrefix = Annotated[
    str | None,
    Query(max_length=36, pattern=ID_PREFIX_PATTERN, description="only ids starting with this (hex digits, dashes)"),
]
Force = Annotated[
    BoolText | None,
    Query(description='"true": stop the job\'s active runs (TERM, grace, KILL) and record them, then delete'),
]
NextCount = Annotated[int, Query(ge=1, le=100, description="how many next run times, 1 to 100")]
LogOffset = Annotated[int, Query(ge=0, le=OFFSET_MAX, description="character offset to read from")]

JobId = Annotated[str, IN_LOWER_CASE, Path(description="the job's UUID (any case)")]
ExecutionId = Annotated[str, IN_LOWER_CASE, Path(description="the execution's UUID (any case)")]


def as_bool(text: BoolText | None) -> bool | None:
    """``"true"``/``"false"`` as a boolean; None when the filter was not given."""
    return None if text is None else text == "true"


def query_time(text: str | None, name: str) -> datetime | None:
    """A time parameter (``since``, ``until``) read by the one grammar every time is read by
    (:mod:`jobctl.schedules.iso_times`), not by pydantic's, which takes ``2026-12-07_10:00`` and
    seconds since 1970 too: a time the CLI refuses is refused here alike. Without an offset the
    service reads it as UTC.

    :raises ValidationFailed: at ``["query", name]``.
    """
    if text is None:
        return None
    from jobctl.errors import ValidationFailed
    from jobctl.schedules.iso_times import not_a_time, parse_date_time

    try:
        return parse_date_time(text)
    except ValueError:
        raise ValidationFailed.field(["query", name], not_a_time(text)) from None
