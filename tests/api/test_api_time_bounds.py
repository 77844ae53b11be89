"""Times at the ends of what a datetime holds: a 422 at the parameter, in one sentence for every
history query, never a 500 (the timeline overflowed computing a minute before ``since``, a day
before ``until`` or a time in the job's zone)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from jobctl.service.windows import TIMELINE_FIRST, TIMELINE_LAST
from tests.api.helpers import Api

STORE_RANGE = "lies outside the times a store holds (0001-01-01 to 9999-12-31 UTC): give a time between them"
TIMELINE_RANGE = (
    "lies outside the times a job's timeline shows (0001-01-03 to 9999-12-29 UTC): give a time between them"
)


def _errors(response: Any) -> list[tuple[list[str], str]]:
    assert response.status_code == 422, response.text
    return [(error["loc"], error["msg"]) for error in response.json()["detail"]]


@pytest.mark.parametrize(
    ("params", "refused"),
    [
        ({"since": "0001-01-01T00:00:00Z", "until": "0001-01-01T01:00:00Z"}, ["since", "until"]),
        ({"until": "1000000d"}, ["until"]),
        ({"until": "0001-01-01T00:00:00-23:59"}, ["until"]),
        ({"since": "0001-01-01", "until": "0001-06-01"}, ["since"]),
        ({"since": "9999-12-31", "until": "9999-12-31T23:59:59Z"}, ["since", "until"]),
        ({"since": "99999999d"}, ["since"]),
    ],
    ids=["year-1-window", "until-a-duration-before-year-1", "until-with-its-own-offset", "dates-of-year-1",
         "end-of-year-9999", "since-a-duration-before-year-1"],
)  # fmt: skip
def test_a_timeline_window_at_the_ends_of_time_is_422_at_its_ends(
    shared_api: Api, unchanged_job: dict[str, Any], params: dict[str, str], refused: list[str]
) -> None:
    """Each was a 500 (``OverflowError: date value out of range``), but the last, which said the
    window spans more than 366 days."""
    response = shared_api.get(f"/jobs/{unchanged_job['id']}/timeline", params=params)
    assert _errors(response) == [(["query", name], f"{params[name]!r} {TIMELINE_RANGE}") for name in refused]


@pytest.mark.parametrize(
    ("path", "name", "text"),
    [
        ("/executions", "since", "0001-01-01T00:00:00+01:00"),
        ("/executions/stream", "until", "9999-12-31T23:59:59-05:00"),
        ("/jobs/{id}/executions", "until", "9999-12-31T23:59:59-05:00"),
        ("/audit", "since", "0001-01-01T00:00:00+01:00"),
        ("/jobs/{id}/timeline", "since", "0001-01-01T00:00:00+01:00"),
    ],
)
def test_a_time_outside_what_a_store_holds_is_refused_in_one_sentence_everywhere(
    shared_api: Api, unchanged_job: dict[str, Any], path: str, name: str, text: str
) -> None:
    """The execution listings said ``is out of range: its UTC time falls outside the years 1-9999``
    where the audit log and the timeline named the time and the range."""
    response = shared_api.get(path.format(id=unchanged_job["id"]), params={name: text})
    assert _errors(response) == [(["query", name], f"{text!r} {STORE_RANGE}")]


def test_every_time_parameter_takes_the_same_forms(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    """The execution listings took ISO 8601 only, where the audit log and the timeline also take
    a duration before now and ``now``; a duration reaching before the first instant is that
    instant (docs/history-windows.md), so it bounds nothing in a listing."""
    for path in ("/executions", "/executions/stream", f"/jobs/{unchanged_job['id']}/executions", "/audit"):
        for since in ("7d", "1h30m", "now", "999999999d"):
            response = shared_api.get(path, params={"since": since})
            assert response.status_code == 200, (path, since, response.text)
    everything = shared_api.get("/audit", params={"since": "0001-01-01T00:00:00Z"}).json()
    assert shared_api.get("/audit", params={"since": "999999999d"}).json() == everything
    assert shared_api.get("/executions", params={"until": "now", "since": "1d"}).status_code == 200


SCHEDULES = {
    "interval": (1, {"minutes": 5}),
    "cron-east": (2, {"expression": "0 * * * *", "timezone": "Pacific/Kiritimati"}),
    "cron-west": (2, {"expression": "30 2 * * *", "timezone": "Pacific/Pago_Pago"}),
    "date": (3, {"run_date": "2030-01-01T00:00:00Z"}),
}
EDGES = {
    "first": {"since": TIMELINE_FIRST, "until": TIMELINE_FIRST + timedelta(hours=1)},
    "first-until-alone": {"until": TIMELINE_FIRST},
    "last": {"since": TIMELINE_LAST - timedelta(days=366), "until": TIMELINE_LAST},
    "last-since": {"since": TIMELINE_LAST - timedelta(seconds=1), "until": TIMELINE_LAST},
}


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_a_timeline_at_its_first_and_last_times_is_answered(api: Api, schedule: str) -> None:
    """The bounds hold no margin too few: a window at them, of any job, in a zone far from UTC
    either way, is a timeline, and a microsecond beyond them is a 422."""
    job_type, config = SCHEDULES[schedule]
    job = api.create_job(schedule, jobTypeId=job_type, scheduleConfig=config)
    path = f"/jobs/{job['id']}/timeline"
    for edge, window in EDGES.items():
        params = {name: moment.isoformat() for name, moment in window.items()}
        response = api.get(path, params=params)
        assert response.status_code == 200, (edge, response.text)
    before = (TIMELINE_FIRST - timedelta(microseconds=1)).isoformat()
    after = (TIMELINE_LAST + timedelta(microseconds=1)).isoformat()
    assert _errors(api.get(path, params={"since": before, "until": TIMELINE_FIRST.isoformat()})) == [
        (["query", "since"], f"{before!r} {TIMELINE_RANGE}")
    ]
    assert _errors(api.get(path, params={"until": after})) == [(["query", "until"], f"{after!r} {TIMELINE_RANGE}")]
