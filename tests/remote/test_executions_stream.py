"""``GET /executions/stream`` (``JobService.stream_executions``), locally and through the API:
every execution after a cursor, newest first as ``GET /executions``, a keyset store page at a
time; runs recorded during the walk neither repeat nor push others out; the filters of the
listing; bad input is 422 at its field before anything is read; ``executions list --json
--all`` and ``executions export`` read it."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from jobctl.cli import export as exporting
from jobctl.cli import listing
from jobctl.errors import ValidationFailed
from jobctl.service import execution_listing
from jobctl.service.contract import JobService
from tests.remote.helpers import Pair
from tests.store.helpers import NOW, add_executions, add_job

SIDES = ["local", "remote"]
SMALL_PAGE = 7
"""The store page while testing, so that a few dozen runs take many of them."""


def side(pair: Pair, name: str) -> JobService:
    return pair.local if name == "local" else pair.remote


def ids(pages: Any) -> list[str]:
    return [e["id"] for page in pages for e in page]


def listed(pair: Pair, **filters: Any) -> list[str]:
    """The ids of ``GET /executions`` with ``filters``, by a cursor walk of the local service."""
    found: list[str] = []
    cursor = None
    while True:
        page = pair.local.list_executions(per_page=100, after=cursor, **filters)
        found += [e["id"] for e in page["executions"]]
        cursor = page["nextCursor"]
        if cursor is None:
            return found


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execution_listing, "STREAM_PAGE", SMALL_PAGE)


@pytest.mark.parametrize("name", SIDES)
def test_the_stream_sees_every_execution_once_while_runs_are_recorded(pair: Pair, name: str, small_pages: None) -> None:
    """Locally, a burst of new runs between two store pages of the walk is not in it and shifts
    nothing; through the API the answer is read whole first, and equals the listing."""
    service = side(pair, name)
    job = add_job(pair.store.db, "busy")
    before = add_executions(pair.store.db, job, [timedelta(minutes=n) for n in range(1, 61)])
    before += add_executions(pair.store.db, job, [timedelta(hours=2)] * 20, manual=True)  # ties: ordered by id
    expected = listed(pair)
    assert sorted(expected) == sorted(before)

    seen: list[str] = []
    pages = added = 0
    for page in service.stream_executions():
        seen += [e["id"] for e in page]
        pages += 1
        if name == "local":  # runs recorded between two store pages, newer than every one before
            add_executions(pair.store.db, job, [timedelta(seconds=-(added + n + 1)) for n in range(3)])
            added += 3
    assert max(Counter(seen).values()) == 1
    assert seen == expected, "each run once, newest first as the listing"
    if name == "local":
        assert pages == -(-len(before) // SMALL_PAGE) and added > 30
        assert len(listed(pair)) == len(before) + added, "the burst was recorded (and is for the next walk)"


@pytest.mark.parametrize("name", SIDES)
def test_the_stream_takes_the_listing_filters_and_a_cursor(pair: Pair, name: str, small_pages: None) -> None:
    service = side(pair, name)
    job, other = add_job(pair.store.db, "backup"), add_job(pair.store.db, "other")
    add_executions(pair.store.db, job, [timedelta(days=n) for n in range(30)])
    add_executions(pair.store.db, job, [timedelta(days=n, hours=1) for n in range(9)], status="failed")
    add_executions(pair.store.db, other, [timedelta(days=n, hours=2) for n in range(12)])
    since, until = NOW - timedelta(days=20), NOW - timedelta(days=4)

    choices: list[dict[str, Any]] = [
        {}, {"job_id": job}, {"status": "failed"}, {"since": since, "until": until}, {"job_id": other, "since": since},
        {"job_id": job, "status": "success", "until": until},
    ]  # fmt: skip
    for filters in choices:
        assert ids(service.stream_executions(**filters)) == listed(pair, **filters), filters
    assert len(ids(service.stream_executions(job_id=job, since=since, until=until))) == 16 + 5

    first = pair.local.list_executions(per_page=10)
    rest = ids(service.stream_executions(after=first["nextCursor"]))
    assert [e["id"] for e in first["executions"]] + rest == listed(pair)
    assert ids(service.stream_executions(after=listed(pair)[-1])) == [], "nothing after the oldest"
    assert ids(service.stream_executions(job_id=job, since=NOW + timedelta(days=1))) == []


BAD: list[tuple[dict[str, Any], list[str]]] = [
    ({"after": "00000000-0000-4000-8000-000000000000"}, ["query", "after"]),
    ({"after": "not-a-uuid"}, ["query", "after"]),
    ({"since": NOW, "until": NOW - timedelta(seconds=1)}, ["query", "until"]),
    ({"status": "exploded"}, ["query", "status"]),
    ({"job_id": "nope"}, ["query", "job_id"]),
]


@pytest.mark.parametrize("name", SIDES)
@pytest.mark.parametrize(("params", "loc"), BAD, ids=["unknown", "malformed", "until", "status", "job"])
def test_bad_input_is_422_at_its_loc_before_anything_is_read(
    shared_pair: Pair, name: str, params: dict[str, Any], loc: list[str]
) -> None:
    service = side(shared_pair, name)
    with pytest.raises(ValidationFailed) as caught:
        next(iter(service.stream_executions(**params)))
    assert [error["loc"] for error in caught.value.errors] == [loc]
    if name == "local":  # the checks come before the generator: nothing of the store is read
        with pytest.raises(ValidationFailed):
            service.stream_executions(**params)


def test_the_api_answers_ndjson_and_a_bad_cursor_with_422_before_the_stream(shared_pair: Pair) -> None:
    headers = {"Authorization": f"Bearer {shared_pair.secrets['viewer']}"}
    url = "/api/v1/scheduler/executions/stream"
    answer = shared_pair.client.get(url, headers=headers)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert lines == shared_pair.local.list_executions(per_page=100)["executions"], "each line is the listing's item"
    bad = shared_pair.client.get(url, params={"after": "0" * 36}, headers=headers)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/json")
    assert bad.json()["detail"][0]["loc"] == ["query", "after"]
    assert shared_pair.client.get(url).status_code == 401


@pytest.mark.parametrize("name", SIDES)
def test_list_all_and_export_read_the_stream(pair: Pair, name: str, small_pages: None) -> None:
    service = side(pair, name)
    job = add_job(pair.store.db, "j")
    add_executions(pair.store.db, job, [timedelta(minutes=n) for n in range(50)], status="failed")
    add_executions(pair.store.db, job, [timedelta(minutes=n, seconds=30) for n in range(20)])
    every = listing.every_execution(service.stream_executions(status="failed"))
    assert [e["id"] for e in every["executions"]] == listed(pair, status="failed")
    assert every["total"] == 50 and every["nextCursor"] is None

    rows = exporting.walk(service.stream_executions(job_id=job))
    assert [row["id"] for row in rows] == listed(pair)
    with pytest.raises(ValidationFailed):
        exporting.walk(service.stream_executions(since=NOW, until=NOW))  # fails before a row is written
