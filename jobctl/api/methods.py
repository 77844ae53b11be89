"""Which methods a path answers, as RFC 9110 asks: ``HEAD`` wherever ``GET`` is, and an ``Allow``
header on a 405 that names every method of the path.

FastAPI registers one route per method and path (``GET /jobs`` and ``POST /jobs`` are two), and
Starlette answers a method a path does not take with the methods of the first route whose path
matched alone: ``DELETE /jobs`` said ``Allow: GET`` though ``POST`` is served too. And FastAPI
routes take no ``HEAD`` (a Starlette route adds it beside ``GET``; FastAPI's do not, to keep it
out of the OpenAPI document), so ``curl -I`` was a 405 everywhere, ``/healthz`` included.

:class:`HeadAsGet` serves a ``HEAD`` as the ``GET`` of the same path without its body, whatever
the server does with one; :func:`allowed_methods` is what the error funnel puts in ``Allow``.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware answering ``HEAD`` with the headers ``GET`` would have, and no body.

    The route runs as for ``GET`` (a stream is read to its end and dropped: a ``HEAD`` of a
    listing is rare, and its ``Content-Length`` or chunking says what ``GET`` would send).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
"""The methods asked about for ``Allow`` (``HEAD`` follows ``GET``)."""


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route of ``routes`` answers at the path of ``scope``, ``HEAD`` with ``GET``.

    Each method is tried as the router would route it (``BaseRoute.matches``): FastAPI nests
    included routers, so a flat walk of ``app.routes`` would not find every route.
    """
    methods = [method for method in METHODS if _routed(routes, {**scope, "method": method})]
    return sorted({*methods, "HEAD"} if "GET" in methods else methods)


def _routed(routes: Sequence[BaseRoute], scope: Scope) -> bool:
    return any(route.matches(scope)[0] == Match.FULL for route in routes)
