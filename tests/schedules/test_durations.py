from __future__ import annotations

import pytest

from jobctl.schedules import parse_every
from tests.schedules.helpers import ANCHOR, build, error_locs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h30m", {"hours": 1, "minutes": 30}),
        ("90s", {"seconds": 90}),
        ("2d", {"days": 2}),
        ("1w2d", {"weeks": 1, "days": 2}),
        ("30m1h", {"minutes": 30, "hours": 1}),
        (" 1H 30M ", {"hours": 1, "minutes": 30}),
        ("1h0m", {"hours": 1, "minutes": 0}),
        ("1w1d1h1m1s", {"weeks": 1, "days": 1, "hours": 1, "minutes": 1, "seconds": 1}),
        ("0" * 5000 + "5m", {"minutes": 5}),
    ],
    ids=[
        "hours-minutes",
        "seconds",
        "days",
        "weeks-days",
        "any-order",
        "case-and-spaces",
        "zero-part",
        "all",
        "leading-zeros",
    ],
)
def test_parse_every(text: str, expected: dict[str, int]) -> None:
    assert parse_every(text) == expected
    assert build(1, parse_every(text)).first_slot_at_or_after(ANCHOR) == ANCHOR


@pytest.mark.parametrize(
    "text",
    ["", "abc", "0s", "0h0m", "-1h", "1x", "1h1h", "1.5h", "10", "h", "1 h 2", "99999999w", "9" * 5000 + "d"],
    ids=[
        "empty",
        "junk",
        "zero",
        "zeros",
        "negative",
        "unknown-unit",
        "repeated",
        "fraction",
        "no-unit",
        "no-number",
        "trailing-number",
        "too-long",
        "too-many-digits",
    ],
)
def test_parse_every_errors(text: str) -> None:
    assert error_locs(lambda: parse_every(text)) == [["every"]]
