"""Who is asking: the bearer token turned into a :class:`~jobctl.models.Caller` and its service.

Every request is checked against the store, nothing is cached: a revoked token stops working
on its next request. Which role an operation needs is the service's rule
(:func:`jobctl.service.access.authorize`); :func:`allowed_to` only asks it before the route reads a body, so
a caller whose role is too low gets 403, never a 422 about a body it may not send.

The token lookup reads the store, so it never runs on the event loop (a lookup waiting on a
locked store would block ``/healthz`` with it), and it shares its worker thread with the
operation: every thread hop costs a request about a fifth of its throughput (bench/README.md).
:data:`Authenticated` only captures the token on the loop (no I/O); a read route, a plain
``def`` that FastAPI runs in its thread pool, calls :meth:`Credentials.service` and then its
operation in that one thread. :func:`allowed_to` is one sync dependency that authenticates and
authorizes in one hop, before a write route reads its body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jobctl.api.params import check_query_names
from jobctl.errors import NotAuthenticated
from jobctl.service import Service
from jobctl.service.access import authorize
from jobctl.service.settings import ServiceSettings
from jobctl.service.tokens import LastUseThrottle, authenticate
from jobctl.store import Store

bearer = HTTPBearer(auto_error=False, description="A token made with `jobctl token create NAME --role ROLE`.")


@dataclass(frozen=True, kw_only=True)
class ApiContext:
    """What every request of one app shares: the open store and the daemon's settings."""

    store: Store
    settings: Callable[[], ServiceSettings]
    """The daemon's config as it is in force now (a SIGHUP swaps it): asked once per request, so
    that a request sees one config whole (docs/config-reload.md)."""
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


@dataclass(frozen=True)
class Credentials:
    """The request's bearer token, captured on the event loop and not yet checked."""

    context: ApiContext
    secret: str | None
    request: Request | None = None

    def service(self) -> Service:
        """The service acting for the token's owner, once the query's names are known good;
        reads the store, so call it off the loop.

        :raises NotAuthenticated: (401)
        :raises ValidationFailed: (422) for a query parameter the route does not take, or one
            given twice that takes one value (:func:`~jobctl.api.params.check_query_names`)
        """
        service = self.authenticated()
        self.check_query()
        return service

    def authenticated(self) -> Service:
        """:meth:`service` without the check of the query's names. :raises NotAuthenticated: (401)"""
        caller = authenticate(self.context.store, self.secret, self.context.last_use)
        return Service.configured(self.context.store, caller, self.context.settings())

    def check_query(self) -> None:
        """The query's names, checked where FastAPI has checked its values: after the token (and,
        for a write, the role), before the operation."""
        if self.request is not None:
            check_query_names(self.request)


async def credentials(
    request: Request, bearer_credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Credentials:
    """The token as sent; a request without one is 401 at once (no store needed to know).

    ``async`` on purpose: it does no I/O, so running it on the loop spares the request a hop.
    """
    secret = bearer_credentials.credentials if bearer_credentials else None
    if not secret:
        raise NotAuthenticated("missing bearer token")
    return Credentials(api_context(request), secret, request)


Authenticated = Annotated[Credentials, Depends(credentials)]
"""For a plain ``def`` route: ``credentials.service()`` in its body authenticates in the route's
own worker thread, so a read crosses to the thread pool once."""


def current_service(credentials: Authenticated) -> Service:
    """The service acting for the token's owner, as a sync dependency (a hop of its own).

    :raises NotAuthenticated: (401)
    """
    return credentials.service()


CurrentService = Annotated[Service, Depends(current_service)]


def allowed_to(operation: str) -> Any:
    """The caller's service as a dependency, once the service allows it ``operation``.

    Declare it before the body in a route's parameters: FastAPI resolves dependencies in that
    order, so the role is checked before the body is read. The token lookup and the role check
    share one worker thread. :raises NotAuthenticated: (401) :raises PermissionDenied: (403)
    """

    def check(credentials: Authenticated) -> Service:
        service = credentials.authenticated()
        authorize(service.caller, operation)
        credentials.check_query()
        return service

    return Depends(check)
