"""Times in requests are read by the one grammar (jobctl/schedules/iso_times.py): a malformed one
is a 422 at its field's loc, never a misreading (``2026-12-07+01:00`` as 01:00) or a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import Api, job_body

MALFORMED = ["2026-12-07+01:00", "2026-12-07x10:00", "2026-12-07-05:00", "2026-12-07_10:00", "1700000000"]
WELL_FORMED = ["2026-12-07", "2026-12-07T10:00", "2026-12-07 10:00:00+0530", "2026-12-07T10:00:00.5Z"]


def _only_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    return dict(error)


@pytest.mark.parametrize("text", MALFORMED)
@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("path", ["/executions", "/executions/stream", "/jobs/{id}/executions", "/jobs/{id}/timeline"])
def test_a_malformed_query_time_is_422_at_its_name(
    shared_api: Api, unchanged_job: dict[str, Any], path: str, name: str, text: str
) -> None:
    response = shared_api.get(path.format(id=unchanged_job["id"]), params={name: text})
    error = _only_error(response)
    assert error["loc"] == ["query", name]
    assert error["msg"].startswith(f"{text!r} is not a time: give an ISO 8601 "), error


@pytest.mark.parametrize("text", WELL_FORMED)
def test_well_formed_query_times_are_read(shared_api: Api, unchanged_job: dict[str, Any], text: str) -> None:
    for path in ("/executions", f"/jobs/{unchanged_job['id']}/executions"):
        response = shared_api.get(path, params={"since": text})
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(("since", "until"), [("now", "now"), ("1h", "3600s"), ("90m", "1h30m")])
@pytest.mark.parametrize("path", ["/executions", "/executions/stream", "/jobs/{id}/executions"])
def test_an_empty_window_of_relative_times_is_422_at_until(
    shared_api: Api, unchanged_job: dict[str, Any], path: str, since: str, until: str
) -> None:
    """Both ends are read against one ``now``: read apart, they were two instants microseconds
    apart, and the empty window the CLI refuses was answered as a window holding nothing."""
    response = shared_api.get(path.format(id=unchanged_job["id"]), params={"since": since, "until": until})
    error = _only_error(response)
    assert error["loc"] == ["query", "until"], error


def test_the_audit_query_time_is_read_alike(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    error = _only_error(shared_api.get("/audit", params={"since": "2026-12-07x10:00"}))
    assert error["loc"] == ["query", "since"]


SCHEDULES = {
    "run_date": (3, {"run_date": "{}"}),
    "start_date": (1, {"minutes": 5, "start_date": "{}"}),
    "end_date": (2, {"expression": "0 9 * * *", "end_date": "{}"}),
}


@pytest.mark.parametrize("text", ["2099-01-01+05:00", "2099-01-01x09:00", "20990101-0500"])
@pytest.mark.parametrize("field", list(SCHEDULES))
def test_a_malformed_schedule_time_is_422_at_its_field(
    shared_api: Api, unchanged_job: dict[str, Any], field: str, text: str
) -> None:
    job_type, config = SCHEDULES[field]
    filled = {key: value.format(text) if value == "{}" else value for key, value in config.items()}
    body = job_body("malformed-time", jobTypeId=job_type, scheduleConfig=filled)
    error = _only_error(shared_api.call("POST", "/jobs", json=body))
    assert error["loc"] == ["body", "scheduleConfig", field]
    assert (
        error["msg"] == f"{text!r} is not a time: give an ISO 8601 date or date-time (2026-12-04, 2026-12-04T02:00:00Z)"
    )
