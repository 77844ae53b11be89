"""APScheduler-style cron fields: defaults, steps, names, month ends, special days, AND rule."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from tests.schedules.helpers import ANCHOR, build, slots, utc


def cron_slots(config: dict[str, Any], count: int, start: datetime = ANCHOR, tz: str = "UTC") -> list[datetime]:
    return slots(build(2, config, tz=tz), start, count)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"hour": "9", "minute": "0"}, [utc(2026, 1, 1, 9), utc(2026, 1, 2, 9), utc(2026, 1, 3, 9)]),
        ({"month": "6", "minute": "30"}, [utc(2026, 6, 1, 0, 30), utc(2026, 6, 1, 1, 30), utc(2026, 6, 1, 2, 30)]),
        ({"hour": "*", "minute": "30"}, [utc(2026, 1, 1, 0, 30), utc(2026, 1, 1, 1, 30), utc(2026, 1, 1, 2, 30)]),
        ({"day_of_week": "mon"}, [utc(2026, 1, 5), utc(2026, 1, 12), utc(2026, 1, 19)]),
        ({"hour": "8", "minute": "0", "day_of_week": "mon"}, [utc(2026, 1, 5, 8), utc(2026, 1, 12, 8)]),
        ({"hour": "0", "minute": "0", "day": "1"}, [utc(2026, 1, 1), utc(2026, 2, 1), utc(2026, 3, 1)]),
        ({"day": "15"}, [utc(2026, 1, 15), utc(2026, 2, 15)]),
        ({"minute": "5"}, [utc(2026, 1, 1, 0, 5), utc(2026, 1, 1, 1, 5)]),
        ({"second": "15"}, [utc(2026, 1, 1, 0, 0, 15), utc(2026, 1, 1, 0, 1, 15)]),
        ({"year": "2027"}, [utc(2027, 1, 1)]),
        ({"week": "10"}, [utc(2026, 3, 2), utc(2026, 3, 3), utc(2026, 3, 4)]),
        ({"hour": 9, "minute": 0}, [utc(2026, 1, 1, 9), utc(2026, 1, 2, 9)]),
    ],
    ids=[
        "hour-minute-daily",
        "month-minute-hourly-in-june",
        "hour-star-minute",
        "weekday-only-midnight",
        "seed-monday-8am",
        "seed-first-of-month",
        "day-only-midnight",
        "minute-only-hourly",
        "second-only-every-minute",
        "year-only-once",
        "week-only-every-day-of-week",
        "integer-values",
    ],
)
def test_apscheduler_defaults(config: dict[str, Any], expected: list[datetime]) -> None:
    assert cron_slots(config, len(expected) + 1)[: len(expected)] == expected


def test_year_only_fires_once_and_ends() -> None:
    assert cron_slots({"year": "2027"}, 5) == [utc(2027, 1, 1)]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"minute": "*/25"},
            [utc(2026, 1, 1, 0, 0), utc(2026, 1, 1, 0, 25), utc(2026, 1, 1, 0, 50), utc(2026, 1, 1, 1)],
        ),
        ({"hour": "*/5", "minute": "0"}, [utc(2026, 1, 1, h) for h in (0, 5, 10, 15, 20)] + [utc(2026, 1, 2, 0)]),
        ({"day": "*/10"}, [utc(2026, 1, 1), utc(2026, 1, 11), utc(2026, 1, 21), utc(2026, 1, 31), utc(2026, 2, 1)]),
        ({"month": "*/4"}, [utc(2026, 1, 1), utc(2026, 5, 1), utc(2026, 9, 1), utc(2027, 1, 1)]),
        ({"day_of_week": "*/2"}, [utc(2026, 1, 2), utc(2026, 1, 4), utc(2026, 1, 5), utc(2026, 1, 7)]),
        (
            {"minute": "10-20/5"},
            [utc(2026, 1, 1, 0, 10), utc(2026, 1, 1, 0, 15), utc(2026, 1, 1, 0, 20), utc(2026, 1, 1, 1, 10)],
        ),
        ({"minute": "40/10"}, [utc(2026, 1, 1, 0, 40), utc(2026, 1, 1, 0, 50), utc(2026, 1, 1, 1, 40)]),
        ({"minute": "1,2, 59"}, [utc(2026, 1, 1, 0, 1), utc(2026, 1, 1, 0, 2), utc(2026, 1, 1, 0, 59)]),
        ({"week": "*/20"}, [utc(2026, 1, 1), utc(2026, 1, 2), utc(2026, 1, 3), utc(2026, 1, 4), utc(2026, 5, 18)]),
    ],
    ids=["minute", "hour", "day", "month", "day-of-week", "range-step", "start-step", "list", "week"],
)
def test_steps_count_from_the_field_minimum(config: dict[str, Any], expected: list[datetime]) -> None:
    assert cron_slots(config, len(expected)) == expected


@pytest.mark.parametrize(
    ("day_of_week", "weekdays"),
    [
        ("0", {0}),
        ("6", {6}),
        ("mon", {0}),
        ("sun", {6}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("fri-sun", {4, 5, 6}),
        ("0-2,sat", {0, 1, 2, 5}),
        ("TUE", {1}),
        (3, {3}),
    ],
    ids=["0-is-monday", "6-is-sunday", "mon", "sun", "mon-fri", "fri-sun", "mixed", "uppercase", "integer"],
)
def test_day_of_week_counts_from_monday(day_of_week: str | int, weekdays: set[int]) -> None:
    found = cron_slots({"day_of_week": day_of_week, "hour": "12"}, 14)
    assert {slot.weekday() for slot in found} == weekdays


@pytest.mark.parametrize(
    ("month", "expected_month"),
    [("jun", 6), ("JUL", 7), ("dec", 12), ("1", 1)],
    ids=["jun", "uppercase", "dec", "number"],
)
def test_month_names(month: str, expected_month: int) -> None:
    assert cron_slots({"month": month}, 1)[0].month == expected_month


def test_day_31_skips_short_months() -> None:
    found = cron_slots({"day": "31"}, 7)
    assert [slot.date() for slot in found] == [
        date(2026, 1, 31),
        date(2026, 3, 31),
        date(2026, 5, 31),
        date(2026, 7, 31),
        date(2026, 8, 31),
        date(2026, 10, 31),
        date(2026, 12, 31),
    ]


def test_last_day_of_month() -> None:
    found = cron_slots({"day": "last", "hour": "23", "minute": "59"}, 26)
    assert [slot.date() for slot in found[:4]] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    assert date(2028, 2, 29) in [slot.date() for slot in found]


@pytest.mark.parametrize(
    ("config", "start", "expected"),
    [
        ({"month": "2", "day": "29"}, ANCHOR, [utc(2028, 2, 29), utc(2032, 2, 29), utc(2036, 2, 29)]),
        ({"month": "2", "day": "29"}, utc(2028, 3, 1), [utc(2032, 2, 29)]),
        ({"month": "feb", "day": "29", "day_of_week": "mon"}, ANCHOR, [utc(2044, 2, 29), utc(2072, 2, 29)]),
        ({"month": "2", "day": "29", "year": "2100-2104"}, ANCHOR, [utc(2104, 2, 29)]),
    ],
    ids=["leap-years-only", "from-after-a-leap-day", "leap-monday", "2100-is-not-leap"],
)
def test_february_29_fires_only_in_leap_years(
    config: dict[str, Any], start: datetime, expected: list[datetime]
) -> None:
    assert cron_slots(config, len(expected), start=start) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2nd fri", [date(2026, 1, 9), date(2026, 2, 13), date(2026, 3, 13)]),
        ("last fri", [date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 27)]),
        ("1st sun", [date(2026, 1, 4), date(2026, 2, 1), date(2026, 3, 1)]),
        ("5th mon", [date(2026, 3, 30), date(2026, 6, 29), date(2026, 8, 31), date(2026, 11, 30)]),
        ("1,last fri", [date(2026, 1, 1), date(2026, 1, 30), date(2026, 2, 1), date(2026, 2, 27)]),
        ("last,1st mon", [date(2026, 1, 5), date(2026, 1, 31), date(2026, 2, 2), date(2026, 2, 28)]),
        ("2nd fri,last fri", [date(2026, 1, 9), date(2026, 1, 30), date(2026, 2, 13), date(2026, 2, 27)]),
    ],
    ids=[
        "2nd-fri",
        "last-fri",
        "1st-sun",
        "5th-mon-skips-months",
        "numbered-and-weekday",
        "last-and-weekday",
        "two-weekdays",
    ],
)
def test_weekday_positions_in_day(day: str, expected: list[date]) -> None:
    found = cron_slots({"day": day, "hour": "6"}, len(expected))
    assert [slot.date() for slot in found] == expected
    assert all(slot.hour == 6 for slot in found)


def test_weekday_position_is_anded_with_day_of_week() -> None:
    found = cron_slots({"day": "1st mon,2nd fri", "day_of_week": "fri"}, 2)
    assert [slot.date() for slot in found] == [date(2026, 1, 9), date(2026, 2, 13)]


def test_fields_are_anded() -> None:
    found = cron_slots({"day": "13", "day_of_week": "fri"}, 4)
    assert [slot.date() for slot in found] == [
        date(2026, 2, 13),
        date(2026, 3, 13),
        date(2026, 11, 13),
        date(2027, 8, 13),
    ]


@pytest.mark.parametrize(
    ("week", "expected"),
    [
        ("1", [utc(2027, 1, 4), utc(2028, 1, 3), utc(2029, 1, 1)]),
        ("53", [utc(2026, 12, 28), utc(2032, 12, 27)]),
        ("52-53", [utc(2026, 12, 21), utc(2026, 12, 28), utc(2027, 12, 27)]),
    ],
    ids=["week-1", "week-53-only-in-long-years", "range"],
)
def test_week_is_the_iso_week_number(week: str, expected: list[datetime]) -> None:
    assert cron_slots({"week": week, "day_of_week": "mon", "hour": "0"}, len(expected)) == expected


def test_years_listed_are_jumped_to() -> None:
    found = cron_slots({"year": "2030,2032-2033", "month": "3", "day": "1", "hour": "6"}, 5)
    assert found == [utc(2030, 3, 1, 6), utc(2032, 3, 1, 6), utc(2033, 3, 1, 6)]


def test_seconds_field() -> None:
    found = cron_slots({"minute": "0", "second": "*/20"}, 4)
    assert found == [
        utc(2026, 1, 1, 0, 0, 0),
        utc(2026, 1, 1, 0, 0, 20),
        utc(2026, 1, 1, 0, 0, 40),
        utc(2026, 1, 1, 1, 0, 0),
    ]


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (utc(2026, 3, 2, 9, 0), utc(2026, 3, 2, 9, 0)),
        (utc(2026, 3, 2, 9, 0, 0, 1), utc(2026, 3, 3, 9, 0)),
        (utc(2026, 3, 2, 8, 59, 59, 999999), utc(2026, 3, 2, 9, 0)),
    ],
    ids=["exact", "just-after", "just-before"],
)
def test_first_slot_at_or_after_includes_t(start: datetime, expected: datetime) -> None:
    schedule = build(2, {"hour": "9", "minute": "0"})
    assert schedule.first_slot_at_or_after(start) == expected
    assert schedule.next_slot_after(expected) == expected.replace(day=expected.day + 1)


def test_start_date_that_is_a_slot_fires_at_it() -> None:
    schedule = build(2, {"hour": "9", "minute": "0", "start_date": "2026-03-02T09:00:00"}, tz="Europe/Berlin")
    assert schedule.first_slot_at_or_after(ANCHOR) == utc(2026, 3, 2, 8)
    assert schedule.next_slot_after(ANCHOR) == utc(2026, 3, 2, 8)
    assert schedule.next_slot_after(utc(2026, 3, 2, 8)) == utc(2026, 3, 3, 8)


def test_end_date_is_inclusive_and_stops() -> None:
    schedule = build(2, {"hour": "9", "minute": "0", "end_date": "2026-01-03T09:00:00Z"})
    assert slots(schedule, ANCHOR, 10) == [utc(2026, 1, 1, 9), utc(2026, 1, 2, 9), utc(2026, 1, 3, 9)]
    assert schedule.next_slot_after(utc(2030, 1, 1)) is None


def test_timezone_key_and_attributes() -> None:
    schedule = build(2, {"hour": "9", "minute": "0", "timezone": "Asia/Tokyo", "jitter": 30}, tz="Europe/Berlin")
    assert schedule.first_slot_at_or_after(ANCHOR) == utc(2026, 1, 1, 0)
    assert schedule.timezone == "Asia/Tokyo"
    assert schedule.jitter_seconds == 30
    assert int(schedule.job_type) == 2
    assert build(2, {"hour": "9"}, tz="Europe/Berlin").timezone == "Europe/Berlin"


def test_null_values_count_as_omitted() -> None:
    schedule = build(2, {"hour": "9", "minute": "0", "second": None, "timezone": None, "jitter": None})
    assert schedule.first_slot_at_or_after(ANCHOR) == utc(2026, 1, 1, 9)
    assert schedule.jitter_seconds == 0


def test_the_end_of_time_is_no_slot() -> None:
    cron = build(2, {"hour": "23", "minute": "30"}, tz="America/New_York")
    assert slots(cron, utc(9999, 12, 29, 5), 10) == [utc(9999, 12, 30, 4, 30), utc(9999, 12, 31, 4, 30)]
    interval = build(1, {"weeks": 1})
    assert interval.next_slot_after(utc(9999, 12, 30)) is None
