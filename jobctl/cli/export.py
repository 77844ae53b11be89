"""``executions export``: every execution matching the filters, written as it is read.

The rows come through the service interface's stream (``JobService.stream_executions``: a
keyset walk of the store locally, one chunked answer of ``GET /executions/stream`` through
``--api``), a page at a time, and each page is written before the next is read: memory stays
that of one page however many millions of rows there are (docs/keyset-paging.md).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from jobctl.wire.responses import ExecutionOut

FORMATS = ("csv", "json", "ndjson")

CSV_COLUMNS = (
    "id", "jobId", "status", "scheduledFor", "startedAt", "completedAt", "durationSeconds", "attempt", "triggeredBy",
    "triggeredByUserId", "instanceId", "celeryTaskId", "errorMessage", "result", "outputDroppedBytes",
    "outputPruned",
)  # fmt: skip
"""CSV columns: the execution's JSON keys (result as JSON text); JSON formats keep every key."""
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
"""What ``json.dumps(row, ensure_ascii=False)`` gives, by one encoder for every row instead of one per call."""


def walk(pages: Iterable[list[ExecutionOut]]) -> Iterator[ExecutionOut]:
    """Every execution of a stream of pages, one by one.

    The first page is read at once, so a bad filter or an API that cannot be reached fails
    before anything is written (a remote stream asks for its answer on its first page).
    """
    rest = iter(pages)
    return _rows(next(rest, []), rest)


def _rows(first: list[ExecutionOut], rest: Iterator[list[ExecutionOut]]) -> Iterator[ExecutionOut]:
    yield from first
    for page in rest:
        yield from page


def write(rows: Iterator[ExecutionOut], out: TextIO, fmt: str) -> int:
    """Write ``rows`` to ``out`` in ``fmt``; how many were written."""
    writer = {"csv": _csv, "json": _json, "ndjson": _ndjson}[fmt]
    return writer(rows, out)


def _csv(rows: Iterator[ExecutionOut], out: TextIO) -> int:
    table = csv.writer(out)
    table.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        table.writerow([_cell(row.get(column)) for column in CSV_COLUMNS])
        count += 1
    return count


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _json(rows: Iterator[ExecutionOut], out: TextIO) -> int:
    out.write("[")
    count = 0
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(_ENCODE(row))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _ndjson(rows: Iterator[ExecutionOut], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(_ENCODE(row) + "\n")
        count += 1
    return count
