"""Cron jobs across daylight-saving changes: skipped times fire at the jump, repeated ones once."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.schedules.helpers import build, slots, utc

DAILY_0230 = {"hour": "2", "minute": "30"}


@pytest.mark.parametrize(
    ("config", "tz", "start", "expected"),
    [
        (
            DAILY_0230,
            "Europe/Berlin",
            utc(2026, 3, 27),
            [utc(2026, 3, 27, 1, 30), utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)],
        ),
        (
            DAILY_0230,
            "Europe/Berlin",
            utc(2026, 10, 24),
            [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)],
        ),
        (
            DAILY_0230,
            "America/New_York",
            utc(2026, 3, 7),
            [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 30)],
        ),
        (
            {"hour": "1", "minute": "30"},
            "America/New_York",
            utc(2026, 10, 31),
            [utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)],
        ),
        (
            {"minute": "0"},
            "Europe/Berlin",
            utc(2026, 3, 28, 23, 30),
            [utc(2026, 3, 29, 0), utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)],
        ),
        (
            {"minute": "0"},
            "Europe/Berlin",
            utc(2026, 10, 24, 22, 30),
            [utc(2026, 10, 24, 23), utc(2026, 10, 25, 0), utc(2026, 10, 25, 2), utc(2026, 10, 25, 3)],
        ),
        (
            {"second": "0"},
            "America/New_York",
            utc(2026, 3, 8, 6, 58),
            [utc(2026, 3, 8, 6, 58), utc(2026, 3, 8, 6, 59), utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 7, 1)],
        ),
        (
            {"second": "0"},
            "America/New_York",
            utc(2026, 11, 1, 5, 58),
            [utc(2026, 11, 1, 5, 58), utc(2026, 11, 1, 5, 59), utc(2026, 11, 1, 7, 0), utc(2026, 11, 1, 7, 1)],
        ),
        (
            {"expression": "30 2 * * *"},
            "Europe/Berlin",
            utc(2026, 3, 28),
            [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)],
        ),
    ],
    ids=[
        "berlin-daily-0230-spring-fires-at-0300",
        "berlin-daily-0230-fall-fires-once",
        "ny-daily-0230-spring-fires-at-0300",
        "ny-daily-0130-fall-fires-once",
        "berlin-hourly-spring",
        "berlin-hourly-fall-repeat-hour-once",
        "ny-every-minute-across-gap",
        "ny-every-minute-across-repeat",
        "berlin-crontab-0230-spring",
    ],
)
def test_dst_transitions(config: dict[str, Any], tz: str, start: datetime, expected: list[datetime]) -> None:
    assert slots(build(2, config, tz=tz), start, len(expected)) == expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (utc(2026, 11, 1, 6, 0), utc(2026, 11, 1, 7, 0)),
        (utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 7, 0)),
        (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 5, 31)),
    ],
    ids=["start-of-second-pass", "inside-second-pass", "inside-first-pass"],
)
def test_every_minute_inside_the_repeated_hour(instant: datetime, expected: datetime) -> None:
    schedule = build(2, {"second": "0"}, tz="America/New_York")
    assert schedule.next_slot_after(instant) == expected


def test_gap_wall_times_collapse_into_one_slot() -> None:
    schedule = build(2, {"minute": "*/15"}, tz="Europe/Berlin")
    found = slots(schedule, utc(2026, 3, 29, 0, 30), 5)
    assert found == [
        utc(2026, 3, 29, 0, 30),
        utc(2026, 3, 29, 0, 45),
        utc(2026, 3, 29, 1, 0),
        utc(2026, 3, 29, 1, 15),
        utc(2026, 3, 29, 1, 30),
    ]


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
@pytest.mark.parametrize(
    "config",
    [{"hour": "2", "minute": "30"}, {"hour": "1", "minute": "30"}, {"hour": "0", "minute": "0"}],
    ids=["0230", "0130", "midnight"],
)
def test_daily_job_fires_exactly_once_per_local_day_for_a_year(config: dict[str, Any], tz: str) -> None:
    zone = ZoneInfo(tz)
    found = slots(build(2, config, tz=tz), utc(2025, 12, 31), 400)
    year = [slot for slot in found if slot.astimezone(zone).year == 2026]
    per_day = Counter(slot.astimezone(zone).date() for slot in year)
    assert len(per_day) == 365
    assert set(per_day.values()) == {1}


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York"])
def test_slots_strictly_increase_through_both_transitions(tz: str) -> None:
    schedule = build(2, {"minute": "*/10", "second": "*/20"}, tz=tz)
    for start in (utc(2026, 3, 7, 20), utc(2026, 3, 28, 20), utc(2026, 10, 24, 20), utc(2026, 10, 31, 20)):
        found = slots(schedule, start, 3 * 24 * 6 * 3)
        gaps = [later - earlier for earlier, later in pairwise(found)]
        assert all(timedelta(0) < gap <= timedelta(hours=1, minutes=10) for gap in gaps)
