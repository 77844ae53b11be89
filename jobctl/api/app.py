"""The application factory: the scheduler routes mounted twice, auth, limits and the error funnel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from jobctl import __version__
from jobctl.api.auth import ApiContext
from jobctl.api.docs import install_docs
from jobctl.api.errors import install_error_handlers
from jobctl.api.limits import BodyLimit
from jobctl.api.methods import HeadAsGet
from jobctl.api.metrics import MetricsEndpoint, install_metrics
from jobctl.api.openapi import Health, request_schemas
from jobctl.api.routes import scheduler_router
from jobctl.service.settings import ServiceSettings
from jobctl.store import Store

API_PREFIX = "/api/v1/scheduler"
ALIAS_PREFIX = "/api/setting/scheduler"
"""The Next.js front end's proxy paths, served by the same handlers and left out of the OpenAPI document."""

DESCRIPTION = f"""\
The REST API of the jobctl daemon. Every endpoint needs `Authorization: Bearer <token>`
(`jobctl token create NAME --role viewer|operator|admin`): viewers read, operators also trigger
and change `/status`, admins also create, update and delete. Errors are `{{"detail": "..."}}`,
validation errors `{{"detail": [{{"loc", "msg", "type"}}]}}`. Bodies over 1 MiB are refused (413).
Every path below is also served under `{ALIAS_PREFIX}`.
"""


def create_app(
    store: Store, *, settings: ServiceSettings | Callable[[], ServiceSettings],
    on_change: Callable[[], None] | None = None, docs: bool = False, metrics: MetricsEndpoint | None = None,
) -> FastAPI:  # fmt: skip
    """The ASGI app serving the scheduler API over ``store``.

    ``settings`` is the config's part in the answers (the zone of cron jobs created without one,
    the notifiers and the rules jobs may name, the groups, ``[history]``, the kill grace a
    cancel waits for), or a function giving the settings in force: a daemon's, which a SIGHUP
    swaps; each request asks it once. ``on_change`` is called after every write the scheduler
    must notice (create, update, status, delete, trigger). ``docs`` serves the ``/docs`` page
    and a public ``/openapi.json`` (see :mod:`.docs`). ``metrics`` serves ``/metrics`` (see
    :mod:`.metrics`). The store stays open and owned by the caller.

    A path with a trailing slash (``/jobs/``) is a 404 like any unknown path: Starlette's default
    answered it with a redirect, a 307 even for a ``POST``, with an empty body the API's error
    shape does not have. ``HEAD`` is served wherever ``GET`` is (:mod:`.methods`).
    """
    app = FastAPI(
        title="jobctl scheduler API", version=__version__, description=DESCRIPTION, openapi_url=None, docs_url=None,
        redoc_url=None, generate_unique_id_function=_operation_id, redirect_slashes=False,
    )  # fmt: skip
    in_force = settings if callable(settings) else (lambda: settings)
    app.state.jobctl = ApiContext(store=store, settings=in_force, on_change=on_change)
    router = scheduler_router()
    app.include_router(router, prefix=API_PREFIX)
    app.include_router(router, prefix=ALIAS_PREFIX, include_in_schema=False)
    app.add_api_route("/healthz", healthz, methods=["GET"], response_model=Health, tags=["health"], summary="Liveness")
    install_docs(app, public=docs)
    if metrics is not None:
        install_metrics(app, metrics)
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(HeadAsGet)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


async def healthz() -> JSONResponse:
    """Whether the server answers at all; needs no token (for load balancers and probes)."""
    return JSONResponse({"status": "ok"})


def _operation_id(route: APIRoute) -> str:
    """The handler's name (``list_jobs``), so generated clients get readable method names."""
    return route.name


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's generated document plus the request body schemas the routes refer to."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes,
            openapi_version=app.openapi_version, tags=app.openapi_tags,
        )  # fmt: skip
        schema.setdefault("components", {}).setdefault("schemas", {}).update(request_schemas())
        app.openapi_schema = schema
    return app.openapi_schema
