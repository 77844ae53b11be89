"""Counting a long cron range a day at a time gives what stepping through every slot gives.

The day count (``jobctl.schedules.spans``) only starts after ``step_budget`` slots; a budget of
a few slots makes it count almost the whole range, and an unreachable budget makes the same
call step through every slot: the two spans must be equal, across the days the clocks change
in zones that change at 02:00, at midnight and by half an hour.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobctl.schedules.cron import parse_cron
from jobctl.schedules.spans import span_through

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)

SPECS = [
    ({"expression": "*/29 * * * * *", "timezone": "Europe/Berlin"}),
    ({"second": "*/3", "hour": "2", "timezone": "Europe/Berlin"}),  # the hour that is skipped or repeated
    ({"expression": "17 */20 2 * * *", "timezone": "Europe/Berlin"}),
    ({"expression": "*/13 * 1-5 * * mon-fri", "timezone": "Europe/Berlin"}),
    ({"expression": "*/30 * * * * *", "timezone": "America/Santiago"}),  # clocks change at midnight
    ({"expression": "*/45 * * * * *", "timezone": "Australia/Lord_Howe"}),  # by half an hour
    ({"expression": "0 0 0 L * *", "timezone": "Europe/Berlin"}),
    ({"expression": "13 */5 * * * *", "timezone": "UTC"}),
]

STARTS = [
    datetime(2026, 3, 28, 5, 3, 1, tzinfo=UTC),  # Europe: spring forward on the 29th
    datetime(2026, 10, 24, 0, 0, tzinfo=UTC),  # Europe: fall back on the 25th
    datetime(2026, 4, 4, 0, 0, tzinfo=UTC),  # Santiago, Lord Howe: fall back
    datetime(2026, 9, 5, 0, 0, tzinfo=UTC),  # Santiago: spring forward
    datetime(2026, 10, 3, 12, 0, tzinfo=UTC),  # Lord Howe: spring forward
    datetime(2026, 1, 30, 23, 59, 59, tzinfo=UTC),  # the end of a month, no change
]


@pytest.mark.parametrize("config", SPECS, ids=lambda config: f"{config.get('expression', config)}")
def test_day_count_equals_stepping_through_every_slot(config: dict[str, str]) -> None:
    schedule = parse_cron(config, default_timezone="UTC", anchor=ANCHOR)
    for start in STARTS:
        first = schedule.first_slot_at_or_after(start)
        assert first is not None
        until = first + timedelta(days=2, seconds=4321.5)
        stepped = span_through(schedule, first, until, step_budget=10**9)
        counted = span_through(schedule, first, until, step_budget=3)
        assert counted == stepped, (config, start)


def test_a_year_of_a_per_second_job_is_counted_to_the_slot() -> None:
    schedule = parse_cron({"expression": "* * * * * *", "timezone": "Europe/Berlin"}, default_timezone="UTC",
                          anchor=ANCHOR)  # fmt: skip
    first = datetime(2026, 1, 1, tzinfo=UTC)
    until = datetime(2027, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)
    span = span_through(schedule, first, until)
    assert span is not None
    seconds = int((until - first).total_seconds())
    repeated_hour = 3600  # 25 October: the second pass of 02:00-03:00 repeats wall times that already fired
    last = until.replace(microsecond=0)
    assert (span.count, span.last, span.before_last) == (seconds + 1 - repeated_hour, last, last - timedelta(seconds=1))


def test_an_end_date_ends_the_day_count() -> None:
    end = datetime(2026, 2, 10, 12, 0, 0, tzinfo=UTC)
    schedule = parse_cron({"expression": "*/2 * * * * *", "timezone": "UTC", "end_date": end.isoformat()},
                          default_timezone="UTC", anchor=ANCHOR)  # fmt: skip
    first = datetime(2026, 2, 1, tzinfo=UTC)
    span = span_through(schedule, first, end + timedelta(days=30), step_budget=3)
    assert span is not None
    assert (span.count, span.last) == (int((end - first).total_seconds()) // 2 + 1, end)
