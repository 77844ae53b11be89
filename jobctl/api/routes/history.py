"""``/audit`` and ``/jobs/{id}/timeline``: who changed what, and what became of a job's slots."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from jobctl.api.auth import Authenticated
from jobctl.api.errors import error_responses
from jobctl.api.openapi import AuditList, JobTimeline
from jobctl.api.params import ActorFilter, JobId, JobIdFilter, Page, PerPage, WindowEdge

router = APIRouter(tags=["history"])


@router.get(
    "/jobs/{job_id}/timeline", response_model=JobTimeline, responses=error_responses(404, 422),
    summary="Why a job ran or did not",
)  # fmt: skip
def get_job_timeline(
    credentials: Authenticated, job_id: JobId, since: WindowEdge = None, until: WindowEdge = None
) -> Response:
    """The job's runs, skipped slots, missed ranges and changes between ``since`` (default 24 h
    before ``until``) and ``until`` (default now), at most 366 days apart; its next slot; and a
    verdict in words on its most recent slot."""
    service = credentials.service()
    return JSONResponse(service.get_job_timeline(job_id, since=since, until=until))


@router.get(
    "/audit", response_model=AuditList, responses=error_responses(403, 422), summary="Read the audit log (admin)"
)
def list_audit(
    credentials: Authenticated, job_id: JobIdFilter = None, actor: ActorFilter = None, since: WindowEdge = None,
    page: Page = 1, per_page: PerPage = 50,
) -> Response:  # fmt: skip
    """Every change made through the service, newest first: jobs created, updated (fields old ->
    new, secrets masked), deleted, paused, resumed, enabled, disabled, triggered; tokens created
    and revoked; task functions synced."""
    service = credentials.service()
    data = service.list_audit(job_id=job_id, actor=actor, since=since, page=page, per_page=per_page)
    return JSONResponse(data)
