"""Listings read through any number of API pages, over the service interface (local and remote alike).

People see every job (``jobs list``) and the newest runs up to a limit (``executions list``);
``--json --all`` returns every item in the API's own shape. See ``docs/listings.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, cast

from jobctl.errors import NotFound

if TYPE_CHECKING:
    from jobctl.service.contract import JobService
    from jobctl.wire.responses import ExecutionList, ExecutionOut, JobList, JobOut

JsonDict = dict[str, Any]
Listing = TypeVar("Listing", "JobList", "ExecutionList")
"""An API listing: a page of items under one key, with its counts."""
PAGE = 100
"""Items per request: the API's maximum ``per_page``."""


class EveryJob(TypedDict):
    """``jobs list --json --all``: ``GET /jobs``' shape without ``nextCursor`` (a JobList is one too)."""

    jobs: list[JobOut]
    total: int | None
    enabledCount: int | None
    disabledCount: int | None
    runningCount: int | None


FEW_JOBS = 5
"""Up to this many distinct jobs in a table, their names are read one by one; past it, all at once."""


def every_job(first_page: Callable[[], JobList], after: Callable[[str], Iterable[list[JobOut]]]) -> EveryJob:
    """Every job of a listing: ``first_page()`` reads the first page with the counts, then
    ``after(cursor)`` the jobs after its ``nextCursor``, in one walk (``GET /jobs/stream``
    through the API: one answer instead of a request per page of 100).

    Jobs created or deleted while it reads neither repeat nor push others out of the walk
    (docs/keyset-paging.md). The answer has the shape ``jobs list --json --all`` always printed:
    the jobs in the API's order and the counts of the first answer, no cursor.
    """
    first = first_page()
    items = list(first["jobs"])
    if first["nextCursor"] is not None:
        for page in after(first["nextCursor"]):
            items.extend(page)
    return {"jobs": items, "total": first["total"], "enabledCount": first["enabledCount"],
            "disabledCount": first["disabledCount"], "runningCount": first["runningCount"]}  # fmt: skip


def every_job_of(service: JobService) -> EveryJob:
    """Every job, by :func:`every_job`, without filters."""
    return every_job(lambda: service.list_jobs(page=1, per_page=PAGE), lambda cursor: service.stream_jobs(after=cursor))


def every_execution(pages: Iterable[list[ExecutionOut]]) -> ExecutionList:
    """Every execution of a listing from its stream (``JobService.stream_executions``: one
    answer of ``GET /executions/stream`` through the API, a keyset walk of the store locally):
    runs recorded while it reads neither repeat nor push others out (docs/keyset-paging.md).

    The answer is ``GET /executions``' shape, ``total`` the number of executions in it.
    """
    items: list[ExecutionOut] = []
    for page in pages:
        items.extend(page)
    return {"executions": items, "total": len(items), "nextCursor": None}


def first_items(fetch: Callable[[int, int, str | None], Listing], key: str, limit: int) -> Listing:
    """The first ``limit`` items of a listing (as many pages as that takes), in the API's shape.

    ``fetch(page, per_page, after)``. The first page is asked by number (its answer has the
    ``total``), the next ones after the previous page's ``nextCursor``: by page number, a row
    recorded meanwhile would push the last row of one page onto the next, shown twice
    (docs/keyset-paging.md)."""
    if limit <= PAGE:
        return fetch(1, limit, None)
    first = cast(JsonDict, fetch(1, PAGE, None))
    items: list[JsonDict] = list(first[key])
    cursor = first["nextCursor"]
    while len(items) < limit and cursor is not None:
        page = cast(JsonDict, fetch(1, PAGE, cursor))
        items.extend(page[key])
        cursor = page["nextCursor"]
    return cast(Listing, {**first, key: items[:limit]})


def job_names(service: JobService, job_ids: Iterable[str]) -> dict[str, str]:
    """The names of the jobs with these ids (a job deleted meanwhile is left out)."""
    wanted = set(job_ids)
    if len(wanted) <= FEW_JOBS:
        names = {}
        for job_id in wanted:
            try:
                names[job_id] = str(service.get_job(job_id)["name"])
            except NotFound:
                continue
        return names
    return {job["id"]: job["name"] for job in every_job_of(service)["jobs"] if job["id"] in wanted}
