"""Keyset paging of ``GET /jobs``, locally and through the API: the walk ``jobs list --json
--all`` makes sees every job once while jobs are created and deleted between its pages (a walk
by page number does not), bad cursors are 422 at their field, and page numbers work as before."""

from __future__ import annotations

import base64
from collections import Counter
from typing import Any

import pytest

from jobctl.cli import listing
from jobctl.errors import ValidationFailed
from jobctl.service.contract import JobService
from jobctl.service.job_listing import cursor_of
from jobctl.store.jobs import JobFilter, JobKey
from jobctl.wire.responses import JobList
from tests.remote.helpers import Pair, job_body
from tests.store.helpers import add_job

SIDES = ["local", "remote"]


def side(pair: Pair, name: str) -> JobService:
    return pair.local if name == "local" else pair.remote


def fill(pair: Pair) -> list[str]:
    """25 jobs created at one instant (ordered by id among themselves), then 30 created one by one."""
    tied = [add_job(pair.store.db, f"tied-{n:02d}") for n in range(25)]
    return tied + [pair.local.create_job(job_body(f"job-{n:02d}"))["id"] for n in range(30)]


class Churn:
    """Between two pages of a walk: delete the job the cursor names (the last one read), one
    job already read and one not read yet, and create two; what it did is kept to check."""

    def __init__(self, pair: Pair, order: list[str]) -> None:
        self.pair, self.order = pair, order
        self.deleted: set[str] = set()
        self.deleted_unread: set[str] = set()
        self.created: list[str] = []

    def after(self, page: list[dict[str, Any]], seen: set[str]) -> None:
        if not page:
            return
        unread = [job_id for job_id in self.order if job_id not in seen and job_id not in self.deleted]
        read = [job_id for job_id in self.order if job_id in seen and job_id not in self.deleted]
        self.deleted_unread.update(unread[1:2])
        for job_id in {page[-1]["id"], read[0], *unread[1:2]}:
            self.pair.local.delete_job(job_id)
            self.deleted.add(job_id)
        for _ in range(2):
            self.created.append(self.pair.local.create_job(job_body(f"new-{len(self.created):03d}"))["id"])


@pytest.mark.parametrize("name", SIDES)
def test_the_cursor_walk_of_jobs_list_all_sees_every_job_once_while_jobs_come_and_go(pair: Pair, name: str) -> None:
    service = side(pair, name)
    order = fill(pair)
    churn = Churn(pair, order)
    seen: set[str] = set()
    listed: list[str] = []
    answers: list[JobList] = []

    def fetch(cursor: str | None) -> JobList:
        answer = service.list_jobs(per_page=7, after=cursor)
        answers.append(answer)
        ids = [job["id"] for job in answer["jobs"]]
        listed.extend(ids)
        seen.update(ids)
        if answer["nextCursor"] is not None:  # jobs created after the last page are for the next walk
            churn.after(answer["jobs"], seen)
        return answer

    first = fetch(None)
    every = listing.every_job(lambda: first, lambda cursor: _pages_after(fetch, cursor))
    assert max(Counter(listed).values()) == 1
    assert [job["id"] for job in every["jobs"]] == listed
    kept = set(order) - churn.deleted
    assert kept <= seen, "a job that stayed all along is listed"
    assert churn.deleted_unread and not churn.deleted_unread & seen, "a job deleted before its page is not listed"
    assert set(churn.created) <= seen, "jobs created during the walk come last, and are read"
    assert len(answers) >= 8, "many pages"
    assert answers[0]["total"] == 55 and all(a["total"] is None for a in answers[1:]), "counted once"
    assert (every["total"], every["enabledCount"], every["disabledCount"], every["runningCount"]) == (55, 55, 0, 0)
    assert set(every) == {"jobs", "total", "enabledCount", "disabledCount", "runningCount"}


def _pages_after(fetch: Any, cursor: str | None) -> Any:
    """The pages a cursor walk of ``GET /jobs`` reads after ``cursor``."""
    while cursor is not None:
        answer = fetch(cursor)
        yield answer["jobs"]
        cursor = answer["nextCursor"]


@pytest.mark.parametrize("name", SIDES)
def test_the_stream_walk_sees_every_job_once_while_jobs_come_and_go(
    pair: Pair, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``GET /jobs/stream`` (what ``--all`` reads after its first page) is a keyset walk too:
    locally, jobs created and deleted between two of its store pages are seen as by the cursor
    walk; through the API the whole answer is read first, and must equal the local walk."""
    from jobctl.service import job_listing

    monkeypatch.setattr(job_listing, "STREAM_PAGE", 7)
    service = side(pair, name)
    order = fill(pair)
    first = service.list_jobs(per_page=7)
    seen = {job["id"] for job in first["jobs"]}
    listed = [job["id"] for job in first["jobs"]]
    assert first["nextCursor"] is not None
    churn = Churn(pair, order)
    pages = 0
    created_before_last_page: list[str] = []
    for page in service.stream_jobs(after=first["nextCursor"]):
        pages += 1
        ids = [job["id"] for job in page]
        listed.extend(ids)
        seen.update(ids)
        if name == "local":
            created_before_last_page = list(churn.created)  # what churn adds after the last page is for the next walk
            churn.after(page, seen)
    assert max(Counter(listed).values()) == 1
    if name == "local":
        assert pages >= 7, "many store pages"
        assert set(order) - churn.deleted <= seen, "a job that stayed all along is listed"
        assert churn.deleted_unread and not churn.deleted_unread & seen, "a job deleted before its page is not listed"
        assert created_before_last_page and set(created_before_last_page) <= seen, "jobs created meanwhile are read"
    else:
        assert listed == [job["id"] for job in pair.local.list_jobs(per_page=100)["jobs"]], "the listing's order"


@pytest.mark.parametrize("name", SIDES)
def test_the_stream_takes_the_listing_filters_and_refuses_a_bad_cursor(pair: Pair, name: str) -> None:
    service = side(pair, name)
    order = fill(pair)
    pair.local.set_job_status(order[3], {"isEnabled": False})
    pair.local.set_job_status(order[40], {"isEnabled": False})
    streamed = [job["id"] for page in service.stream_jobs(is_enabled=False) for job in page]
    assert sorted(streamed) == sorted([order[3], order[40]]) and streamed[-1] == order[40]
    named = [job["name"] for page in service.stream_jobs(name="job-1") for job in page]
    assert named == [f"job-1{n}" for n in range(10)]
    first = service.list_jobs(per_page=30)
    rest = [job["id"] for page in service.stream_jobs(after=first["nextCursor"]) for job in page]
    in_order = [job["id"] for job in pair.local.list_jobs(per_page=100)["jobs"]]
    assert [job["id"] for job in first["jobs"]] + rest == in_order and sorted(in_order) == sorted(order)
    with pytest.raises(ValidationFailed) as caught:
        list(service.stream_jobs(after="not-a-cursor"))
    assert caught.value.errors[0]["loc"] == ["query", "after"]


@pytest.mark.parametrize("name", SIDES)
def test_a_walk_by_page_number_misses_jobs_when_earlier_ones_are_deleted(pair: Pair, name: str) -> None:
    service = side(pair, name)
    order = fill(pair)
    churn = Churn(pair, order)
    seen: set[str] = set()
    for number in range(1, 12):
        page = service.list_jobs(per_page=7, page=number)["jobs"]
        seen.update(job["id"] for job in page)
        churn.after(page, seen)
    assert set(order) - churn.deleted - seen, "page numbers shift: some jobs that stayed were never listed"


@pytest.mark.parametrize("name", SIDES)
def test_page_mode_gives_the_cursor_of_its_last_job_and_the_counts(pair: Pair, name: str) -> None:
    service = side(pair, name)
    order = fill(pair)
    pair.local.set_job_status(order[-1], {"isEnabled": False})
    first = service.list_jobs(per_page=20)
    assert first["nextCursor"] is not None
    second = service.list_jobs(per_page=20, after=first["nextCursor"])
    by_number = service.list_jobs(per_page=20, page=2)
    assert [j["id"] for j in second["jobs"]] == [j["id"] for j in by_number["jobs"]] == listing_order(pair)[20:40]
    assert (second["total"], second["enabledCount"], second["disabledCount"], second["runningCount"]) == (None,) * 4
    assert (by_number["total"], by_number["enabledCount"], by_number["disabledCount"]) == (55, 54, 1)
    assert second["nextCursor"] == by_number["nextCursor"]
    last = service.list_jobs(per_page=20, after=second["nextCursor"])
    assert len(last["jobs"]) == 15 and last["nextCursor"] is None
    assert service.list_jobs(per_page=20, page=3)["nextCursor"] is None
    tied = service.list_jobs(name="tied-", per_page=10)
    rest = service.list_jobs(name="tied-", per_page=10, after=tied["nextCursor"])
    assert [j["id"] for j in tied["jobs"] + rest["jobs"]] == sorted(order[:25])[:20], "one instant: by id"


def listing_order(pair: Pair) -> list[str]:
    """Every job id in the listing's documented order: oldest first, then by id."""
    return [row["id"] for row in pair.store.db.fetch_all("SELECT id FROM jobs ORDER BY created_at, id")]


def test_a_cursor_holds_the_place_and_not_the_job(pair: Pair) -> None:
    fill(pair)
    order = listing_order(pair)
    job = pair.store.jobs.get(order[30])
    assert job is not None
    cursor = cursor_of(job)
    pair.local.delete_job(job.id)
    assert [j["id"] for j in pair.local.list_jobs(per_page=3, after=cursor)["jobs"]] == order[31:34]
    assert [j["id"] for j in pair.remote.list_jobs(per_page=3, after=cursor)["jobs"]] == order[31:34]
    jobs, more = pair.store.jobs.page(JobFilter(), limit=3, after=JobKey(created_at=job.created_at, id=job.id))
    assert [j.id for j in jobs] == order[31:34] and more


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


VALID = _cursor("2026-12-05T21:57:14.123456+00:00/00000000-0000-4000-8000-000000000000")
BAD: list[tuple[dict[str, Any], list[str]]] = [
    ({"after": "not a cursor"}, ["query", "after"]),
    ({"after": _cursor("2026-12-05T21:57:14.123456+00:00/not-an-id")}, ["query", "after"]),
    ({"after": _cursor("2026-12-05T21:57:14/00000000-0000-4000-8000-000000000000")}, ["query", "after"]),  # no zone
    ({"after": "00000000-0000-4000-8000-000000000000"}, ["query", "after"]),  # a job id is no cursor
    ({"after": "x" * 129}, ["query", "after"]),
    ({"after": VALID, "page": 2}, ["query", "page"]),
    # only a cursor as jobctl makes it: a time outside UTC's years 1-9999, junk base64 forgives, an id in capitals
    ({"after": _cursor("0001-01-01T00:00:00+05:00/00000000-0000-4000-8000-000000000000")}, ["query", "after"]),
    ({"after": _cursor("9999-12-31T23:59:59-05:00/00000000-0000-4000-8000-000000000000")}, ["query", "after"]),
    ({"after": VALID + "!!"}, ["query", "after"]),
    ({"after": VALID + "=="}, ["query", "after"]),
    ({"after": _cursor("2026-12-05T21:57:14.123456+00:00/0000000A-0000-4000-8000-000000000000")}, ["query", "after"]),
]


@pytest.mark.parametrize("name", SIDES)
@pytest.mark.parametrize(
    ("params", "loc"), BAD,
    ids=["text", "no-id", "no-zone", "job-id", "too-long", "with-page", "year-1", "year-9999", "junk", "padding",
         "capitals"],
)  # fmt: skip
def test_bad_cursors_are_422_at_their_loc(shared_pair: Pair, name: str, params: dict[str, Any], loc: list[str]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        side(shared_pair, name).list_jobs(**params)
    assert [error["loc"] for error in caught.value.errors] == [loc]


@pytest.mark.parametrize("path", ["jobs", "jobs/stream"])
@pytest.mark.parametrize("cursor", ["nope", BAD[6][0]["after"]], ids=["text", "year-1"])
def test_the_api_answers_a_bad_cursor_with_422(shared_pair: Pair, path: str, cursor: str) -> None:
    """Before anything is sent, on the stream too (a time that does not convert to UTC was a 500
    on SQLite, and the stream a 200 cut short)."""
    response = shared_pair.client.get(
        f"/api/v1/scheduler/{path}", params={"after": cursor},
        headers={"Authorization": f"Bearer {shared_pair.secrets['viewer']}"},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "after"]
