"""Who is asking: the bearer token turned into a :class:`~jobctl.models.Caller` and its service.

Every request is checked against the store, nothing is cached: a revoked token stops working
on its next request. Which role an operation needs is the service's rule
(:func:`jobctl.service.access.authorize`); :func:`allowed_to` only asks it before the route reads a body, so
a caller whose role is too low gets 403, never a 422 about a body it may not send.

The dependencies here are plain functions: FastAPI runs them in its thread pool, so a token
lookup waiting on a locked store never blocks the event loop (and ``/healthz`` with it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jobctl.service import Service
from jobctl.service.access import authorize
from jobctl.service.tokens import LastUseThrottle, authenticate
from jobctl.store import Store

bearer = HTTPBearer(auto_error=False, description="A token made with `jobctl token create NAME --role ROLE`.")


@dataclass(frozen=True, kw_only=True)
class ApiContext:
    """What every request of one app shares: the open store and the daemon's settings."""

    store: Store
    default_timezone: str
    on_change: Callable[[], None] | None = None
    last_use: LastUseThrottle = field(default_factory=LastUseThrottle)
    """Which token uses this app records as ``lastUsedAt`` (at most one a minute per token)."""

    def changed(self) -> None:
        """Tell the scheduler that jobs or executions changed, so it reconsiders at once."""
        if self.on_change is not None:
            self.on_change()


def api_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.jobctl
    return context


def current_service(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Service:
    """The service acting for the token's owner. :raises NotAuthenticated: (401)"""
    context = api_context(request)
    caller = authenticate(context.store, credentials.credentials if credentials else None, context.last_use)
    return Service(context.store, caller, default_timezone=context.default_timezone)


CurrentService = Annotated[Service, Depends(current_service)]


def allowed_to(operation: str) -> Any:
    """The caller's service as a dependency, once the service allows it ``operation``.

    Declare it before the body in a route's parameters: FastAPI resolves dependencies in that
    order, so the role is checked before the body is read. :raises PermissionDenied: (403)
    """

    def check(service: CurrentService) -> Service:
        authorize(service.caller, operation)
        return service

    return Depends(check)
