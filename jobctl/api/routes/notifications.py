"""``/notifications`` and ``/notifiers``: what was sent to whom, and the notifiers of the config."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from jobctl.api.auth import Authenticated, allowed_to
from jobctl.api.errors import error_responses
from jobctl.api.openapi import NotificationList, NotifierList, NotifierTestResult
from jobctl.api.params import DeliveryStatusFilter, JobIdFilter, NotifierName, Page, PerPage
from jobctl.service import Service

router = APIRouter(tags=["notifications"])


@router.get(
    "/notifications", response_model=NotificationList, responses=error_responses(422), summary="List notifications"
)
def list_notifications(
    credentials: Authenticated, job_id: JobIdFilter = None, status: DeliveryStatusFilter = None, page: Page = 1,
    per_page: PerPage = 50,
) -> Response:  # fmt: skip
    """Deliveries of events to notifiers, newest first, with their attempts and last error."""
    service = credentials.service()
    data = service.list_notifications(job_id=job_id, status=status, page=page, per_page=per_page)
    return JSONResponse(data)


@router.get("/notifiers", response_model=NotifierList, responses=error_responses(), summary="List notifiers")
def list_notifiers(credentials: Authenticated) -> Response:
    """The daemon's notifiers, secrets masked."""
    return JSONResponse(credentials.service().list_notifiers())


@router.post(
    "/notifiers/{name}/test", response_model=NotifierTestResult, responses=error_responses(403, 404, 422),
    summary="Send a test notification (operator)",
)  # fmt: skip
def test_notifier(service: Annotated[Service, allowed_to("test_notifier")], name: NotifierName) -> Response:
    """Send a ``test`` event (a sample job and run) through the notifier now; ``ok`` says whether it was delivered."""
    return JSONResponse(service.test_notifier(name))
