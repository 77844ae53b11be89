"""``GET /jobs/{id}/next?count=N``: a job's coming slots for every job type, as a viewer sees them.

Schedules start in the future (``start_date``) so the expected slots are exact whatever the
day the suite runs: a Berlin DST day, month ends, start and end dates, a one-shot date.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.api.helpers import Api


def next_runs(api: Api, job_id: str, **params: Any) -> dict[str, Any]:
    response = api.get(f"/jobs/{job_id}/next", role="viewer", params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


CASES = {
    "cron-berlin-dst-and-end-date": (
        2,
        {"expression": "30 2 * * *", "timezone": "Europe/Berlin", "start_date": "2027-03-27T00:00:00",
         "end_date": "2027-03-30T00:00:00", "jitter": 30},
        "Europe/Berlin",
        ["2027-03-27T01:30:00Z", "2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"],
    ),
    "cron-fields-last-day-of-month": (
        2,
        {"day": "last", "hour": "0", "minute": "0", "timezone": "UTC", "start_date": "2027-01-15"},
        "UTC",
        ["2027-01-31T00:00:00Z", "2027-02-28T00:00:00Z", "2027-03-31T00:00:00Z"],
    ),
    "cron-six-fields-seconds-first": (
        2,
        {"expression": "15 0 12 * * *", "timezone": "UTC", "start_date": "2027-12-30T13:00:00Z"},
        "UTC",
        ["2027-12-31T12:00:15Z", "2028-01-01T12:00:15Z", "2028-01-02T12:00:15Z"],
    ),
    "interval-from-start-date": (
        1,
        {"hours": 12, "start_date": "2027-01-31T00:00:00Z"},
        "Europe/Berlin",
        ["2027-01-31T00:00:00Z", "2027-01-31T12:00:00Z", "2027-02-01T00:00:00Z"],
    ),
    "date": (3, {"run_date": "2027-06-01T09:00:00Z"}, "Europe/Berlin", ["2027-06-01T09:00:00Z"]),
}  # fmt: skip


@pytest.mark.parametrize("job_type,config,zone,expected", CASES.values(), ids=CASES.keys())
def test_next_run_times_of_every_job_type(api: Api, job_type: int, config: dict[str, Any], zone: str,
                                          expected: list[str]) -> None:  # fmt: skip
    job = api.create_job("planned", jobTypeId=job_type, scheduleConfig=config)
    assert next_runs(api, job["id"], count=3) == {"jobId": job["id"], "timezone": zone, "nextRunTimes": expected}
    assert job["nextRunTime"] is not None
    jitter = config.get("jitter", 0)
    delay = (_instant(job["nextRunTime"]) - _instant(expected[0])).total_seconds()
    assert 0 <= delay <= jitter, "jitter only delays, and by at most its seconds"


def _instant(text: str) -> datetime:
    """An API time as an instant: compared as text, ``...:00.877Z`` sorts before ``...:00Z``."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_default_count_is_five_and_paused_or_disabled_jobs_still_list(api: Api) -> None:
    config = {"minutes": 30, "start_date": "2027-05-01T10:00:00Z"}
    job = api.create_job("half-hourly", scheduleConfig=config)
    expected = ["2027-05-01T10:00:00Z", "2027-05-01T10:30:00Z", "2027-05-01T11:00:00Z", "2027-05-01T11:30:00Z",
                "2027-05-01T12:00:00Z"]  # fmt: skip
    assert next_runs(api, job["id"])["nextRunTimes"] == expected
    for body in ({"isPaused": True}, {"isEnabled": False}):
        assert api.call("PUT", f"/jobs/{job['id']}/status", json=body).status_code == 200
        assert next_runs(api, job["id"])["nextRunTimes"] == expected


@pytest.mark.parametrize("count", ["0", "101", "-1", "many"])
def test_count_outside_1_to_100_is_422_naming_it(shared_api: Api, unchanged_job: dict[str, Any], count: str) -> None:
    response = shared_api.get(f"/jobs/{unchanged_job['id']}/next", role="viewer", params={"count": count})
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["query", "count"]]


def test_unknown_job_is_404_and_a_token_is_needed(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    assert shared_api.get("/jobs/3f0c8a40-95a3-4b8e-9d1e-9b5e7b0f2a11/next", role="viewer").status_code == 404
    assert shared_api.get(f"/jobs/{unchanged_job['id']}/next", role=None).status_code == 401
