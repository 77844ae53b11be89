"""Keyset paging of ``GET /executions``, locally and through the API: a walk by cursor during a
burst of new runs sees every execution exactly once (a walk by page number does not)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from jobctl.errors import ValidationFailed
from jobctl.service.contract import JobService
from tests.remote.helpers import Pair
from tests.store.helpers import NOW, add_executions, add_job

SIDES = ["local", "remote"]


def side(pair: Pair, name: str) -> JobService:
    return pair.local if name == "local" else pair.remote


def burst(pair: Pair, job: str, count: int, start: int) -> list[str]:
    """``count`` new runs, newer than all before them (as a busy minute records them)."""
    return add_executions(pair.store.db, job, [timedelta(seconds=-(start + n)) for n in range(count)])


@pytest.mark.parametrize("name", SIDES)
def test_a_cursor_walk_during_a_burst_sees_every_execution_once_and_a_page_walk_does_not(pair: Pair, name: str) -> None:
    service = side(pair, name)
    job = add_job(pair.store.db, "busy")
    same_moment = [timedelta(hours=2)] * 30  # ties on createdAt are ordered by id
    before = set(add_executions(pair.store.db, job, [timedelta(minutes=n) for n in range(1, 91)]))
    before |= set(add_executions(pair.store.db, job, same_moment, manual=True))

    seen: list[str] = []
    cursor, pages, added = None, 0, 0
    while True:
        page = service.list_executions(per_page=7, after=cursor)
        seen += [e["id"] for e in page["executions"]]
        assert page["total"] is (None if cursor else page["total"])
        burst(pair, job, 3, added)  # runs recorded between two pages
        added, pages = added + 3, pages + 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert max(Counter(seen).values()) == 1
    assert before <= set(seen)
    assert pages > 10

    by_number: list[str] = []
    for number in range(1, 8):
        by_number += [e["id"] for e in service.list_executions(per_page=7, page=number)["executions"]]
        burst(pair, job, 3, added)
        added += 3
    assert max(Counter(by_number).values()) > 1, "a walk by page number sees some runs twice"


@pytest.mark.parametrize("name", SIDES)
def test_a_before_walk_follows_new_runs_as_they_come(pair: Pair, name: str) -> None:
    service = side(pair, name)
    job = add_job(pair.store.db, "j")
    add_executions(pair.store.db, job, [timedelta(minutes=n) for n in range(1, 6)])
    newest = service.list_executions(per_page=1)["executions"][0]["id"]
    new = burst(pair, job, 12, 0)
    found: list[str] = []
    cursor: str | None = newest
    while cursor is not None:
        page = service.list_executions(per_page=5, before=cursor)
        assert [e["id"] for e in page["executions"]] == sorted(
            (e["id"] for e in page["executions"]), key=lambda i: new.index(i), reverse=True
        )  # newest first within a page
        found = [e["id"] for e in page["executions"]] + found
        cursor = page["nextCursor"] if page["executions"] else None
    assert found == list(reversed(new))


@pytest.mark.parametrize("name", SIDES)
def test_since_and_until_bound_the_creation_time(pair: Pair, name: str) -> None:
    service = side(pair, name)
    job = add_job(pair.store.db, "j")
    ids = add_executions(pair.store.db, job, [timedelta(days=n) for n in range(10)])
    page = service.list_executions(since=NOW - timedelta(days=5), until=NOW - timedelta(days=2))
    assert [e["id"] for e in page["executions"]] == ids[3:6]  # until excluded, since included
    assert page["total"] == 3 and page["nextCursor"] is None
    first = service.list_executions(per_page=3)
    assert first["nextCursor"] == first["executions"][-1]["id"] and first["total"] == 10


@pytest.mark.parametrize("name", SIDES)
def test_a_cursor_in_capitals_is_the_same_execution(pair: Pair, name: str) -> None:
    """A UUID in capitals names the same run (as `job_id` in capitals names the same job)."""
    service = side(pair, name)
    ids = add_executions(pair.store.db, add_job(pair.store.db, "j"), [timedelta(minutes=n) for n in range(1, 6)])
    page = service.list_executions(per_page=2, after=ids[1].upper())
    assert [e["id"] for e in page["executions"]] == ids[2:4]


BAD: list[tuple[dict[str, Any], list[str]]] = [
    ({"after": "a" * 8, "before": "b" * 8}, ["query", "before"]),
    ({"after": "00000000-0000-4000-8000-000000000000", "page": 2}, ["query", "page"]),
    ({"after": "00000000-0000-4000-8000-000000000000"}, ["query", "after"]),
    ({"before": "not-a-uuid"}, ["query", "before"]),
    ({"since": NOW, "until": NOW - timedelta(seconds=1)}, ["query", "until"]),
]


@pytest.mark.parametrize("name", SIDES)
@pytest.mark.parametrize(("params", "loc"), BAD, ids=["both", "page", "unknown", "malformed", "until"])
def test_bad_cursors_are_422_at_their_loc(shared_pair: Pair, name: str, params: dict[str, Any], loc: list[str]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        side(shared_pair, name).list_executions(**params)
    assert [error["loc"] for error in caught.value.errors] == [loc]


def test_the_api_rejects_a_malformed_time_with_422(shared_pair: Pair) -> None:
    response = shared_pair.client.get(
        "/api/v1/scheduler/executions", params={"since": "yesterday"},
        headers={"Authorization": f"Bearer {shared_pair.secrets['viewer']}"},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "since"]
