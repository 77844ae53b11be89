"""Query and path parameters, declared once so every route checks and documents them alike.

FastAPI rejects a bad value with a 422 naming the parameter (``["query", "per_page"]``)
before the route runs. Upper bounds keep numbers inside what the store's integer columns and
``OFFSET`` can hold, so an absurd value is a 422 rather than a driver error.

Every text parameter is a :data:`QueryText`: a NUL in it is a 422 at its name, as in a body,
where Postgres would fail the comparison with a text column (a 503) and SQLite would answer;
tests/api/test_api_query_text.py walks every route to keep it so.
"""

from __future__ import annotations

from datetime import datetime
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from fastapi import Path, Query, Request
from fastapi.routing import APIRoute

from jobctl.errors import ValidationFailed
from jobctl.models import INT32_MAX, NAME_MAX
from jobctl.wire.ids import ID_PREFIX_PATTERN
from jobctl.wire.requests import IN_LOWER_CASE, WholeNumber, WithoutNul

OFFSET_MAX = 2**53

BoolText = Literal["true", "false"]
ExecutionStatusName = Literal["pending", "running", "success", "failed", "timeout", "skipped", "missed", "cancelled"]

Page = Annotated[WholeNumber, Query(ge=1, le=INT32_MAX, description="page number, from 1")]
PerPage = Annotated[WholeNumber, Query(ge=1, le=100, description="items per page, 1 to 100")]
IsEnabled = Annotated[BoolText | None, Query(description='"true" or "false"')]
IsActive = Annotated[BoolText | None, Query(description='"true" or "false"')]
QueryText = WithoutNul
"""A text query parameter: without NUL characters (see the module docstring)."""

NameFilter = Annotated[QueryText | None, Query(max_length=NAME_MAX, description="part of the job name, any case")]
LabelFilter = Annotated[
    list[QueryText] | None, Query(description="key=value; only jobs with this label (repeat: all of them)")
]
TaskFunctionId = Annotated[WholeNumber | None, Query(ge=1, le=INT32_MAX, description="only jobs of this task function")]
StatusFilter = Annotated[ExecutionStatusName | None, Query(description="only executions in this status")]
_UUID = {"format": "uuid"}
"""How the OpenAPI document describes an id parameter: read as text of any length and checked by
the service (:func:`jobctl.wire.ids.query_uuid`), the one rule and error for every id in a query."""
JobIdFilter = Annotated[
    QueryText | None, Query(description="only those of this job (its UUID)", json_schema_extra=_UUID)
]
AfterCursor = Annotated[
    QueryText | None,
    Query(description="an execution's id: the page after it (older runs); see nextCursor", json_schema_extra=_UUID),
]
JobsAfterCursor = Annotated[
    QueryText | None,
    Query(max_length=128, description="a nextCursor of an earlier answer: the page after it (no counts)"),
]
BeforeCursor = Annotated[
    QueryText | None,
    Query(description="an execution's id: the page before it (newer runs, the nearest)", json_schema_extra=_UUID),
]
TIME_FORMS = "an ISO 8601 instant (UTC unless it has an offset), a duration before now (24h, 7d) or now"
"""The forms of every time parameter, read by :func:`jobctl.service.windows.parse_instant`."""
TIME_MAX = 64
SinceFilter = Annotated[
    QueryText | None, Query(max_length=TIME_MAX, description=f"only executions created at or after: {TIME_FORMS}")
]
UntilFilter = Annotated[
    QueryText | None, Query(max_length=TIME_MAX, description=f"only executions created before: {TIME_FORMS}")
]
WindowEdge = Annotated[QueryText | None, Query(max_length=TIME_MAX, description=TIME_FORMS)]
ActorFilter = Annotated[QueryText | None, Query(max_length=255, description="only changes by this actor")]
DeliveryStatusFilter = Annotated[
    Literal["pending", "sent", "failed"] | None, Query(description="only notifications in this status")
]
NotifierName = Annotated[str, Path(description="the notifier's name in the daemon's config")]
IdPrefix = Annotated[
    QueryText | None,
    Query(max_length=36, pattern=ID_PREFIX_PATTERN, description="only ids starting with this (hex digits, dashes)"),
]
Force = Annotated[
    BoolText | None,
    Query(description='"true": stop the job\'s active runs (TERM, grace, KILL) and record them, then delete'),
]
NextCount = Annotated[WholeNumber, Query(ge=1, le=100, description="how many next run times, 1 to 100")]
LogOffset = Annotated[WholeNumber, Query(ge=0, le=OFFSET_MAX, description="character offset to read from")]

JobId = Annotated[str, IN_LOWER_CASE, Path(description="the job's UUID (any case)")]
ExecutionId = Annotated[str, IN_LOWER_CASE, Path(description="the execution's UUID (any case)")]


def as_bool(text: BoolText | None) -> bool | None:
    """``"true"``/``"false"`` as a boolean; None when the filter was not given."""
    return None if text is None else text == "true"


def query_time(text: str | None, name: str, *, now: datetime) -> datetime | None:
    """A time parameter of the execution listings (``since``, ``until``) as aware UTC, read as
    the audit log's and a timeline's are (:func:`jobctl.service.windows.parse_instant`): the one
    grammar every time is read by (:mod:`jobctl.schedules.iso_times`, not pydantic's, which takes
    ``2026-12-07_10:00`` and seconds since 1970 too), a duration before now or ``now``; without an
    offset, UTC. Durations count back from ``now`` (:func:`query_window` gives both ends one).

    :raises ValidationFailed: at ``["query", name]``, for text that is no time and for a time
        outside the years 1-9999 in UTC, in the words of every history query.
    """
    if text is None:
        return None
    from jobctl.service.windows import parse_instant

    return parse_instant(text, loc=["query", name], now=now)


def query_window(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``since`` and ``until`` of an execution listing, both read against one ``now``: read
    apart, ``since=now&until=now`` (or ``1h`` and ``3600s``) were two instants microseconds apart,
    a window that was never empty, which the CLI and the rule of every window refuse
    (:func:`jobctl.service.windows.check_order`: a 422 at ``["query", "until"]``)."""
    from datetime import UTC

    now = datetime.now(UTC)
    return query_time(since, "since", now=now), query_time(until, "until", now=now)


STREAM_REFUSAL = (
    "not taken by a stream, which sends every item its filters match after `after` (the paged listing takes it)"
)


def check_query_names(request: Request) -> None:
    """Every query parameter given is one the endpoint takes, and one that takes one value is
    given once (``label`` may repeat).

    FastAPI reads the last of a repeated parameter and ignores one the route does not declare:
    ``GET /executions?status=success&status=failed`` listed the failed runs alone, and a
    misspelt ``?stauts=failed`` every run, without a word, as a body's unknown field never was.
    Called for every scheduler route once the token is known good (and, for a write, the role),
    where FastAPI's own check of the values has been made (jobctl/api/auth.py).

    :raises ValidationFailed: (422) at ``["query", name]`` for each such parameter.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    taken = _query_parameters(route)
    errors: list[dict[str, Any]] = []
    for name in dict.fromkeys(request.query_params.keys()):
        if name not in taken:
            takes = ", ".join(taken) if taken else "no query parameter"
            msg = STREAM_REFUSAL if _paged_only(route, name) else f"not taken here; this endpoint takes {takes}"
            errors.append({"loc": ["query", name], "msg": msg, "type": "value_error"})
        elif not taken[name] and len(request.query_params.getlist(name)) > 1:
            errors.append(
                {"loc": ["query", name], "msg": "given more than once; it takes one value", "type": "value_error"}
            )
    if errors:
        raise ValidationFailed(errors)


def _paged_only(route: APIRoute, name: str) -> bool:
    """Whether ``route`` is a stream (``/jobs/stream``) whose paged listing (``/jobs``, paired
    in :mod:`jobctl.api.routes`) takes ``name`` (``page``, ``per_page``, ...): a script moving
    from the listing is told why."""
    listing = getattr(route, "paged_listing", None)
    return isinstance(listing, APIRoute) and name in _query_parameters(listing)


def _query_parameters(route: APIRoute) -> dict[str, bool]:
    """The query parameters ``route`` takes, its dependencies' included, each with whether it
    takes several values; worked out once a route."""
    known: dict[str, bool] | None = getattr(route, "_jobctl_query_parameters", None)
    if known is None:
        known = {}
        pending = [route.dependant]
        while pending:
            dependant = pending.pop()
            for param in dependant.query_params:
                known[param.alias] = _takes_several(param.field_info.annotation)
            pending.extend(dependant.dependencies)
        route._jobctl_query_parameters = known  # type: ignore[attr-defined]
    return known


def _takes_several(annotation: Any) -> bool:
    """Whether a parameter so annotated takes repeated values: a list (or other collection), maybe
    optional; what FastAPI reads with ``getlist``."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        return any(_takes_several(arg) for arg in get_args(annotation) if arg is not type(None))
    return (origin or annotation) in (list, tuple, set, frozenset)
