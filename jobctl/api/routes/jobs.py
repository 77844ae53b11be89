"""``/jobs``: list, read, create, change, delete and trigger scheduled jobs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from jobctl.api.auth import Authenticated, allowed_to, api_context
from jobctl.api.errors import error_responses
from jobctl.api.json_body import json_body
from jobctl.api.ndjson import ndjson_ok, ndjson_response
from jobctl.api.openapi import ApplyPlan, JobDetail, JobList, JobOut, NextRunTimes, TriggerResult, request_body
from jobctl.api.params import (
    Force,
    IdPrefix,
    IsEnabled,
    JobId,
    JobsAfterCursor,
    LabelFilter,
    NameFilter,
    NextCount,
    Page,
    PerPage,
    TaskFunctionId,
    as_bool,
)
from jobctl.service import Service
from jobctl.wire.requests import ApplyRequest, JobCreate, JobStatusUpdate, JobUpdate, parse_body

router = APIRouter(tags=["jobs"])
Body = Annotated[Any, Depends(json_body)]
"""The decoded JSON body; declared after the service, so the role is checked before it is read."""
WRITE_ERRORS = error_responses(403, 404, 409, 413, 415, 422)


@router.get("/jobs", response_model=JobList, responses=error_responses(422), summary="List jobs")
def list_jobs(
    credentials: Authenticated, name: NameFilter = None, is_enabled: IsEnabled = None,
    task_function_id: TaskFunctionId = None, label: LabelFilter = None, page: Page = 1, per_page: PerPage = 20,
    id_prefix: IdPrefix = None, after: JobsAfterCursor = None,
) -> Response:  # fmt: skip
    """One page of jobs, oldest first: by page, with counts over every job the filters match, or
    by cursor (``after`` and ``nextCursor``), without them."""
    service = credentials.service()
    data = service.list_jobs(
        name=name, is_enabled=as_bool(is_enabled), task_function_id=task_function_id, labels=label or (),
        page=page, per_page=per_page, id_prefix=id_prefix, after=after,
    )  # fmt: skip
    return JSONResponse(data)


@router.get(
    "/jobs/stream", response_class=StreamingResponse,
    responses={**ndjson_ok("JobOut", "One job per line, as in `jobs` of `GET /jobs`"), **error_responses(422)},
    summary="Every job, streamed",
)  # fmt: skip
def stream_jobs(
    credentials: Authenticated, name: NameFilter = None, is_enabled: IsEnabled = None,
    task_function_id: TaskFunctionId = None, label: LabelFilter = None, after: JobsAfterCursor = None,
) -> Response:  # fmt: skip
    """Every job the filters match, oldest first as in ``GET /jobs``, after ``after`` (a
    ``nextCursor``) or from the first: newline-delimited JSON, one job per line, in one answer
    instead of a request per page. An answer cut short (the connection closed before the end of
    its chunked body, as when the store fails midway) is incomplete, never the whole list."""
    service = credentials.service()
    pages = service.stream_jobs(
        name=name, is_enabled=as_bool(is_enabled), task_function_id=task_function_id, labels=label or (), after=after
    )
    return ndjson_response(pages)


@router.post(
    "/jobs", status_code=201, response_model=JobOut, responses=error_responses(403, 409, 413, 415, 422),
    openapi_extra=request_body(JobCreate), summary="Create a job (admin)",
)  # fmt: skip
def create_job(request: Request, service: Annotated[Service, allowed_to("create_job")], body: Body) -> Response:
    """Create a job; its ``nextRunTime`` is computed from the schedule at once."""
    data = service.create_job(body)
    api_context(request).changed()
    return JSONResponse(data, status_code=201)


@router.get("/jobs/{job_id}", response_model=JobDetail, responses=error_responses(404, 422), summary="Show a job")
def get_job(credentials: Authenticated, job_id: JobId) -> Response:
    """A job with its task function, job type and latest 10 executions."""
    service = credentials.service()
    return JSONResponse(service.get_job(job_id))


@router.get(
    "/jobs/{job_id}/next", response_model=NextRunTimes, responses=error_responses(404, 422),
    summary="A job's next run times",
)  # fmt: skip
def get_next_runs(credentials: Authenticated, job_id: JobId, count: NextCount = 5) -> Response:
    """The job's next ``count`` slots (before jitter), honouring its start and end dates; for a
    paused or disabled job, those it would have once resumed or enabled."""
    service = credentials.service()
    return JSONResponse(service.get_next_runs(job_id, count=count))


@router.put(
    "/jobs/{job_id}", response_model=JobDetail, responses=WRITE_ERRORS,
    openapi_extra=request_body(JobUpdate), summary="Change a job (admin)",
)  # fmt: skip
def update_job(
    request: Request, service: Annotated[Service, allowed_to("update_job")], job_id: JobId, body: Body
) -> Response:
    """Change the fields sent; the others keep their values."""
    data = service.update_job(job_id, body)
    api_context(request).changed()
    return JSONResponse(data)


@router.delete(
    "/jobs/{job_id}", status_code=204, response_class=Response, responses=error_responses(403, 404, 409, 422),
    summary="Delete a job (admin)",
)  # fmt: skip
def delete_job(
    request: Request, service: Annotated[Service, allowed_to("delete_job")], job_id: JobId, force: Force = None
) -> Response:
    """Delete a job and its history; jobs of a system task function are protected (409).

    A job with pending or running executions is a 409 naming them, unless ``force=true``:
    then they are stopped and recorded first (the wait for the daemon happens on a worker
    thread, as for every plain ``def`` route, not on the event loop).
    """
    service.delete_job(job_id, force=as_bool(force) or False)
    api_context(request).changed()
    return Response(status_code=204)


@router.put(
    "/jobs/{job_id}/status", response_model=JobDetail, responses=WRITE_ERRORS,
    openapi_extra=request_body(JobStatusUpdate), summary="Enable, disable, pause or resume a job (operator)",
)  # fmt: skip
def set_job_status(
    request: Request, service: Annotated[Service, allowed_to("set_job_status")], job_id: JobId, body: Body
) -> Response:
    """Set ``isEnabled``, ``isPaused`` or both."""
    data = service.set_job_status(job_id, body)
    api_context(request).changed()
    return JSONResponse(data)


@router.post(
    "/jobs/{job_id}/trigger", response_model=TriggerResult, responses=error_responses(403, 404, 409, 422),
    summary="Run a job now (operator)",
)  # fmt: skip
def trigger_job(request: Request, service: Annotated[Service, allowed_to("trigger_job")], job_id: JobId) -> Response:
    """Record a pending manual run; the daemon starts it at once. 409 when disabled or at ``maxInstances``."""
    data = service.trigger_job(job_id)
    api_context(request).changed()
    return JSONResponse(data)


@router.post(
    "/apply", response_model=ApplyPlan, responses=error_responses(403, 409, 413, 415, 422),
    openapi_extra=request_body(ApplyRequest), summary="Apply a jobs file (admin)",
)  # fmt: skip
def apply_jobs(request: Request, service: Annotated[Service, allowed_to("apply_jobs")], body: Body) -> Response:
    """Make the jobs of a jobs file (its ``[[jobs]]`` tables as JSON) be as they say, all or
    nothing, and answer the plan; with ``dryRun`` only the plan. ``prune`` deletes the jobs of
    ``source`` the file no longer holds; for a file of no jobs only with ``allowEmpty``."""
    parsed = parse_body(ApplyRequest, body)
    data = service.apply_jobs(
        source=parsed.source, jobs=parsed.jobs, prune=parsed.prune, dry_run=parsed.dryRun,
        allow_empty=parsed.allowEmpty,
    )  # fmt: skip
    if not parsed.dryRun and (data["created"] or data["updated"] or data["deleted"]):
        api_context(request).changed()
    return JSONResponse(data)
