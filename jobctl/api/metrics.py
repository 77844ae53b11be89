"""``GET /metrics`` for Prometheus: a viewer token, unless the daemon serves it publicly.

The text itself is made by the daemon (which knows its scheduler and owns the Prometheus
library); this module only guards and serves it. The route is outside the OpenAPI document:
it is for a scraper, not part of the JSON API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from jobctl.api.auth import api_context, bearer
from jobctl.service.tokens import authenticate


@dataclass(frozen=True, kw_only=True)
class MetricsEndpoint:
    """What ``/metrics`` serves and to whom."""

    render: Callable[[], bytes]
    """The exposition text; may read the store (it runs in a worker thread)."""
    content_type: str
    public: Callable[[], bool]
    """Whether to serve it without a token (``[metrics] public``), asked on every request."""


def install_metrics(app: FastAPI, endpoint: MetricsEndpoint) -> None:
    """Serve ``endpoint`` at ``/metrics`` on ``app``."""
    app.state.metrics_endpoint = endpoint
    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)


def metrics(
    request: Request, bearer_credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Response:
    """The Prometheus text; a plain ``def``, so the token check and the store read stay off the loop.

    :raises NotAuthenticated: (401) without a valid token, unless the endpoint is public.
    """
    endpoint: MetricsEndpoint = request.app.state.metrics_endpoint
    if not endpoint.public():
        context = api_context(request)
        authenticate(context.store, bearer_credentials.credentials if bearer_credentials else None, context.last_use)
    return Response(endpoint.render(), media_type=endpoint.content_type)
