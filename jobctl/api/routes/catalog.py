"""``/task-functions``, ``/job-types`` and ``/status``: what can be scheduled, and the scheduler."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from jobctl.api.auth import Authenticated
from jobctl.api.errors import error_responses
from jobctl.api.openapi import JobTypeOut, Overview, SchedulerStatus, TaskFunctionList
from jobctl.api.params import IsActive, Page, PerPage, as_bool

router = APIRouter()


@router.get(
    "/task-functions", response_model=TaskFunctionList, responses=error_responses(422), tags=["catalog"],
    summary="List task functions",
)  # fmt: skip
def list_task_functions(
    credentials: Authenticated, is_active: IsActive = None, page: Page = 1, per_page: PerPage = 50
) -> Response:
    """What jobs can run; registered by the operator, never through the API."""
    service = credentials.service()
    return JSONResponse(service.list_task_functions(is_active=as_bool(is_active), page=page, per_page=per_page))


@router.get(
    "/job-types", response_model=list[JobTypeOut], responses=error_responses(), tags=["catalog"],
    summary="List schedule types",
)  # fmt: skip
def list_job_types(credentials: Authenticated) -> Response:
    """1 interval, 2 cron, 3 date."""
    service = credentials.service()
    return JSONResponse(service.list_job_types())


@router.get(
    "/status", response_model=SchedulerStatus, responses=error_responses(), tags=["status"],
    summary="Scheduler status",
)  # fmt: skip
def get_status(credentials: Authenticated) -> Response:
    """The leader, the live instances, job counts and the next job due."""
    service = credentials.service()
    return JSONResponse(service.get_status())


@router.get(
    "/overview", response_model=Overview, responses=error_responses(), tags=["status"],
    summary="Overview for a live view",
)  # fmt: skip
def get_overview(credentials: Authenticated) -> Response:
    """The status, the runs going on, the next slots, the latest failures and missed ranges (``jobctl top``)."""
    service = credentials.service()
    return JSONResponse(service.get_overview())
