"""Crontab expressions: Sunday is 0 or 7, day fields are ORed, a sixth field is seconds, first."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from jobctl.errors import ValidationFailed
from jobctl.schedules import crontab_config
from tests.schedules.helpers import ANCHOR, build, error_locs, slots, utc


def expression_slots(expression: str, count: int, tz: str = "UTC") -> list[datetime]:
    return slots(build(2, {"expression": expression}, tz=tz), ANCHOR, count)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("*/5 * * * *", [utc(2026, 1, 1, 0, 0), utc(2026, 1, 1, 0, 5), utc(2026, 1, 1, 0, 10)]),
        ("0 2 * * *", [utc(2026, 1, 1, 2), utc(2026, 1, 2, 2)]),
        ("30 0 9 * * *", [utc(2026, 1, 1, 9, 0, 30), utc(2026, 1, 2, 9, 0, 30)]),
        ("*/20 * * * * *", [utc(2026, 1, 1, 0, 0, 0), utc(2026, 1, 1, 0, 0, 20), utc(2026, 1, 1, 0, 0, 40)]),
        ("@hourly", [utc(2026, 1, 1, 0), utc(2026, 1, 1, 1)]),
        ("@daily", [utc(2026, 1, 1), utc(2026, 1, 2)]),
        ("@midnight", [utc(2026, 1, 1), utc(2026, 1, 2)]),
        ("@weekly", [utc(2026, 1, 4), utc(2026, 1, 11)]),
        ("@monthly", [utc(2026, 1, 1), utc(2026, 2, 1)]),
        ("@yearly", [utc(2026, 1, 1), utc(2027, 1, 1)]),
        ("0 0 1 jan,jul *", [utc(2026, 1, 1), utc(2026, 7, 1), utc(2027, 1, 1)]),
        ("0 0 L * *", [utc(2026, 1, 31), utc(2026, 2, 28), utc(2026, 3, 31)]),
        ("0 0 * * 5#2", [utc(2026, 1, 9), utc(2026, 2, 13)]),
        ("0 0 * * 5L", [utc(2026, 1, 30), utc(2026, 2, 27)]),
        ("0 0 * * L5", [utc(2026, 1, 30), utc(2026, 2, 27)]),
        ("0 0 * * fri#1,mon#1", [utc(2026, 1, 2), utc(2026, 1, 5), utc(2026, 2, 2), utc(2026, 2, 6)]),
        ("  0   0  *  *  *  ", [utc(2026, 1, 1), utc(2026, 1, 2)]),
    ],
    ids=[
        "every-5-min",
        "daily",
        "six-fields-seconds-first",
        "every-20-seconds",
        "hourly",
        "daily-macro",
        "midnight",
        "weekly-is-sunday",
        "monthly",
        "yearly",
        "month-names",
        "last-day",
        "nth-weekday",
        "last-weekday-quartz",
        "last-weekday-croniter",
        "two-nth-weekdays",
        "extra-spaces",
    ],
)
def test_expressions(expression: str, expected: list[datetime]) -> None:
    assert expression_slots(expression, len(expected)) == expected


@pytest.mark.parametrize(
    ("weekday_field", "weekdays"),
    [
        ("0", {6}),
        ("7", {6}),
        ("sun", {6}),
        ("1", {0}),
        ("1-5", {0, 1, 2, 3, 4}),
        ("fri-sun", {4, 5, 6}),
        ("5-7", {4, 5, 6}),
        ("SAT,SUN", {5, 6}),
        ("*/2", {6, 1, 3, 5}),
        ("?", set(range(7))),
    ],
    ids=["0-is-sunday", "7-is-sunday", "sun", "1-is-monday", "weekdays", "fri-sun", "5-7", "names", "step", "question"],
)
def test_weekday_numbering_counts_from_sunday(weekday_field: str, weekdays: set[int]) -> None:
    found = expression_slots(f"0 12 * * {weekday_field}", 14)
    assert {slot.weekday() for slot in found} == weekdays


def test_day_fields_are_ored_when_both_restricted() -> None:
    found = expression_slots("0 9 13 * 5", 5)
    assert [slot.date() for slot in found] == [
        date(2026, 1, 2),
        date(2026, 1, 9),
        date(2026, 1, 13),
        date(2026, 1, 16),
        date(2026, 1, 23),
    ]


def test_fields_form_ands_the_same_days() -> None:
    found = slots(build(2, {"day": "13", "day_of_week": "fri", "hour": "9"}), ANCHOR, 2)
    assert [slot.date() for slot in found] == [date(2026, 2, 13), date(2026, 3, 13)]


@pytest.mark.parametrize(
    ("expression", "first_dates"),
    [
        ("0 0 13 * *", [date(2026, 1, 13), date(2026, 2, 13)]),
        ("0 0 * * 5", [date(2026, 1, 2), date(2026, 1, 9)]),
        ("0 0 1-31 * 1", [date(2026, 1, 1), date(2026, 1, 2)]),
        ("0 0 L * 1", [date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19), date(2026, 1, 26), date(2026, 1, 31)]),
    ],
    ids=["only-day-restricted", "only-weekday-restricted", "explicit-full-day-list-still-ors", "last-or-monday"],
)
def test_a_star_day_field_does_not_or(expression: str, first_dates: list[date]) -> None:
    assert [slot.date() for slot in expression_slots(expression, len(first_dates))] == first_dates


def test_expression_with_timezone_and_dates() -> None:
    config = {
        "expression": "0 9 * * *",
        "timezone": "America/New_York",
        "start_date": "2026-02-01",
        "end_date": "2026-02-03T09:00:00",
        "jitter": 5,
    }
    schedule = build(2, config, tz="Europe/Berlin")
    assert slots(schedule, ANCHOR, 10) == [utc(2026, 2, 1, 14), utc(2026, 2, 2, 14), utc(2026, 2, 3, 14)]
    assert schedule.timezone == "America/New_York"
    assert schedule.jitter_seconds == 5


@pytest.mark.parametrize(
    ("expression", "timezone", "expected"),
    [
        ("*/5 * * * *", None, {"expression": "*/5 * * * *"}),
        ("0  2 * * *", "Europe/Berlin", {"expression": "0 2 * * *", "timezone": "Europe/Berlin"}),
        ("@daily", None, {"expression": "@daily"}),
    ],
    ids=["plain", "with-timezone-and-spaces", "macro"],
)
def test_crontab_config(expression: str, timezone: str | None, expected: dict[str, str]) -> None:
    config = crontab_config(expression, timezone)
    assert config == expected
    build(2, config)


@pytest.mark.parametrize(
    ("expression", "timezone", "loc"),
    [
        ("*/5 * * *", None, ["cron"]),
        ("61 * * * *", None, ["cron"]),
        ("0 0 30 2 *", None, ["cron"]),
        ("@reboot", None, ["cron"]),
        ("0 0 * * *", "Mars/Base", ["timezone"]),
    ],
    ids=["four-fields", "minute-out-of-range", "never-fires", "reboot", "bad-timezone"],
)
def test_crontab_config_errors(expression: str, timezone: str | None, loc: list[str]) -> None:
    assert error_locs(lambda: crontab_config(expression, timezone)) == [loc]


# -- six fields: seconds first ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("*/10 * * * * *", [utc(2026, 1, 1, 0, 0, s) for s in (0, 10, 20, 30, 40, 50)] + [utc(2026, 1, 1, 0, 1)]),
        ("0 0 12 * * *", [utc(2026, 1, 1, 12), utc(2026, 1, 2, 12), utc(2026, 1, 3, 12)]),
        ("0 0 9 * * mon-fri", [utc(2026, 1, 1, 9), utc(2026, 1, 2, 9), utc(2026, 1, 5, 9)]),
        ("0 0 9 * * 1-5", [utc(2026, 1, 1, 9), utc(2026, 1, 2, 9), utc(2026, 1, 5, 9)]),
        ("15 30 * * * *", [utc(2026, 1, 1, 0, 30, 15), utc(2026, 1, 1, 1, 30, 15)]),
        ("0 0 0 L * ?", [utc(2026, 1, 31), utc(2026, 2, 28)]),
        ("0 0 0 * * 5#2", [utc(2026, 1, 9), utc(2026, 2, 13)]),
        ("0 0 0 1 jan,jul *", [utc(2026, 1, 1), utc(2026, 7, 1)]),
    ],
    ids=[
        "every-10-seconds",
        "noon",
        "weekday-names",
        "weekday-numbers",
        "hourly-at-30m15s",
        "last-day",
        "nth-weekday",
        "month-names",
    ],
)
def test_a_sixth_field_is_seconds_first(expression: str, expected: list[datetime]) -> None:
    """``*/10 * * * * *`` is every ten seconds (it once was every second of every tenth minute)."""
    assert expression_slots(expression, len(expected)) == expected


def test_a_minute_of_every_ten_seconds_has_six_runs_not_sixty() -> None:
    schedule = build(2, {"expression": "*/10 * * * * *"})
    minute = [slot for slot in slots(schedule, ANCHOR, 100) if slot < utc(2026, 1, 1, 0, 1)]
    assert len(minute) == 6


@pytest.mark.parametrize(
    ("expression", "first_reading", "last_reading", "rewritten"),
    [
        (
            "0 9 * * 1-5 30",
            "second=0 minute=9 hour=* day=* month=1-5 weekday=30",
            "minute=0 hour=9 day=* month=* weekday=1-5 second=30",
            "30 0 9 * * 1-5",
        ),
        (
            "0 9 * * mon *",
            "second=0 minute=9 hour=* day=* month=mon weekday=*",
            "minute=0 hour=9 day=* month=* weekday=mon second=*",
            "* 0 9 * * mon",
        ),
        (
            "30 2 31 12 * */15",
            "second=30 minute=2 hour=31 day=12 month=* weekday=*/15",
            "minute=30 hour=2 day=31 month=12 weekday=* second=*/15",
            "*/15 30 2 31 12 *",
        ),
    ],
    ids=["seconds-out-of-weekday-range", "weekday-name-in-month", "day-in-hour"],
)
def test_six_fields_valid_only_seconds_last_are_refused_showing_both_readings(
    expression: str, first_reading: str, last_reading: str, rewritten: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        build(2, {"expression": expression})
    [error] = caught.value.errors
    assert error["loc"] == ["scheduleConfig", "expression"]
    message = error["msg"]
    assert f"read seconds first ({first_reading})" in message
    assert f"read seconds last ({last_reading}) it would be valid" in message
    assert f"write {rewritten!r}" in message
    assert expression_slots(rewritten, 1)  # the suggested spelling is accepted
    with pytest.raises(ValidationFailed) as from_cli:
        crontab_config(expression)
    assert from_cli.value.errors[0]["loc"] == ["cron"]
    assert f"write {rewritten!r}" in from_cli.value.errors[0]["msg"]


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("70 0 9 * * *", "second field '70': 70 is out of range 0-59"),
        ("0 0 9 * * mon#9", "'mon#9': the week of the month must be 1-5"),
        ("* * * * * * *", "needs 5 fields (minute hour day month weekday) or 6 (second minute hour day month weekday)"),
    ],
    ids=["seconds-out-of-range", "weekday-out-of-range", "seven-fields"],
)
def test_six_fields_invalid_both_ways_get_the_seconds_first_error(expression: str, fragment: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        build(2, {"expression": expression})
    message = caught.value.errors[0]["msg"]
    assert fragment in message
    assert "seconds last" not in message
