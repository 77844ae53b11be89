"""The English of ``jobctl cron explain`` (:mod:`jobctl.schedules.english`).

With both day fields restricted jobctl runs on days that match either, so the sentence must
say "or": cron-descriptor's own one drops a ``*/1`` field and joins a weekday range without it.
"""

from __future__ import annotations

import pytest

from jobctl.schedules.english import describe_expression


@pytest.mark.parametrize(
    ("expression", "english"),
    [
        ("0 0 0 */1 * 1", "At 00:00, on every day of the month, or on Monday"),
        ("0 0 0 1,15 * 5", "At 00:00, on day 1 and 15 of the month, or on Friday"),
        ("0 0 0 1 * 1-5", "At 00:00, on day 1 of the month, or on Monday through Friday"),
        ("0 30 2 1,15 * mon-fri", "At 02:30, on day 1 and 15 of the month, or on Monday through Friday"),
        ("0 0 0 1 * */1", "At 00:00, on day 1 of the month, or on every day of the week"),
        ("0 0 0 */1 * */1", "At 00:00, on every day of the month, or on every day of the week"),
        ("0 0 0 */2 * 1", "At 00:00, every 2 days, or on Monday"),
        ("0 0 0 L * 5", "At 00:00, on the last day of the month, or on Friday"),
        ("0 0 0 1 * */2", "At 00:00, on day 1 of the month, or every 2 days of the week"),
        ("0 0 9 1 jan mon", "At 09:00, on day 1 of the month, or on Monday, only in January"),
        ("0 */15 * 1 * 1", "Every 15 minutes, on day 1 of the month, or on Monday"),
    ],
)
def test_both_day_fields_restricted_read_as_either(expression: str, english: str) -> None:
    assert describe_expression(expression) == english


@pytest.mark.parametrize(
    ("expression", "english"),
    [
        ("0 0 0 * * 1", "At 00:00, only on Monday"),
        ("0 0 0 ? * 1", "At 00:00, only on Monday"),
        ("0 0 0 1 * *", "At 00:00, on day 1 of the month"),
        ("0 0 9 * * 1-5", "At 09:00, Monday through Friday"),
        ("0 0 0 L * ?", "At 00:00, on the last day of the month"),
    ],
)
def test_one_day_field_restricted_keeps_cron_descriptors_sentence(expression: str, english: str) -> None:
    assert describe_expression(expression) == english
