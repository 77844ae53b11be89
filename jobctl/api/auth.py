"""Who is asking: the bearer token turned into a :class:`~jobctl.models.Caller` and its service.

Every request is checked against the store, nothing is cached: a revoked token stops working
on its next request. Role checks are not made here; the service makes them per operation and
raises ``PermissionDenied`` (403), so the API and the local CLI enforce the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jobctl.service import Service
from jobctl.service.tokens import authenticate
from jobctl.store import Store

bearer = HTTPBearer(auto_error=False, description="A token made with `jobctl token create NAME --role ROLE`.")


@dataclass(frozen=True, kw_only=True)
class ApiContext:
    """What every request of one app shares: the open store and the daemon's settings."""

    store: Store
    default_timezone: str
    on_change: Callable[[], None] | None = None

    def changed(self) -> None:
        """Tell the scheduler that jobs or executions changed, so it reconsiders at once."""
        if self.on_change is not None:
            self.on_change()


def api_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.jobctl
    return context


async def current_service(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Service:
    """The service acting for the token's owner. :raises NotAuthenticated: (401)"""
    context = api_context(request)
    caller = authenticate(context.store, credentials.credentials if credentials else None)
    return Service(context.store, caller, default_timezone=context.default_timezone)


CurrentService = Annotated[Service, Depends(current_service)]
