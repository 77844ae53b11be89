"""Property: any schedule config is refused with field errors, or gives runs that never fail.

Below the API: :func:`build_schedule` either raises ``ValidationFailed`` naming fields under
``scheduleConfig`` (or ``jobTypeId``), or returns a schedule whose first runs and the runs
after them are computed without an exception, in order, each run at or after its slot and
within the jitter. Derandomized with no example database, so CI sees the same examples.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import example, given, settings

from jobctl.errors import ValidationFailed
from jobctl.schedules.timing import END_OF_TIME, NO_RUN, build_schedule, first_run, run_after
from tests.strategies import schedules

EXAMPLES = int(os.environ.get("JOBCTL_TEST_PROPERTY_EXAMPLES", "60")) * 5
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
@given(schedule=schedules())
@example(schedule=(1, {"minutes": 5, "jitter": 60, "start_date": "9999-12-31T23:59:30Z"}))
@example(schedule=(1, {"hours": 1, "jitter": 7200, "start_date": "9999-12-31T21:30:00Z"}))
@example(schedule=(2, {"expression": "* * * * *", "jitter": 120, "start_date": "9999-12-31T23:57:00Z",
                       "timezone": "UTC"}))  # fmt: skip
def test_a_schedule_is_refused_by_field_or_runs_without_error(schedule: tuple[Any, Any]) -> None:
    job_type, config = schedule
    try:
        built = build_schedule(job_type, config, default_timezone="Europe/Berlin", anchor=NOW)
        upcoming = first_run(built, config, NOW)
    except ValidationFailed as exc:
        for error in exc.errors:
            assert error["loc"][:2] in (["body", "scheduleConfig"], ["body", "jobTypeId"]), error
        return
    jitter = timedelta(seconds=built.jitter_seconds)
    for _ in range(3):
        if upcoming is NO_RUN:
            return
        assert upcoming.slot is not None and upcoming.run_time is not None
        assert timedelta(0) <= upcoming.run_time - upcoming.slot <= jitter
        following = run_after(built, upcoming.slot)
        assert following.slot is None or following.slot > upcoming.slot
        upcoming = following


def test_runs_near_the_end_of_time_keep_within_it() -> None:
    """Later slots (not the first, which is refused) whose jitter would pass year 9999 are
    run within the room left instead of overflowing in the scheduler."""
    late = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    config = {"minutes": 30, "jitter": 3000, "start_date": "9999-12-31T22:00:00Z"}
    built = build_schedule(1, config, default_timezone="UTC", anchor=NOW)
    for _ in range(50):
        upcoming = run_after(built, late)
        assert upcoming.slot == datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
        assert upcoming.run_time is not None and upcoming.slot <= upcoming.run_time <= END_OF_TIME
