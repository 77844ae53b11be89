"""Every invalid cron value is a ValidationFailed naming exactly its field."""

from __future__ import annotations

from typing import Any

import pytest

from jobctl.errors import ValidationFailed
from tests.schedules.helpers import build, error_locs, utc

C = "scheduleConfig"

INVALID_FIELDS = [
    ("year", "1969"),
    ("year", "10000"),
    ("year", "abc"),
    ("year", "2030-2020"),
    ("year", True),
    ("month", "13"),
    ("month", "0"),
    ("month", "foo"),
    ("month", "*/0"),
    ("month", "jan-x"),
    ("month", "dec-jan"),
    ("day", "0"),
    ("day", "32"),
    ("day", "6th fri"),
    ("day", "2nd xyz"),
    ("day", "first mon"),
    ("day", "1-"),
    ("day", "L"),
    ("day", "15W"),
    ("week", "0"),
    ("week", "54"),
    ("week", "*/60"),
    ("day_of_week", "7"),
    ("day_of_week", "fri-mon"),
    ("day_of_week", "xyz"),
    ("day_of_week", -1),
    ("day_of_week", "1#2"),
    ("hour", "24"),
    ("hour", "-1"),
    ("hour", 24),
    ("hour", "1.5"),
    ("hour", ""),
    ("hour", "1,,2"),
    ("hour", 1.5),
    ("hour", ["1"]),
    ("hour", "5-2"),
    ("hour", "*/24"),
    ("minute", "60"),
    ("minute", "*/0"),
    ("minute", "H"),
    ("minute", "R"),
    ("minute", "1-2-3"),
    ("second", "60"),
    ("second", "*/-1"),
    ("second", "a/5"),
]


@pytest.mark.parametrize(("field", "value"), INVALID_FIELDS, ids=[f"{f}={v!r}" for f, v in INVALID_FIELDS])
def test_invalid_field_values_name_the_field(field: str, value: Any) -> None:
    config = {"hour": "3", field: value} if field != "hour" else {field: value}
    assert error_locs(lambda: build(2, config)) == [[C, field]]


INVALID_OTHERS = [
    ({"hour": "1", "start_date": "yesterday"}, [C, "start_date"]),
    ({"hour": "1", "start_date": 123}, [C, "start_date"]),
    ({"hour": "1", "end_date": "2026-13-01"}, [C, "end_date"]),
    ({"hour": "1", "start_date": "2026-06-01", "end_date": "2026-05-01"}, [C, "end_date"]),
    ({"hour": "1", "end_date": "2025-06-01"}, [C, "end_date"]),
    ({"hour": "1", "start_date": "2026-03-01T02:00:00Z", "end_date": "2026-03-01T03:00:00Z"}, [C, "end_date"]),
    ({"hour": "1", "timezone": "Mars/Base"}, [C, "timezone"]),
    ({"hour": "1", "timezone": ""}, [C, "timezone"]),
    ({"hour": "1", "timezone": 5}, [C, "timezone"]),
    ({"hour": "1", "jitter": -1}, [C, "jitter"]),
    ({"hour": "1", "jitter": "5"}, [C, "jitter"]),
    ({"hour": "1", "jitter": True}, [C, "jitter"]),
    ({"hour": "1", "hours": 1}, [C, "hours"]),
    ({"expression": 123}, [C, "expression"]),
    ({"expression": "* * *"}, [C, "expression"]),
    ({"expression": "* * * * * * *"}, [C, "expression"]),
    ({"expression": "61 * * * *"}, [C, "expression"]),
    ({"expression": "0 0 30 2 *"}, [C, "expression"]),
    ({"expression": "H * * * *"}, [C, "expression"]),
    ({"expression": "0 0 15W * *"}, [C, "expression"]),
    ({"expression": "0 0 * * 1,5#2"}, [C, "expression"]),
    ({"expression": "0 0 * * 5#6"}, [C, "expression"]),
    ({"expression": "0 0 13 * 5#2"}, [C, "expression"]),
    ({"expression": "0 0 L * 5L"}, [C, "expression"]),
    ({"expression": "0 0 * * fri-mon"}, [C, "expression"]),
    ({"expression": "0 0 * * 8"}, [C, "expression"]),
    ({"expression": "@reboot"}, [C, "expression"]),
    ({"expression": "0 0 * * *", "hour": "1"}, [C, "hour"]),
    ({"month": "2", "day": "30"}, [C, "day"]),
    ({"month": "4,6", "day": "31"}, [C, "day"]),
    ({"year": "2020"}, [C, "year"]),
    ({"year": "2026", "month": "2", "day": "5th mon"}, [C, "day"]),
    ({"day": "last sun", "day_of_week": "mon"}, [C, "day"]),
    ({"week": "1", "month": "6"}, [C, "week"]),
    ({}, [C]),
    ({"timezone": "UTC"}, [C]),
]


@pytest.mark.parametrize(("config", "loc"), INVALID_OTHERS, ids=[repr(c) for c, _ in INVALID_OTHERS])
def test_invalid_configs_name_the_field(config: dict[str, Any], loc: list[str]) -> None:
    assert error_locs(lambda: build(2, config)) == [loc]


@pytest.mark.parametrize("config", [["hour", "1"], "0 * * * *", None, 5], ids=["list", "string", "null", "number"])
def test_config_must_be_an_object(config: Any) -> None:
    assert error_locs(lambda: build(2, config)) == [[C]]


def test_all_field_errors_are_collected() -> None:
    config = {
        "hour": "25",
        "minute": "x",
        "day_of_week": "fri-mon",
        "second": "*/0",
        "bogus": 1,
        "timezone": "Mars/Base",
    }
    locs = error_locs(lambda: build(2, config))
    assert sorted(map(tuple, locs)) == sorted(
        (C, key) for key in ("hour", "minute", "day_of_week", "second", "bogus", "timezone")
    )


def test_errors_carry_messages_and_types() -> None:
    with pytest.raises(ValidationFailed) as info:
        build(2, {"hour": "24"})
    (error,) = info.value.errors
    assert error["type"] == "value_error"
    assert "24" in error["msg"] and "0-23" in error["msg"]
    assert info.value.prefixed("body").errors[0]["loc"] == ["body", C, "hour"]


def test_never_fires_is_judged_from_the_anchor() -> None:
    assert build(2, {"year": "2027"}, anchor=utc(2026, 6, 1)).first_slot_at_or_after(utc(2026, 6, 1)) == utc(2027, 1, 1)
    assert error_locs(lambda: build(2, {"year": "2027"}, anchor=utc(2027, 6, 1))) == [[C, "year"]]
