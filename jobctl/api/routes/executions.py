"""``/executions`` and ``/jobs/{id}/executions``: the history of runs and their output."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from jobctl.api.auth import Authenticated, allowed_to, api_context
from jobctl.api.errors import error_responses
from jobctl.api.ndjson import ndjson_ok, ndjson_response
from jobctl.api.openapi import ExecutionList, ExecutionLog, ExecutionOut
from jobctl.api.params import (
    AfterCursor,
    BeforeCursor,
    ExecutionId,
    IdPrefix,
    JobId,
    JobIdFilter,
    LogOffset,
    Page,
    PerPage,
    SinceFilter,
    StatusFilter,
    UntilFilter,
    query_window,
)
from jobctl.service import Service
from jobctl.service.execution_log import read_execution_log
from jobctl.wire.responses import OUTPUT_PRUNED_HEADER

router = APIRouter(tags=["executions"])


@router.get("/executions", response_model=ExecutionList, responses=error_responses(422), summary="List executions")
def list_executions(
    credentials: Authenticated, job_id: JobIdFilter = None, status: StatusFilter = None, page: Page = 1,
    per_page: PerPage = 50, id_prefix: IdPrefix = None, after: AfterCursor = None, before: BeforeCursor = None,
    since: SinceFilter = None, until: UntilFilter = None,
) -> Response:  # fmt: skip
    """Runs of every job, newest first: by page, or by cursor (``after``/``before`` and ``nextCursor``)."""
    service = credentials.service()
    since_at, until_at = query_window(since, until)
    data = service.list_executions(
        job_id=job_id, status=status, page=page, per_page=per_page,
        id_prefix=id_prefix, after=after, before=before, since=since_at, until=until_at,
    )  # fmt: skip
    return JSONResponse(data)


@router.get(
    "/executions/stream", response_class=StreamingResponse,
    responses={**ndjson_ok("ExecutionOut", "One execution per line, as in `executions` of `GET /executions`"),
               **error_responses(422)},
    summary="Every execution, streamed",
)  # fmt: skip
def stream_executions(
    credentials: Authenticated, job_id: JobIdFilter = None, status: StatusFilter = None,
    after: AfterCursor = None, since: SinceFilter = None, until: UntilFilter = None,
) -> Response:  # fmt: skip
    """Every execution the filters match, newest first as in ``GET /executions``, after ``after``
    (an execution's id, as a ``nextCursor``) or from the newest: newline-delimited JSON, one
    execution per line, in one answer instead of a request per page. Declared before
    ``/executions/{execution_id}``, which would take ``stream`` for an id. An answer cut short
    (the connection closed before the end of its chunked body) is incomplete, never the whole list."""
    service = credentials.service()
    since_at, until_at = query_window(since, until)
    pages = service.stream_executions(job_id=job_id, status=status, after=after, since=since_at, until=until_at)
    return ndjson_response(pages)


@router.get(
    "/jobs/{job_id}/executions", response_model=ExecutionList, responses=error_responses(404, 422),
    summary="List a job's executions",
)  # fmt: skip
def list_job_executions(
    credentials: Authenticated, job_id: JobId, status: StatusFilter = None, page: Page = 1, per_page: PerPage = 50,
    after: AfterCursor = None, before: BeforeCursor = None, since: SinceFilter = None, until: UntilFilter = None,
) -> Response:  # fmt: skip
    """Runs of one job, newest first, by page or by cursor."""
    service = credentials.service()
    since_at, until_at = query_window(since, until)
    data = service.list_job_executions(job_id, status=status, page=page, per_page=per_page, after=after,
                                       before=before, since=since_at, until=until_at)  # fmt: skip
    return JSONResponse(data)


@router.get(
    "/executions/{execution_id}", response_model=ExecutionOut, responses=error_responses(404, 410, 422),
    summary="Show an execution",
)  # fmt: skip
def get_execution(credentials: Authenticated, execution_id: ExecutionId) -> Response:
    service = credentials.service()
    return JSONResponse(service.get_execution(execution_id))


_LOG_HEADERS = {
    OUTPUT_PRUNED_HEADER: {
        "description": "true when retention removed the run's output (its outputPruned; the log is then empty), "
        "else false",
        "schema": {"type": "string", "enum": ["true", "false"]},
    }
}


@router.get(
    "/executions/{execution_id}/log", response_model=ExecutionLog,
    responses={200: {"headers": _LOG_HEADERS}, **error_responses(404, 410, 422)},
    summary="Read an execution's output",
)  # fmt: skip
def get_execution_log(credentials: Authenticated, execution_id: ExecutionId, offset: LogOffset = 0) -> Response:
    """Output from ``offset`` on; poll with ``nextOffset`` until ``complete`` to follow a run live.
    The ``X-Jobctl-Output-Pruned`` header says whether retention removed the run's output."""
    service = credentials.service()  # authenticates: any role reads
    page = read_execution_log(service.store, execution_id, offset=offset)
    return JSONResponse(page.body, headers={OUTPUT_PRUNED_HEADER: "true" if page.output_pruned else "false"})


@router.post(
    "/executions/{execution_id}/cancel", response_model=ExecutionOut, responses=error_responses(403, 404, 409, 422),
    summary="Cancel a run (operator)",
)  # fmt: skip
def cancel_execution(
    request: Request, service: Annotated[Service, allowed_to("cancel_execution")], execution_id: ExecutionId
) -> Response:
    """A pending run ends ``cancelled`` at once; a running one is stopped (TERM to its process group,
    KILL after the kill grace; a Celery task is revoked) by the daemon running it, and the answer
    comes once it is recorded ``cancelled``. 409 when the run already ended."""
    data = service.cancel_execution(execution_id)
    api_context(request).changed()
    return JSONResponse(data)
