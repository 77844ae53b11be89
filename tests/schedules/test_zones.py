from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from jobctl.schedules.zones import UnknownZone, as_utc, format_utc, load_zone, parse_iso, search_floor, wall_to_utc
from tests.schedules.helpers import utc

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("wall", "zone", "expected"),
    [
        (datetime(2026, 7, 1, 12, 0), BERLIN, utc(2026, 7, 1, 10, 0)),
        (datetime(2026, 3, 29, 2, 30), BERLIN, utc(2026, 3, 29, 1, 0)),
        (datetime(2026, 3, 29, 2, 0), BERLIN, utc(2026, 3, 29, 1, 0)),
        (datetime(2026, 3, 29, 3, 0), BERLIN, utc(2026, 3, 29, 1, 0)),
        (datetime(2026, 10, 25, 2, 30), BERLIN, utc(2026, 10, 25, 0, 30)),
        (datetime(2026, 3, 8, 2, 59, 59), NEW_YORK, utc(2026, 3, 8, 7, 0)),
        (datetime(2026, 11, 1, 1, 30), NEW_YORK, utc(2026, 11, 1, 5, 30)),
        (datetime(2026, 6, 1, 9, 0), ZoneInfo("Australia/Lord_Howe"), utc(2026, 5, 31, 22, 30)),
    ],
    ids=[
        "summer",
        "berlin-gap",
        "berlin-gap-start",
        "berlin-gap-end",
        "berlin-repeat",
        "ny-gap-last-second",
        "ny-repeat",
        "half-hour-dst-zone",
    ],
)
def test_wall_to_utc_follows_the_dst_rules(wall: datetime, zone: ZoneInfo, expected: datetime) -> None:
    assert wall_to_utc(wall, zone) == expected


def test_wall_to_utc_never_decreases_across_a_gap_and_a_repeat() -> None:
    for zone, day in (
        (BERLIN, datetime(2026, 3, 29)),
        (BERLIN, datetime(2026, 10, 25)),
        (NEW_YORK, datetime(2026, 11, 1)),
    ):
        instants = [wall_to_utc(day + timedelta(minutes=minute), zone) for minute in range(0, 6 * 60)]
        assert instants == sorted(instants)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (utc(2026, 11, 1, 5, 30), datetime(2026, 11, 1, 1, 30)),  # first pass of 01:xx
        (utc(2026, 11, 1, 6, 30), datetime(2026, 11, 1, 2, 0) - timedelta(microseconds=1)),  # second pass
        (utc(2026, 11, 1, 7, 0), datetime(2026, 11, 1, 2, 0)),
    ],
    ids=["first-pass", "second-pass-resumes-after-repeat", "after-repeat"],
)
def test_search_floor_skips_the_repeated_hour(instant: datetime, expected: datetime) -> None:
    assert search_floor(instant, NEW_YORK) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T09:00:00Z", utc(2026, 12, 1, 9)),
        ("2026-12-01T09:00:00+02:00", utc(2026, 12, 1, 7)),
        ("2026-12-01T09:00:00", utc(2026, 12, 1, 8)),
        ("2026-12-01 09:00", utc(2026, 12, 1, 8)),
        ("2026-12-01", utc(2026, 11, 30, 23)),
    ],
    ids=["z", "offset", "naive-local", "space-separated", "date-only"],
)
def test_parse_iso_reads_naive_values_in_the_zone(text: str, expected: datetime) -> None:
    assert parse_iso(text, BERLIN) == expected


def test_format_utc_ends_in_z() -> None:
    assert format_utc(datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))) == "2026-12-01T09:00:00Z"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        as_utc(datetime(2026, 1, 1))
    assert as_utc(utc(2026, 1, 1)).tzinfo is UTC


@pytest.mark.parametrize("name", ["Mars/Base", "", " UTC", "../etc/passwd", "/etc/localtime", "Europe"])
def test_load_zone_refuses_unknown_names(name: str) -> None:
    with pytest.raises(UnknownZone):
        load_zone(name)
