"""The scheduler API's routes: one module per resource, each a thin call into the service.

Routes are plain ``def`` functions: FastAPI runs them in its thread pool, so a statement
waiting on a locked SQLite file or a slow Postgres query holds one worker thread, never the
event loop that every other request (``/healthz`` included) needs (see docs/api.md). A read
checks its token in that same thread (``credentials.service()``), so it hops only once. Each
returns the service's dict in a ``JSONResponse`` so the response model documents the shape
without revalidating it.
"""

from fastapi import APIRouter

from jobctl.api.routes import catalog, executions, history, jobs, notifications


def scheduler_router() -> APIRouter:
    """Every scheduler endpoint, relative to the mount point (``/api/v1/scheduler``)."""
    router = APIRouter()
    router.include_router(jobs.router)
    router.include_router(executions.router)
    router.include_router(catalog.router)
    router.include_router(notifications.router)
    router.include_router(history.router)
    return router


__all__ = ["scheduler_router"]
