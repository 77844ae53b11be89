"""The scheduler API's routes: one module per resource, each a thin call into the service.

Routes are plain ``def`` functions: FastAPI runs them in its thread pool, so a statement
waiting on a locked SQLite file or a slow Postgres query holds one worker thread, never the
event loop that every other request (``/healthz`` included) needs (see docs/api.md). A read
checks its token in that same thread (``credentials.service()``), so it hops only once. Each
returns the service's dict in a ``JSONResponse`` so the response model documents the shape
without revalidating it.
"""

from fastapi import APIRouter
from fastapi.routing import APIRoute

from jobctl.api.routes import catalog, executions, history, jobs, notifications


def scheduler_router() -> APIRouter:
    """Every scheduler endpoint, relative to the mount point (``/api/v1/scheduler``)."""
    router = APIRouter()
    for module in (jobs, executions, catalog, notifications, history):
        _pair_streams(module.router)
        router.include_router(module.router)
    return router


def _pair_streams(router: APIRouter) -> None:
    """Give each stream (``GET /jobs/stream``) its paged listing (``GET /jobs``) as
    ``paged_listing``, so that a listing's parameter sent to the stream is refused in words that
    say why (:func:`jobctl.api.params.check_query_names`)."""
    gets = {
        route.path: route for route in router.routes if isinstance(route, APIRoute) and "GET" in (route.methods or ())
    }
    for path, route in gets.items():
        listing = gets.get(path.removesuffix("/stream")) if path.endswith("/stream") else None
        if listing is not None:
            route.paged_listing = listing  # type: ignore[attr-defined]


__all__ = ["scheduler_router"]
