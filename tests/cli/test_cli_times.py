"""Relative times in tables ("in 4m", "2d14h ago"): every unit, both directions, the boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobctl.cli.output import relative

NOW = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)

SPANS = [
    (timedelta(seconds=1), "1s"),
    (timedelta(seconds=59, milliseconds=900), "59s"),
    (timedelta(seconds=60), "1m"),
    (timedelta(seconds=61), "1m1s"),
    (timedelta(minutes=9, seconds=59), "9m59s"),
    (timedelta(minutes=10, seconds=59), "10m"),
    (timedelta(minutes=59, seconds=59), "59m"),
    (timedelta(hours=1), "1h"),
    (timedelta(hours=1, minutes=30), "1h30m"),
    (timedelta(hours=9, minutes=59, seconds=59), "9h59m"),
    (timedelta(hours=10, minutes=30), "10h"),
    (timedelta(hours=23, minutes=59, seconds=59), "23h"),
    (timedelta(days=1), "1d"),
    (timedelta(days=1, minutes=59), "1d"),
    (timedelta(days=1, hours=1), "1d1h"),
    (timedelta(days=2, hours=14), "2d14h"),
    (timedelta(days=2, hours=23, minutes=59, seconds=59), "2d23h"),
    (timedelta(days=9, hours=23), "9d23h"),
    (timedelta(days=10, hours=23), "10d"),
    (timedelta(days=400), "400d"),
]


@pytest.mark.parametrize(("span", "text"), SPANS, ids=[text for _, text in SPANS])
def test_relative_time_in_the_future(span: timedelta, text: str) -> None:
    assert relative((NOW + span).isoformat(), now=NOW) == f"in {text}"


@pytest.mark.parametrize(("span", "text"), SPANS, ids=[text for _, text in SPANS])
def test_relative_time_in_the_past(span: timedelta, text: str) -> None:
    assert relative((NOW - span).isoformat().replace("+00:00", "Z"), now=NOW) == f"{text} ago"


@pytest.mark.parametrize("offset", [0.0, 0.999, -0.999], ids=["same", "just-ahead", "just-behind"])
def test_under_a_second_is_now(offset: float) -> None:
    assert relative((NOW + timedelta(seconds=offset)).isoformat(), now=NOW) == "now"


def test_no_time_is_a_dash() -> None:
    assert relative(None, now=NOW) == "-"
