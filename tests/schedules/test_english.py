"""The English of ``jobctl cron explain`` (:mod:`jobctl.schedules.english`).

With both day fields restricted jobctl runs on days that match either, so the sentence must
say "or": cron-descriptor's own one drops a ``*/1`` field and joins a weekday range without it.
A start with a step (``5/2``) is cron's ``5-MAX/2``, which cron-descriptor misreads in several
fields: each case is checked against the runs ``cron explain`` lists.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobctl.schedules.english import describe_expression
from jobctl.schedules.explain import explain


@pytest.mark.parametrize(
    ("expression", "english"),
    [
        ("0 0 0 */1 * 1", "At 00:00, on every day of the month, or on Monday"),
        ("0 0 0 1,15 * 5", "At 00:00, on day 1 and 15 of the month, or on Friday"),
        ("0 0 0 1 * 1-5", "At 00:00, on day 1 of the month, or on Monday through Friday"),
        ("0 30 2 1,15 * mon-fri", "At 02:30, on day 1 and 15 of the month, or on Monday through Friday"),
        ("0 0 0 1 * */1", "At 00:00, on day 1 of the month, or on every day of the week"),
        ("0 0 0 */1 * */1", "At 00:00, on every day of the month, or on every day of the week"),
        ("0 0 0 */2 * 1", "At 00:00, every 2 days, between day 1 and 31 of the month, or on Monday"),
        ("0 0 0 L * 5", "At 00:00, on the last day of the month, or on Friday"),
        ("0 0 0 1 * */2", "At 00:00, on day 1 of the month, or on Sunday, Tuesday, Thursday, and Saturday"),
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


NEW_YEAR_2027 = datetime(2027, 1, 1, tzinfo=UTC)


def listed(expression: str, count: int, after: datetime = NEW_YEAR_2027) -> tuple[str, list[str]]:
    """The English and the runs ``cron explain`` gives for ``expression`` in UTC."""
    explanation = explain(expression, timezone="UTC", after=after, count=count)
    return explanation.description, [f"{instant.utc:%m-%d %H:%M}" for instant in explanation.next]


@pytest.mark.parametrize(
    ("expression", "english", "runs"),
    [
        ("0 0 * * 5/2", "At 00:00, only on Friday and Sunday", ["01-01 00:00", "01-03 00:00", "01-08 00:00"]),
        ("0 0 * * 1/2", "At 00:00, only on Monday, Wednesday, Friday, and Sunday", ["01-01 00:00", "01-03 00:00",
                                                                                       "01-04 00:00", "01-06 00:00"]),
        ("0 0 * * sat/1", "At 00:00, only on Saturday and Sunday", ["01-02 00:00", "01-03 00:00", "01-09 00:00"]),
        ("0 0 1 * 5/2", "At 00:00, on day 1 of the month, or on Friday and Sunday", ["01-01 00:00", "01-03 00:00"]),
        ("50/15 * * * *", "At 50 minutes past the hour", ["01-01 00:50", "01-01 01:50"]),
        ("5/35 * * * *", "At 5 and 40 minutes past the hour", ["01-01 00:05", "01-01 00:40", "01-01 01:05"]),
        ("20/15 * * * *", "At 20, 35, and 50 minutes past the hour", ["01-01 00:20", "01-01 00:35", "01-01 00:50",
                                                                       "01-01 01:20"]),
        ("0 20/6 * * *", "At 20:00", ["01-01 20:00", "01-02 20:00"]),
        ("0 3/5 * * *", "At 03:00, 08:00, 13:00, 18:00 and 23:00", ["01-01 03:00", "01-01 08:00", "01-01 13:00",
                                                                     "01-01 18:00", "01-01 23:00", "01-02 03:00"]),
        ("0 0 1/10 * *", "At 00:00, on day 1, 11, 21, and 31 of the month", ["01-01 00:00", "01-11 00:00",
                                                                             "01-21 00:00", "01-31 00:00",
                                                                             "02-01 00:00"]),
        ("0 0 25/10 * *", "At 00:00, on day 25 of the month", ["01-25 00:00", "02-25 00:00"]),
        ("0 0 1,20/6 * *", "At 00:00, on day 1, 20, and 26 of the month", ["01-01 00:00", "01-20 00:00",
                                                                           "01-26 00:00", "02-01 00:00"]),
        ("0 0 1 11/3 *", "At 00:00, on day 1 of the month, only in November", ["11-01 00:00"]),
        ("0 0 1 feb/5 *", "At 00:00, on day 1 of the month, only in February, July, and December", ["02-01 00:00",
                                                                                                   "07-01 00:00",
                                                                                                   "12-01 00:00"]),
    ],
    ids=["weekday-5/2", "weekday-1/2", "weekday-sat/1", "weekday-either", "minute-50/15", "minute-5/35",
         "minute-20/15", "hour-20/6", "hour-3/5", "day-1/10", "day-25/10", "day-list", "month-11/3", "month-feb/5"],
)  # fmt: skip
def test_a_start_with_a_step_is_described_as_the_runs_listed(expression: str, english: str, runs: list[str]) -> None:
    """``N/S`` is ``N-MAX/S`` (weekday: up to Sunday, 7): the English names what runs, never
    'every S units' when the runs restart each hour, day, month or year."""
    after = NEW_YEAR_2027 - timedelta(seconds=1)
    assert listed(expression, len(runs), after) == (english, runs)


@pytest.mark.parametrize(
    ("expression", "english", "runs"),
    [
        ("5/15 * * * *", "Every 15 minutes, starting at 5 minutes past the hour", ["01-01 00:05", "01-01 00:20",
                                                                                   "01-01 00:35", "01-01 00:50",
                                                                                   "01-01 01:05"]),
        ("0 3/6 * * *", "Every 6 hours, starting at 03:00", ["01-01 03:00", "01-01 09:00", "01-01 15:00",
                                                             "01-01 21:00", "01-02 03:00"]),
        ("0 0 1 2/3 *", "At 00:00, on day 1 of the month, every 3 months, February through December",
         ["02-01 00:00", "05-01 00:00", "08-01 00:00", "11-01 00:00", "02-01 00:00"]),
    ],
    ids=["minute-5/15", "hour-3/6", "month-2/3"],
)  # fmt: skip
def test_a_start_with_a_step_that_runs_every_step_keeps_its_every(expression: str, english: str,
                                                                    runs: list[str]) -> None:  # fmt: skip
    assert listed(expression, len(runs), NEW_YEAR_2027 - timedelta(seconds=1)) == (english, runs)


@pytest.mark.parametrize(
    ("expression", "english", "runs"),
    [
        ("0 0 */2 * 1", "At 00:00, every 2 days, between day 1 and 31 of the month, or on Monday",
         ["01-29 00:00", "01-31 00:00", "02-01 00:00", "02-03 00:00"]),
        ("0 0 */2 * *", "At 00:00, every 2 days, between day 1 and 31 of the month",
         ["01-29 00:00", "01-31 00:00", "02-01 00:00", "02-03 00:00"]),
        ("0 0 */10 * *", "At 00:00, on day 1, 11, 21, and 31 of the month",
         ["01-31 00:00", "02-01 00:00", "02-11 00:00", "02-21 00:00", "03-01 00:00"]),
        ("*/7 * * * *", "Every 7 minutes, minutes 0 through 56 past the hour",
         ["01-28 00:00", "01-28 00:07", "01-28 00:14", "01-28 00:21", "01-28 00:28", "01-28 00:35", "01-28 00:42",
          "01-28 00:49", "01-28 00:56", "01-28 01:00"]),
        ("0 */5 * * *", "At 00:00, 05:00, 10:00, 15:00 and 20:00",
         ["01-28 00:00", "01-28 05:00", "01-28 10:00", "01-28 15:00", "01-28 20:00", "01-29 00:00"]),
        ("0 0 1 */5 *", "At 00:00, on day 1 of the month, only in January, June, and November",
         ["06-01 00:00", "11-01 00:00", "01-01 00:00"]),
        ("0 0 * * */2", "At 00:00, only on Sunday, Tuesday, Thursday, and Saturday",
         ["01-28 00:00", "01-30 00:00", "01-31 00:00", "02-02 00:00"]),
    ],
    ids=["day-either", "day-*/2", "day-*/10", "minute-*/7", "hour-*/5", "month-*/5", "weekday-*/2"],
)  # fmt: skip
def test_a_star_step_that_restarts_unevenly_is_described_as_the_runs_listed(
    expression: str, english: str, runs: list[str]
) -> None:
    """A ``*/S`` whose step does not divide its field's range restarts each hour, day, month or
    year (the ``step`` warning says "so not every S days"): the English names what runs, as for
    ``N/S``; cron-descriptor said "every 2 days" for ``*/2`` days and "every 2 days of the week"."""
    assert listed(expression, len(runs), datetime(2027, 1, 28, tzinfo=UTC) - timedelta(seconds=1)) == (english, runs)


@pytest.mark.parametrize(
    ("expression", "english"),
    [("*/15 * * * *", "Every 15 minutes"), ("0 */6 * * *", "Every 6 hours"),
     ("0 0 1 */3 *", "At 00:00, on day 1 of the month, every 3 months")],
    ids=["minute-*/15", "hour-*/6", "month-*/3"],
)  # fmt: skip
def test_a_star_step_that_divides_its_range_keeps_its_every(expression: str, english: str) -> None:
    assert describe_expression(" ".join(["0", *expression.split()])) == english


def test_a_start_with_a_step_of_many_runs_is_a_range_that_ends_at_its_last_run() -> None:
    days = listed("0 0 2/3 * *", 3, after=datetime(2027, 1, 27, tzinfo=UTC))
    assert days == ("At 00:00, every 3 days, between day 2 and 29 of the month", ["01-29 00:00", "02-02 00:00",
                                                                                  "02-05 00:00"])  # fmt: skip
    explanation = explain("1/7 * * * * *", timezone="UTC", after=datetime(2027, 1, 1, 0, 0, 50, tzinfo=UTC), count=3)
    assert explanation.description == "Every 7 seconds, seconds 1 through 57 past the minute"
    assert [f"{instant.utc:%M:%S}" for instant in explanation.next] == ["00:57", "01:01", "01:08"]


@pytest.mark.parametrize(
    ("expression", "english"),
    [
        ("0 */7,5 * * * *", "At 0, 5, 7, 14, 21, 28, 35, 42, 49, and 56 minutes past the hour"),
        ("0 0 0 25,1/10 * *", "At 00:00, on day 1, 11, 21, 25, and 31 of the month"),
        ("0 5/35,40 * * * *", "At 5 and 40 minutes past the hour"),
        ("0 0 0 * * 5/2,1", "At 00:00, only on Monday, Friday, and Sunday"),
    ],
    ids=["star-step-then-value", "value-then-start-step", "a-value-twice", "weekday-from-monday"],
)
def test_a_list_with_an_expanded_step_is_described_in_order(expression: str, english: str) -> None:
    """An ``N/S`` or uneven ``*/S`` in a comma list becomes its values; they were left where the
    element stood, so ``*/7,5`` read "At 0, 7, ..., 56, and 5 minutes". They are sorted (the
    weekday in cron's numbering, where a step runs on to Sunday as 7) and each said once."""
    assert describe_expression(expression) == english
