"""``GET /jobs``: a page by number (as the seed defines it) or by cursor (keyset paging).

Jobs are listed oldest first, by ``(createdAt, id)``. A walk by page number skips a job for
every job deleted from an earlier page meanwhile (the rest move up one place), and each page
costs more than the one before (``OFFSET`` reads every row it skips). A cursor does neither:
``after=CURSOR`` lists the jobs after that place in the order. Every answer carries
``nextCursor``, or null at the end. With a cursor the counts are null: counting 100,000 jobs
for each page of a walk would cost more than the walk (docs/keyset-paging.md).

The cursor holds the key itself, not a job id: jobs are deleted routinely, and a walk whose
last job was deleted meanwhile must go on from the same place.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import cast

from jobctl.errors import ValidationFailed
from jobctl.models import Job
from jobctl.service.keyset_walk import created_key, walk_pages
from jobctl.store import Store
from jobctl.store.database import Row, to_utc, utc_text
from jobctl.store.jobs import JobFilter, JobKey
from jobctl.store.records import load_json
from jobctl.wire.responses import JobList, JobOut

CURSOR_MAX_CHARS = 128
"""Longer than any cursor this module makes (about 92 characters); the API refuses longer ones."""

_SEPARATOR = "/"

STREAM_PAGE = 500
"""Jobs read per query of :func:`stream_jobs`: the rows of one query are a few hundred KB, and
each query starts a range of ``ix_jobs_created_id`` afresh."""


def list_jobs(store: Store, filters: JobFilter, *, limit: int, offset: int, after: str | None = None) -> JobList:
    """One page; ``limit``/``offset`` come from a checked page and per_page.

    :raises ValidationFailed: for a cursor with a page past the first, or a text that is no
        cursor of this listing.
    """
    if after is not None and offset:
        raise ValidationFailed.field(["query", "page"], "give a cursor or a page number past the first, not both")
    key = parse_cursor(after) if after is not None else None
    rows, more = store.jobs.page_rows(filters, limit=limit, offset=offset, after=key)
    next_cursor = _cursor_of_row(rows[-1]) if more and rows else None
    items = [listed_job(row) for row in rows]
    if key is not None:
        return {"jobs": items, "total": None, "enabledCount": None, "disabledCount": None, "runningCount": None,
                "nextCursor": next_cursor}  # fmt: skip
    counts = store.jobs.counts(filters)
    return {"jobs": items, "total": counts.total, "enabledCount": counts.enabled, "disabledCount": counts.disabled,
            "runningCount": counts.running, "nextCursor": next_cursor}  # fmt: skip


def stream_jobs(store: Store, filters: JobFilter, *, after: str | None) -> Iterator[list[JobOut]]:
    """Every job the filters match after the cursor (from the first without one), in the
    listing's order, a page of :data:`STREAM_PAGE` at a time (``GET /jobs/stream``).

    Each page is its own keyset query, so jobs created or deleted during the walk neither
    repeat nor push others out, as in a walk of ``GET /jobs`` by cursor (docs/keyset-paging.md).

    :raises ValidationFailed: at ``["query", "after"]`` for a text that is no cursor of this
        listing (before anything is read).
    """
    key = parse_cursor(after) if after is not None else None
    return _stream_pages(store, filters, key)


def _stream_pages(store: Store, filters: JobFilter, key: JobKey | None) -> Iterator[list[JobOut]]:
    return walk_pages(
        lambda after: store.jobs.page_rows(filters, limit=STREAM_PAGE, after=after),
        key,
        _job_key,
        listed_job,
    )


def _job_key(row: Row) -> JobKey:
    created_at, job_id = created_key(row)
    return JobKey(created_at=created_at, id=job_id)


def listed_job(row: Row) -> JobOut:
    """A stored job's row in the API's shape: what ``responses.job(job_from_row(row))`` gives,
    to the byte once printed, built straight from the row.

    The record in between re-shapes every one of some 45 columns twice (row -> record -> API
    dictionary) and checks the enums; with 100,000 jobs that was most of ``jobs list --json
    --all``. Here JSON columns are decoded once, timestamps re-spelt from the stored text
    (:func:`~jobctl.store.database.utc_text`), booleans made booleans (SQLite keeps 0 and 1),
    and the rest taken as stored: the enums as their values, which JSON spells the same. The
    keys and their order are :func:`jobctl.wire.responses.job`'s; tests/test_job_listing_rows.py
    compares the two for jobs with every setting, on both stores.
    """
    item = {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "taskFunctionId": row["task_function_id"],
        "jobTypeId": row["job_type_id"],
        "scheduleConfig": load_json(row["schedule_config"]),
        "taskArgs": load_json(row["task_args"]),
        "maxInstances": row["max_instances"],
        "timeoutSeconds": row["timeout_seconds"],
        "retryCount": row["retry_count"],
        "retryDelaySeconds": row["retry_delay_seconds"],
        "isEnabled": bool(row["is_enabled"]),
        "isPaused": bool(row["is_paused"]),
        "misfirePolicy": row["misfire_policy"],
        "nextRunTime": utc_text(row["next_run_time"]),
        "lastRunTime": utc_text(row["last_run_time"]),
        "lastStatus": row["last_status"],
        "createdAt": utc_text(row["created_at"]),
        "updatedAt": utc_text(row["updated_at"]),
        "createdBy": row["created_by"],
        "updatedBy": row["updated_by"],
        "labels": load_json(row["labels"]),
        "environment": load_json(row["environment"]),
        "workingDirectory": row["working_directory"],
        "umask": row["umask"],
        "nice": row["nice"],
        "stdin": row["stdin"],
        "runAsUser": row["run_as_user"],
        "runAsGroup": row["run_as_group"],
        "source": row["source"],
        "notify": load_json(row["notify"]),
        "pauseAfterFailures": row["pause_after_failures"],
        "pausedReason": row["paused_reason"],
        "pausedBy": row["paused_by"],
        "pausedAt": utc_text(row["paused_at"]),
        "startGraceSeconds": row["start_grace_seconds"],
        "maxRuntimeAlertSeconds": row["max_runtime_alert_seconds"],
        "expectSuccessWithinSeconds": row["expect_success_within_seconds"],
        "retryBackoff": row["retry_backoff"],
        "retryMaxDelaySeconds": row["retry_max_delay_seconds"],
        "retryOnExitCodes": load_json(row["retry_on_exit_codes"]),
        "overlapPolicy": row["overlap_policy"],
        "maxQueued": row["max_queued"],
        "concurrencyGroup": row["concurrency_group"],
    }
    return cast(JobOut, item)  # the enums as their values (str), which JSON spells alike


def cursor_of(job: Job) -> str:
    """The cursor after ``job``: its ``created_at`` (to the microsecond, UTC) and id, base64url."""
    return _encode_cursor(job.created_at, job.id)


def _cursor_of_row(row: Row) -> str:
    """:func:`cursor_of` the job of a stored row."""
    created_at = to_utc(row["created_at"])
    assert created_at is not None, "jobs.created_at is NOT NULL"
    return _encode_cursor(created_at, row["id"])


def _encode_cursor(created_at: datetime, job_id: str) -> str:
    text = created_at.astimezone(UTC).isoformat(timespec="microseconds") + _SEPARATOR + job_id
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def parse_cursor(cursor: str) -> JobKey:
    """The key a cursor holds. :raises ValidationFailed: at ``["query", "after"]`` for anything
    :func:`cursor_of` did not make."""
    from jobctl.wire.ids import is_uuid

    try:
        if len(cursor) > CURSOR_MAX_CHARS:
            raise ValueError(cursor)
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, job_id = text.partition(_SEPARATOR)
        created_at = datetime.fromisoformat(at)
        # Only what cursor_of makes, byte for byte: base64 decoding forgives junk after the text,
        # padding and spaces, and a forged time in another zone may not even convert to UTC.
        made_here = (
            created_at.tzinfo is not None and is_uuid(job_id) and job_id == job_id.lower()
            and _encode_cursor(created_at, job_id) == cursor
        )  # fmt: skip
    except (ValueError, binascii.Error, OverflowError):
        made_here = False
    if not made_here:
        raise ValidationFailed.field(["query", "after"], "not a cursor of the jobs listing: pass a nextCursor as given")
    return JobKey(created_at=created_at, id=job_id)
