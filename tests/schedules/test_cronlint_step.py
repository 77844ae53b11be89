"""The ``step`` lint reads a range to the field's maximum as cron does: ``A-MAX/S`` is ``A/S``
(and ``0-MAX/S`` is ``*/S``), so it restarts each hour, day or month alike and is warned about
alike; a range that stops short of the maximum never reaches the restart."""

from __future__ import annotations

import pytest

from jobctl.schedules.cronlint import lint_fields, normalized_fields


def step_messages(expression: str) -> list[str]:
    return [found.message for found in lint_fields(normalized_fields(expression)) if found.code == "step"]


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        ("0-59/35 * * * *", "'0-59/35' in the minute field runs at minute 0, 35, starting again each hour"),
        ("5-59/35 * * * *", "'5-59/35' in the minute field runs at minute 5, 40, starting again each hour"),
        ("0 0 1-31/10 * *", "'1-31/10' in the day field runs at day 1, 11, 21, 31, starting again each month"),
        ("0 0-23/5 * * *", "'0-23/5' in the hour field runs at hour 0, 5, 10, 15, 20, starting again each day"),
        ("0 0 1 jan-dec/5 *", "'jan-dec/5' in the month field runs at month 1, 6, 11, starting again each year"),
        ("0-59/35 * * * * *", "'0-59/35' in the second field runs at second 0, 35, starting again each minute"),
    ],
    ids=["minute-0-59/35", "minute-5-59/35", "day-1-31/10", "hour-0-23/5", "month-jan-dec/5", "second-0-59/35"],
)
def test_a_range_to_the_maximum_with_an_uneven_step_is_warned_about(expression: str, said: str) -> None:
    messages = step_messages(expression)
    assert len(messages) == 1 and messages[0].startswith(said), messages


@pytest.mark.parametrize(
    "expression", ["0-59/30 * * * *", "5-59/15 * * * *", "0 0-23/6 * * *", "0-58/35 * * * *", "0 0 1-30/10 * *"]
)
def test_an_even_step_or_a_range_short_of_the_maximum_is_not(expression: str) -> None:
    assert step_messages(expression) == []


def test_the_range_form_is_warned_about_as_the_start_form() -> None:
    """``5-59/35`` and ``5/35`` are the same values: both warned about, with the same values."""
    (start,) = step_messages("5/35 * * * *")
    (ranged,) = step_messages("5-59/35 * * * *")
    assert start.split(" runs at ")[1] == ranged.split(" runs at ")[1]
