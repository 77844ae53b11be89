"""The request body limit: anything over 1 MiB is refused with 413 before it is parsed.

A declared ``Content-Length`` over the limit is refused without reading the body; a body
without one (chunked) is counted while the route reads it, and the read fails once the count
passes the limit, so a client cannot stream an unbounded body into memory.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobctl.api.errors import PayloadTooLarge, error_response

MAX_BODY_BYTES = 1024 * 1024


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"request body larger than {MAX_BODY_BYTES} bytes")


class BodyLimit:
    """ASGI middleware enforcing :data:`MAX_BODY_BYTES` on every HTTP request."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await error_response(_too_large())(scope, receive, send)
            return
        if declared is not None:
            # The server delivers no more than the declared length.
            await self.app(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _too_large()
            return message

        return counted


def _content_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
