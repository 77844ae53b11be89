"""Newline-delimited JSON answers: the whole of a listing in one request (``GET /jobs/stream``,
``GET /executions/stream``), one item per line, a chunk per page of the store's keyset walk.

Shared by the stream routes so both encode and document their lines the same way; the client
reads them with ``ApiSession.stream_lines`` (docs/keyset-paging.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi.responses import StreamingResponse

NDJSON = "application/x-ndjson"
_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
"""One encoder for every line (``json.dumps`` with options builds one per call)."""


def ndjson_response(pages: Iterator[list[Any]]) -> StreamingResponse:
    """A chunked answer of ``pages``: each page is one chunk, one line per item. The pages are
    read as the answer is sent, so a bad request must fail before this (when ``pages`` is made)."""
    return StreamingResponse(_chunks(pages), media_type=NDJSON)


def _chunks(pages: Iterator[list[Any]]) -> Iterator[bytes]:
    for page in pages:
        yield "".join(_LINE.encode(item) + "\n" for item in page).encode()


def ndjson_ok(schema: str, description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entry of a stream's 200 answer: one ``schema`` object per line."""
    content = {NDJSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    return {200: {"description": description, "content": content}}
