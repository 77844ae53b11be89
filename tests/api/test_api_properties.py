"""Property: no body a client sends to ``POST /jobs`` or ``PUT /jobs/{id}`` gets a 5xx.

Generated schedules and job bodies (:mod:`tests.strategies`) go through the real app and a
real store on both backends. Whatever they hold, the answer is a success or a 4xx; a 422
names fields that exist. Runs are derandomized with no example database, so CI sees the same
examples every time; ``JOBCTL_TEST_PROPERTY_EXAMPLES`` asks for more (e.g. 2000) locally.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from hypothesis import HealthCheck, example, given, settings

from tests.api.helpers import Api, job_body
from tests.strategies import job_bodies, schedules

EXAMPLES = int(os.environ.get("JOBCTL_TEST_PROPERTY_EXAMPLES", "60"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
LATE = "9999-12-31T23:59:30Z"


def _no_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code == 422:
        for error in response.json()["detail"]:
            assert error["loc"][0] in ("body", "path"), error


def _forget(api: Api, response: httpx.Response) -> None:
    """Delete a job the example created, so names stay free and the store small."""
    if response.status_code == 201:
        assert api.call("DELETE", f"/jobs/{response.json()['id']}").status_code == 204


@SETTINGS
@given(schedule=schedules())
@example(schedule=(1, {"minutes": 5, "jitter": 60, "start_date": LATE}))
@example(schedule=(1, {"seconds": 1, "jitter": 3_000_000_000, "start_date": "9999-12-31T00:00:00Z"}))
@example(schedule=(2, {"year": "9999", "month": "12", "day": "31", "hour": "23", "minute": "59", "jitter": 86400,
                       "timezone": "UTC"}))  # fmt: skip
def test_any_schedule_is_created_or_refused_never_a_server_error(api: Api, schedule: tuple[Any, Any]) -> None:
    job_type, config = schedule
    response = api.call("POST", "/jobs", json=job_body("generated", jobTypeId=job_type, scheduleConfig=config))
    _no_server_error(response)
    _forget(api, response)


@SETTINGS
@given(schedule=schedules())
@example(schedule=(1, {"minutes": 5, "jitter": 60, "start_date": LATE}))
def test_any_schedule_update_is_applied_or_refused_never_a_server_error(api: Api, schedule: tuple[Any, Any]) -> None:
    job = _standing_job(api)
    job_type, config = schedule
    _no_server_error(api.call("PUT", f"/jobs/{job['id']}", json={"jobTypeId": job_type, "scheduleConfig": config}))


@SETTINGS
@given(body=job_bodies())
def test_any_job_body_is_created_or_refused_never_a_server_error(api: Api, body: dict[str, Any]) -> None:
    response = api.call("POST", "/jobs", json=body)
    _no_server_error(response)
    _forget(api, response)


@SETTINGS
@given(body=job_bodies(partial=True))
def test_any_update_body_is_applied_or_refused_never_a_server_error(api: Api, body: dict[str, Any]) -> None:
    job = _standing_job(api)
    _no_server_error(api.call("PUT", f"/jobs/{job['id']}", json=body))


def _standing_job(api: Api) -> dict[str, Any]:
    """The job the update examples change: made once per test, found again by its id."""
    listed = api.get("/jobs", params={"per_page": 100}).json()["jobs"]
    return listed[0] if listed else api.create_job("standing")
