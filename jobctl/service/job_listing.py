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
from datetime import UTC, datetime

from jobctl.errors import ValidationFailed
from jobctl.models import Job
from jobctl.store import Store
from jobctl.store.jobs import JobFilter, JobKey
from jobctl.wire import responses
from jobctl.wire.responses import JobList

CURSOR_MAX_CHARS = 128
"""Longer than any cursor this module makes (about 92 characters); the API refuses longer ones."""

_SEPARATOR = "/"


def list_jobs(store: Store, filters: JobFilter, *, limit: int, offset: int, after: str | None = None) -> JobList:
    """One page; ``limit``/``offset`` come from a checked page and per_page.

    :raises ValidationFailed: for a cursor with a page past the first, or a text that is no
        cursor of this listing.
    """
    if after is not None and offset:
        raise ValidationFailed.field(["query", "page"], "a cursor (after) replaces the page number")
    key = parse_cursor(after) if after is not None else None
    jobs, more = store.jobs.page(filters, limit=limit, offset=offset, after=key)
    next_cursor = cursor_of(jobs[-1]) if more and jobs else None
    items = [responses.job(job) for job in jobs]
    if key is not None:
        return {"jobs": items, "total": None, "enabledCount": None, "disabledCount": None, "runningCount": None,
                "nextCursor": next_cursor}  # fmt: skip
    counts = store.jobs.counts(filters)
    return {"jobs": items, "total": counts.total, "enabledCount": counts.enabled, "disabledCount": counts.disabled,
            "runningCount": counts.running, "nextCursor": next_cursor}  # fmt: skip


def cursor_of(job: Job) -> str:
    """The cursor after ``job``: its ``created_at`` (to the microsecond, UTC) and id, base64url."""
    text = job.created_at.astimezone(UTC).isoformat(timespec="microseconds") + _SEPARATOR + job.id
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def parse_cursor(cursor: str) -> JobKey:
    """The key a cursor holds. :raises ValidationFailed: at ``["query", "after"]`` for anything
    :func:`cursor_of` did not make."""
    from jobctl.service.jobs import is_uuid

    try:
        if len(cursor) > CURSOR_MAX_CHARS:
            raise ValueError(cursor)
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, job_id = text.partition(_SEPARATOR)
        created_at = datetime.fromisoformat(at)
    except (ValueError, binascii.Error):
        created_at, job_id = None, ""
    if created_at is None or created_at.tzinfo is None or not is_uuid(job_id):
        raise ValidationFailed.field(["query", "after"], "not a cursor of the jobs listing: pass a nextCursor as given")
    return JobKey(created_at=created_at, id=job_id)
