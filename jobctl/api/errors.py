"""The API's one error funnel: every failure becomes ``{"detail": ...}`` with a fitting status.

- :class:`~jobctl.errors.JobctlError` (raised by the service, the auth dependency and the body
  reader) answers with its own ``http_status`` and ``detail()``; 401s add ``WWW-Authenticate``.
- FastAPI's request validation (query and path parameters) becomes the same field-error list
  the service produces for bodies, ``[{"loc", "msg", "type"}]``.
- Starlette's HTTP errors (unknown path, wrong method) keep their status; a 405's ``Allow``
  names every method of the path.
- A client that hangs up before its request is read, or while a stream is sent to it, is no
  error of ours: one INFO line, nothing sent (there is no one to send it to).
- Anything else is a bug: logged with its traceback, answered with a bare 500 so no stack
  trace or internal detail reaches the client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobctl.api.methods import allowed_methods
from jobctl.api.openapi import ErrorBody, GoneBody, ValidationErrorBody
from jobctl.errors import JobctlError, NotAuthenticated, StoreError

log = logging.getLogger(__name__)

CHALLENGE = {"WWW-Authenticate": "Bearer"}
STORE_UNAVAILABLE = "the store cannot be used right now; the daemon's log has the cause"

_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Missing, invalid or revoked bearer token",
    403: "The token's role is too low for this operation",
    404: "No such job or execution",
    410: "The execution was deleted with its job by a forced delete that ended it; its last record is in the body",
    409: (
        "Conflicts with the current state (disabled job, maxInstances reached, duplicate name, system job, "
        "delete of a job with active runs, cancel of a run that already ended)"
    ),
    413: "Request body larger than 1 MiB",
    415: "The body is not sent as Content-Type: application/json",
    422: "Invalid field, parameter or malformed JSON",
    503: "The store cannot be read or written",
}


class PayloadTooLarge(JobctlError):
    """A request body over the API's size limit."""

    exit_code = 2
    http_status = 413


class UnsupportedMediaType(JobctlError):
    """A request body sent with a content type other than JSON (or none)."""

    exit_code = 2
    http_status = 415


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error statuses a route can answer with."""
    every_route = (401, 503)
    models = {422: ValidationErrorBody, 410: GoneBody}
    return {
        status: {"model": models.get(status, ErrorBody), "description": _DESCRIPTIONS[status]}
        for status in sorted({*statuses, *every_route})
    }


def install_error_handlers(app: FastAPI) -> None:
    """Register the funnel on ``app`` (see the module docstring)."""
    app.add_exception_handler(JobctlError, _jobctl_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(InternalErrorGuard)


def error_response(exc: JobctlError) -> JSONResponse:
    """The response for a jobctl error, also used by middleware that answers before routing.

    A store failure is logged in full but answered without its message, which names the
    store's URL or file path: API clients get to know that, not where the store lives.
    """
    headers = CHALLENGE if isinstance(exc, NotAuthenticated) else None
    detail = exc.detail()
    if isinstance(exc, StoreError):
        log.error("store failure answered with %d: %s", exc.http_status, exc.message)
        detail = STORE_UNAVAILABLE
    return JSONResponse({"detail": detail, **exc.extra()}, status_code=exc.http_status, headers=headers)


async def _jobctl_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, JobctlError)
    return error_response(exc)


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": list(error.get("loc", ())),
            "msg": _in_service_terms(request, error),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


def _in_service_terms(request: Request, error: dict[str, Any]) -> str:
    """A query parameter out of its range or not one of its values is told in the service's
    words (``must be between 1 and 100``, ``must be one of cancelled, failed, ...``), which
    the command line shows the same in both modes, instead of pydantic's ("Input should be
    greater than or equal to 1"); our own validators' sentences lose the ``Value error, `` pydantic
    puts before them, as in bodies; anything else keeps pydantic's message."""
    kind, message = error.get("type"), str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if kind in ("greater_than_equal", "less_than_equal"):
        bounds = _declared_bounds(request, list(error.get("loc", ())))
        return f"must be between {bounds[0]} and {bounds[1]}" if bounds else message
    if kind == "literal_error":
        import re

        names = re.findall(r"'([^']*)'", str((error.get("ctx") or {}).get("expected", "")))
        return f"must be one of {', '.join(sorted(names))}" if names else message
    return message


def _declared_bounds(request: Request, loc: list[Any]) -> tuple[Any, Any] | None:
    """The ``ge`` and ``le`` the route declares for the query parameter at ``loc``, when it has both."""
    if len(loc) != 2 or loc[0] != "query":
        return None
    dependant = getattr(request.scope.get("route"), "dependant", None)
    for param in getattr(dependant, "query_params", ()):
        if param.alias == loc[1]:
            low = next((m.ge for m in param.field_info.metadata if getattr(m, "ge", None) is not None), None)
            high = next((m.le for m in param.field_info.metadata if getattr(m, "le", None) is not None), None)
            return (low, high) if low is not None and high is not None else None
    return None


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors keep their status and text; a 405 names in ``Allow`` every method
    of the path, not only those of the first route that matched it (:mod:`.methods`)."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request.app.router.routes, request.scope))
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers or None)


class InternalErrorGuard:
    """ASGI middleware turning an unexpected exception into a logged, bare 500, and a client
    that hung up into one INFO line (Starlette raises ``ClientDisconnect`` reading a body the
    client stopped sending, or sending a stream to a closed connection).

    Starlette's own last-resort handler re-raises after answering, which makes the server log
    the error a second time; this guard answers and logs once.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            log.info("client hung up before %s %s was answered", scope.get("method"), scope.get("path"))
        except Exception:
            log.exception("internal error answering %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await JSONResponse({"detail": "internal error"}, status_code=500)(scope, receive, send)
