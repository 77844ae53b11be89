"""Interval schedules: anchored slots that never drift, start and end dates, validation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.schedules.helpers import ANCHOR, build, error_locs, slots, utc

C = "scheduleConfig"


def test_slots_are_anchored_at_creation_and_never_drift() -> None:
    schedule = build(1, {"minutes": 7, "seconds": 3})
    period = timedelta(minutes=7, seconds=3)
    slot = schedule.first_slot_at_or_after(ANCHOR)
    assert slot == ANCHOR
    for _ in range(10_000):
        assert slot is not None
        slot = schedule.next_slot_after(slot)
    assert slot == ANCHOR + 10_000 * period
    late = ANCHOR + 123_456 * period + timedelta(seconds=17)
    assert schedule.next_slot_after(late) == ANCHOR + 123_457 * period
    assert schedule.first_slot_at_or_after(ANCHOR + 5 * period) == ANCHOR + 5 * period


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"seconds": 30}, timedelta(seconds=30)),
        ({"hours": 0, "minutes": 5, "seconds": 0}, timedelta(minutes=5)),
        ({"hours": 24}, timedelta(days=1)),
        ({"weeks": 1, "days": 1, "hours": 1, "minutes": 1, "seconds": 1}, timedelta(days=8, seconds=3661)),
        ({"days": 2, "jitter": 0}, timedelta(days=2)),
    ],
    ids=["seconds", "seed-5-minutes", "hours-24", "every-unit", "days"],
)
def test_period_is_the_sum_of_the_units(config: dict[str, Any], expected: timedelta) -> None:
    assert slots(build(1, config), ANCHOR, 3) == [ANCHOR, ANCHOR + expected, ANCHOR + 2 * expected]


@pytest.mark.parametrize(
    ("start_date", "first"),
    [
        ("2026-02-01T10:00:00Z", utc(2026, 2, 1, 10)),
        ("2026-02-01T10:00:00", utc(2026, 2, 1, 10)),
        ("2026-02-01T12:00:00+02:00", utc(2026, 2, 1, 10)),
        ("2025-12-31T23:30:00Z", utc(2026, 1, 1, 0, 30)),
    ],
    ids=["future-z", "naive-means-utc", "offset", "past-start-keeps-its-phase"],
)
def test_start_date(start_date: str, first: datetime) -> None:
    schedule = build(1, {"hours": 1, "start_date": start_date})
    assert schedule.first_slot_at_or_after(ANCHOR) == first
    assert schedule.next_slot_after(first) == first + timedelta(hours=1)


def test_start_date_that_is_a_slot_fires_at_it() -> None:
    schedule = build(1, {"hours": 1, "start_date": "2026-02-01T10:00:00Z"})
    assert schedule.first_slot_at_or_after(utc(2026, 2, 1, 10)) == utc(2026, 2, 1, 10)
    assert schedule.next_slot_after(utc(2026, 2, 1, 9, 59, 59)) == utc(2026, 2, 1, 10)
    assert schedule.next_slot_after(utc(2026, 2, 1, 10)) == utc(2026, 2, 1, 11)


def test_end_date_is_inclusive_and_stops() -> None:
    schedule = build(1, {"minutes": 30, "end_date": "2026-01-01T01:00:00Z"})
    assert slots(schedule, ANCHOR, 10) == [ANCHOR, utc(2026, 1, 1, 0, 30), utc(2026, 1, 1, 1)]
    assert schedule.next_slot_after(utc(2026, 1, 1, 1)) is None
    assert schedule.first_slot_at_or_after(utc(2027, 1, 1)) is None


def test_attributes() -> None:
    schedule = build(1, {"hours": 1, "jitter": 45}, tz="Europe/Berlin")
    assert schedule.jitter_seconds == 45
    assert schedule.timezone is None
    assert int(schedule.job_type) == 1


def test_microsecond_anchor_is_kept() -> None:
    anchor = utc(2026, 1, 1, 0, 0, 0, 250_000)
    schedule = build(1, {"seconds": 1}, anchor=anchor)
    assert schedule.next_slot_after(utc(2026, 1, 1, 0, 0, 5)) == utc(2026, 1, 1, 0, 0, 5, 250_000)


INVALID = [
    ({"hours": -1}, [C, "hours"]),
    ({"hours": True}, [C, "hours"]),
    ({"hours": "5"}, [C, "hours"]),
    ({"hours": 1.5}, [C, "hours"]),
    ({"weeks": [1]}, [C, "weeks"]),
    ({"days": 10**12}, [C, "days"]),
    ({"weeks": 10_000}, [C, "weeks"]),
    ({"hours": 0, "minutes": 0, "seconds": 0}, [C, "hours"]),
    ({"seconds": 0}, [C, "seconds"]),
    ({}, [C]),
    ({"jitter": 5}, [C]),
    ({"hours": 1, "jitter": -5}, [C, "jitter"]),
    ({"hours": 1, "jitter": 2.5}, [C, "jitter"]),
    ({"hours": 1, "hour": "1"}, [C, "hour"]),
    ({"hours": 1, "start_date": "soon"}, [C, "start_date"]),
    ({"hours": 1, "start_date": 1767225600}, [C, "start_date"]),
    ({"hours": 1, "end_date": "2026-02-30T00:00:00"}, [C, "end_date"]),
    ({"hours": 1, "start_date": "2026-03-01", "end_date": "2026-02-01"}, [C, "end_date"]),
    ({"hours": 1, "end_date": "2025-12-31T23:00:00Z"}, [C, "end_date"]),
    ({"weeks": 1, "start_date": "2025-12-01T00:00:00Z", "end_date": "2026-01-03T00:00:00Z"}, [C, "end_date"]),
    ({"hours": 1, "timezone": "UTC"}, [C, "timezone"]),
]


@pytest.mark.parametrize(("config", "loc"), INVALID, ids=[repr(c) for c, _ in INVALID])
def test_invalid_configs_name_the_field(config: dict[str, Any], loc: list[str]) -> None:
    assert error_locs(lambda: build(1, config)) == [loc]


def test_all_errors_are_collected() -> None:
    locs = error_locs(lambda: build(1, {"hours": -1, "minutes": "x", "jitter": -1, "extra": 1}))
    assert sorted(map(tuple, locs)) == sorted((C, key) for key in ("hours", "minutes", "jitter", "extra"))
