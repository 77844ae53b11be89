"""Listings read through any number of API pages, over the service interface (local and remote alike).

People see every job (``jobs list``) and the newest runs up to a limit (``executions list``);
``--json --all`` returns every item in the API's own shape. See ``docs/listings.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from jobctl.errors import NotFound

if TYPE_CHECKING:
    from jobctl.service.contract import JobService
    from jobctl.wire.responses import ExecutionList, JobList

JsonDict = dict[str, Any]
Listing = TypeVar("Listing", "JobList", "ExecutionList")
"""An API listing: a page of items under one key, with its counts."""
PAGE = 100
"""Items per request: the API's maximum ``per_page``."""

FEW_JOBS = 5
"""Up to this many distinct jobs in a table, their names are read one by one; past it, all at once."""


def every_page(fetch: Callable[[int, int], Listing], key: str) -> Listing:
    """Every item of a listing: the last page's answer with ``key`` holding the items of all pages.

    Items keep the API's order; one that moved to a later page while reading is kept once.
    """
    items: list[JsonDict] = []
    seen: set[Any] = set()
    number = 1
    while True:
        result = cast(JsonDict, fetch(number, PAGE))
        fresh = [item for item in result[key] if item["id"] not in seen]
        items.extend(fresh)
        seen.update(item["id"] for item in fresh)
        if not result[key] or number * PAGE >= result["total"]:
            return cast(Listing, {**result, key: items})
        number += 1


def every_execution(fetch: Callable[[str | None], ExecutionList]) -> ExecutionList:
    """Every execution of a listing, by keyset walk (``fetch(cursor)`` reads the page after
    ``cursor``): runs recorded while it reads neither repeat nor push others out (docs/keyset-paging.md).

    The answer is ``GET /executions``' shape, ``total`` the number of executions in it.
    """
    items: list[Any] = []
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        items.extend(page["executions"])
        cursor = page["nextCursor"]
        if cursor is None:
            return {"executions": items, "total": len(items), "nextCursor": None}


def first_items(fetch: Callable[[int, int], Listing], key: str, limit: int) -> Listing:
    """The first ``limit`` items of a listing (as many pages as that takes), in the API's shape."""
    if limit <= PAGE:
        return fetch(1, limit)
    items: list[JsonDict] = []
    number = 1
    while True:
        result = cast(JsonDict, fetch(number, PAGE))
        items.extend(result[key])
        if len(items) >= limit or not result[key] or number * PAGE >= result["total"]:
            return cast(Listing, {**result, key: items[:limit]})
        number += 1


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
    every = every_page(lambda page, per_page: service.list_jobs(page=page, per_page=per_page), "jobs")
    return {job["id"]: job["name"] for job in every["jobs"] if job["id"] in wanted}
