"""``GET /executions``: a page by number (as the seed defines it) or by cursor (keyset paging).

Page numbers shift while runs are recorded: a new run at the top pushes every row one place
down, so a walk page by page sees one row twice and misses another. A cursor does not shift:
``after=ID`` lists what comes after that execution in the listing's order (older runs),
``before=ID`` what comes before it (newer ones), by ``(createdAt, id)``. Every answer carries
``nextCursor``: the id to pass as ``after`` (or, in a ``before`` walk, as ``before`` again) for
the next page, or null when nothing more follows. With a cursor, ``total`` is null: counting
millions of rows for every page of a walk would cost more than the page (docs/keyset-paging.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import cast

from jobctl.errors import ValidationFailed
from jobctl.models import Execution, ExecutionStatus, TriggeredBy
from jobctl.service.keyset_walk import created_key, walk_pages
from jobctl.service.windows import check_order
from jobctl.store import Store
from jobctl.store.database import Row, utc_text
from jobctl.store.executions import ExecutionFilter
from jobctl.store.records import load_json
from jobctl.wire import responses
from jobctl.wire.responses import ExecutionList, ExecutionOut

STREAM_PAGE = 500
"""Executions read per query of :func:`stream_executions`, as ``STREAM_PAGE`` of the jobs'
stream: each query starts a range of ``ix_executions_created_id`` afresh, and a page of rows
is a few hundred KB."""


def list_executions(
    store: Store,
    filters: ExecutionFilter,
    *,
    limit: int,
    offset: int,
    after: str | None = None,
    before: str | None = None,
) -> ExecutionList:
    """One page; ``limit``/``offset`` come from a checked page and per_page.

    :raises ValidationFailed: for both cursors, a cursor with a page past the first, a cursor
        that names no stored execution, or ``until`` not after ``since``.
    """
    _check(filters, offset=offset, after=after, before=before)
    after_row = _cursor_row(store, "after", after)
    before_row = _cursor_row(store, "before", before)
    items, more = store.executions.page(filters, limit=limit, offset=offset, after=after_row, before=before_row)
    cursor_given = after_row is not None or before_row is not None
    total = None if cursor_given else store.executions.count(filters)
    next_cursor = None
    if more and items:
        next_cursor = items[0].id if before_row is not None else items[-1].id
    return responses.execution_list(items, total, next_cursor=next_cursor)


def stream_executions(store: Store, filters: ExecutionFilter, *, after: str | None) -> Iterator[list[ExecutionOut]]:
    """Every execution the filters match after the one named by ``after`` (from the newest
    without it), newest first as the listing, a page of :data:`STREAM_PAGE` at a time
    (``GET /executions/stream``).

    Each page is its own keyset query after the last row of the one before, so runs recorded
    during the walk are not in it and none shifts it: each execution is read once.

    :raises ValidationFailed: as :func:`list_executions` for the cursor and ``until``, before
        anything is read (the generator is made after the checks).
    """
    _check(filters, offset=0, after=after, before=None)
    return _stream_pages(store, filters, _cursor_row(store, "after", after))


def _stream_pages(store: Store, filters: ExecutionFilter, cursor: Execution | None) -> Iterator[list[ExecutionOut]]:
    return walk_pages(
        lambda after: store.executions.page_rows(filters, limit=STREAM_PAGE, after=after),
        None if cursor is None else (cursor.created_at, cursor.id),
        created_key,
        listed_execution,
    )


def listed_execution(row: Row) -> ExecutionOut:
    """A stored execution's row in the API's shape: what ``responses.execution(
    execution_from_row(row))`` gives, to the byte once printed, built straight from the row.

    As ``listed_job`` for jobs: the record in between re-shapes each column twice and checks
    the enums, about half of an export's time. Timestamps are re-spelt from the stored text
    (:func:`~jobctl.store.database.utc_text`), the result decoded once, numbers and booleans
    made what SQLite keeps as 0/1 or text, and the enums taken as their stored values. The keys
    and their order are :func:`jobctl.wire.responses.execution`'s;
    tests/test_execution_listing_rows.py compares the two on both stores.
    """
    status, duration, missed = row["status"], row["duration_seconds"], row["missed_count"]
    item = {
        "id": row["id"],
        "jobId": row["job_id"],
        "celeryTaskId": row["celery_task_id"],
        "status": status,
        "startedAt": utc_text(row["started_at"]),
        "completedAt": utc_text(row["completed_at"]),
        "durationSeconds": None if duration is None else float(duration),
        "result": load_json(row["result"]),
        "errorMessage": row["error_message"],
        "triggeredBy": row["triggered_by"],
        "triggeredByUserId": row["triggered_by_user_id"],
        "scheduledFor": utc_text(row["scheduled_for"]),
        "attempt": int(row["attempt"]),
        "instanceId": row["instance_id"],
        "outputDroppedBytes": int(row["output_dropped_bytes"] or 0),
        "outputPruned": bool(row["output_pruned"]),
        "cancelledBy": row["cancelled_by"],
        "missedCount": None if missed is None else int(missed),
        "missedUntil": utc_text(row["missed_until"]),
        "pendingReason": _pending_reason(row) if status == ExecutionStatus.PENDING.value else None,
        "createdAt": utc_text(row["created_at"]),
    }
    return cast(ExecutionOut, item)  # the enums as their values (str), which JSON spells alike


def _pending_reason(row: Row) -> str | None:
    """:func:`jobctl.wire.responses.pending_reason` of a pending run's row."""
    if row["pending_reason"]:
        return str(row["pending_reason"])
    if row["triggered_by"] == TriggeredBy.RETRY.value and row["run_after"] is not None:
        return f"retry at {utc_text(row['run_after'])}"
    return None


def _check(filters: ExecutionFilter, *, offset: int, after: str | None, before: str | None) -> None:
    if after is not None and before is not None:
        raise ValidationFailed.field(["query", "before"], "give after or before, not both")
    if (after is not None or before is not None) and offset:
        raise ValidationFailed.field(["query", "page"], "give a cursor or a page number past the first, not both")
    check_order(filters.since, filters.until)


def _cursor_row(store: Store, name: str, execution_id: str | None) -> Execution | None:
    from jobctl.wire.ids import MAY_BE_PRUNED, query_uuid

    if execution_id is None:
        return None
    row = store.executions.get(query_uuid(execution_id, ["query", name]))  # in lower case, as ids are stored
    if row is None:
        raise ValidationFailed.field(["query", name], f"no execution with this id ({MAY_BE_PRUNED})")
    return row


def query_time(value: datetime | None, name: str) -> datetime | None:
    """A ``since``/``until`` time in UTC; one without a zone is UTC (the API's times all are).

    :raises ValidationFailed: at ``["query", name]`` for a time whose UTC instant falls outside
        the years 1-9999 (``0001-01-01T00:00:00+01:00``): the store keeps UTC times. The API
        reads its text with the same check first (:func:`jobctl.service.windows.parse_instant`).
    """
    if value is None:
        return None
    from jobctl.schedules.moments import TimeOutOfRange, in_utc

    try:
        return in_utc(value, value.isoformat())
    except TimeOutOfRange as exc:
        raise ValidationFailed.field(["query", name], str(exc)) from None
