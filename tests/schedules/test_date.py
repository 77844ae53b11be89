"""One-shot date schedules and ``--at``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from jobctl.schedules import parse_at
from tests.schedules.helpers import ANCHOR, build, error_locs, slots, utc

C = "scheduleConfig"


def test_one_slot_then_none() -> None:
    schedule = build(3, {"run_date": "2026-12-01T09:00:00Z"})
    assert slots(schedule, ANCHOR, 5) == [utc(2026, 12, 1, 9)]
    assert schedule.next_slot_after(utc(2026, 12, 1, 8, 59)) == utc(2026, 12, 1, 9)
    assert schedule.next_slot_after(utc(2026, 12, 1, 9)) is None
    assert schedule.first_slot_at_or_after(utc(2026, 12, 1, 9)) == utc(2026, 12, 1, 9)
    assert schedule.first_slot_at_or_after(utc(2026, 12, 1, 9, 0, 1)) is None
    assert (schedule.jitter_seconds, schedule.timezone, int(schedule.job_type)) == (0, None, 3)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"run_date": "2026-12-01T09:00:00Z"}, utc(2026, 12, 1, 9)),
        ({"run_date": "2026-12-01T09:00:00+01:00"}, utc(2026, 12, 1, 8)),
        ({"run_date": "2026-12-01 09:00"}, utc(2026, 12, 1, 8)),
        ({"run_date": "2026-07-01T09:00:00"}, utc(2026, 7, 1, 7)),
        ({"run_date": "2026-12-01T09:00:00", "timezone": "America/New_York"}, utc(2026, 12, 1, 14)),
        ({"run_date": "2026-03-29T02:30:00"}, utc(2026, 3, 29, 1)),
    ],
    ids=["z", "offset", "naive-default-zone", "naive-summer", "naive-explicit-zone", "naive-in-gap"],
)
def test_run_date_forms(config: dict[str, Any], expected: datetime) -> None:
    assert build(3, config, tz="Europe/Berlin").first_slot_at_or_after(ANCHOR) == expected


INVALID = [
    ({}, [C, "run_date"]),
    ({"run_date": None}, [C, "run_date"]),
    ({"run_date": "tomorrow"}, [C, "run_date"]),
    ({"run_date": 1767225600}, [C, "run_date"]),
    ({"run_date": "2025-12-31T23:59:59Z"}, [C, "run_date"]),
    ({"run_date": "2026-12-01T09:00:00Z", "timezone": "Mars/Base"}, [C, "timezone"]),
    ({"run_date": "2026-12-01T09:00:00Z", "jitter": 5}, [C, "jitter"]),
    ({"run_date": "2026-12-01T09:00:00Z", "hours": 1}, [C, "hours"]),
]


@pytest.mark.parametrize(("config", "loc"), INVALID, ids=[repr(c) for c, _ in INVALID])
def test_invalid_configs_name_the_field(config: dict[str, Any], loc: list[str]) -> None:
    assert error_locs(lambda: build(3, config)) == [loc]


NOW = utc(2026, 6, 15, 10, 0)  # 12:00 in Berlin


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("2026-12-01T09:00:00Z", NOW, "2026-12-01T09:00:00Z"),
        ("2026-12-01T09:00:00+01:00", NOW, "2026-12-01T08:00:00Z"),
        ("2026-12-01 09:00", NOW, "2026-12-01T08:00:00Z"),
        ("2026-12-01", NOW, "2026-11-30T23:00:00Z"),
        ("13:00", NOW, "2026-06-15T11:00:00Z"),
        ("09:00", NOW, "2026-06-16T07:00:00Z"),
        ("12:00", NOW, "2026-06-16T10:00:00Z"),
        ("12:00:30", NOW, "2026-06-15T10:00:30Z"),
        ("02:30", utc(2026, 3, 28, 12), "2026-03-29T01:00:00Z"),
        (" 23:59 ", NOW, "2026-06-15T21:59:00Z"),
        ("09:00Z", NOW, "2026-06-16T09:00:00Z"),
    ],
    ids=[
        "z",
        "offset",
        "local",
        "date-only",
        "later-today",
        "tomorrow",
        "now-is-not-after-now",
        "seconds",
        "time-in-dst-gap",
        "spaces",
        "time-with-offset",
    ],
)
def test_parse_at(text: str, now: datetime, expected: str) -> None:
    assert parse_at(text, default_timezone="Europe/Berlin", now=now) == {"run_date": expected}
    build(3, parse_at(text, default_timezone="Europe/Berlin", now=now), anchor=now)


@pytest.mark.parametrize(
    "text",
    ["", "soon", "25:00", "2026-06-15T09:00:00Z", "2020-01-01", "2026-13-01 10:00"],
    ids=["empty", "word", "bad-hour", "past", "long-past", "bad-month"],
)
def test_parse_at_errors(text: str) -> None:
    assert error_locs(lambda: parse_at(text, default_timezone="Europe/Berlin", now=NOW)) == [["at"]]
