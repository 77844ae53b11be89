"""The DST lint of :mod:`jobctl.schedules.cronlint`, shared by ``cron explain`` and ``import crontab``.

A DST gap turns every wall time of the skipped span into the same instant, the jump, so the
scheduler runs them as one run (and a run the schedule names at the jump's wall time too). The
``dst_gap`` warning has to say so: each test checks the message against what the real
scheduler does on that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from jobctl.models import JobType
from jobctl.schedules.cronfields import crontab_spec
from jobctl.schedules.cronlint import Finding, dst_findings
from jobctl.schedules.crontab_file import parse_crontab
from tests.schedules.helpers import build, slots, utc

BEFORE_2027 = datetime(2027, 1, 1, tzinfo=UTC)


def spring_gap(expression: str, zone: str = "Europe/Berlin", after: datetime = BEFORE_2027) -> Finding:
    [gap] = [found for found in dst_findings(crontab_spec(expression), zone, after=after) if found.code == "dst_gap"]
    return gap


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "30 2 * * *",
            "2027-03-28 02:30:00 does not exist in Europe/Berlin (the clocks jump from 02:00 to 03:00): "
            "it runs at 03:00, the first valid instant after it",
        ),
        (
            "15,45 2 * * *",
            "2027-03-28 02:15:00 and 02:45:00 do not exist in Europe/Berlin (the clocks jump from 02:00 to 03:00): "
            "they run once together at 03:00, the first valid instant after them: one run, not 2",
        ),
        (
            "0 2,3 * * *",
            "2027-03-28 02:00:00 does not exist in Europe/Berlin (the clocks jump from 02:00 to 03:00): "
            "it runs at 03:00, the first valid instant after it, together with the schedule's own 03:00:00 run: "
            "one run, not 2",
        ),
        (
            "*/20 2 * * *",
            "2027-03-28 02:00:00, 02:20:00 and 02:40:00 do not exist in Europe/Berlin (the clocks jump from 02:00 "
            "to 03:00): they run once together at 03:00, the first valid instant after them: one run, not 3",
        ),
        (
            "*/5 2 * * *",
            "2027-03-28 02:00:00 to 02:55:00 (12 times) do not exist in Europe/Berlin (the clocks jump from 02:00 "
            "to 03:00): they run once together at 03:00, the first valid instant after them: one run, not 12",
        ),
        (
            "*/10 2-3 * * *",
            "2027-03-28 02:00:00 to 02:50:00 (6 times) do not exist in Europe/Berlin (the clocks jump from 02:00 "
            "to 03:00): they run once together at 03:00, the first valid instant after them, together with the "
            "schedule's own 03:00:00 run: one run, not 7",
        ),
    ],
    ids=["one-time", "two-times", "with-the-jump-time", "three-times", "many", "many-with-the-jump-time"],
)
def test_a_gap_warning_names_every_skipped_time_and_that_they_run_once(expression: str, message: str) -> None:
    gap = spring_gap(expression)
    assert (gap.code, gap.on, gap.message) == ("dst_gap", date(2027, 3, 28), message)


@pytest.mark.parametrize("expression", ["30 2 * * *", "15,45 2 * * *", "0 2,3 * * *", "*/5 2 * * *", "*/10 2-3 * * *"])
def test_the_times_a_gap_warning_joins_are_one_run_of_the_scheduler(expression: str) -> None:
    """What the message claims, checked on the scheduler: one slot at the jump (01:00Z), none
    other until 03:00 CEST has passed, whatever the gap and the jump's own wall time named."""
    schedule = build(JobType.CRON, {"expression": expression, "timezone": "Europe/Berlin"})
    day = [slot for slot in slots(schedule, utc(2027, 3, 27, 23), 40) if slot < utc(2027, 3, 28, 1, 1)]
    assert day == [utc(2027, 3, 28, 1, 0)]
    spec = crontab_spec(expression)
    joined = len(spec.minutes) * (2 in spec.hours) + (0 in spec.minutes and 3 in spec.hours)  # 02:00 to 03:00
    message = spring_gap(expression).message
    assert message.endswith(f": one run, not {joined}") if joined > 1 else "one run" not in message


def test_import_crontab_gives_the_same_gap_warning() -> None:
    crontab = parse_crontab("15,45 2 * * * run\n", system=False, default_timezone="Europe/Berlin", now=BEFORE_2027)
    [gap] = [issue for issue in crontab.issues if issue.code == "dst_gap"]
    assert gap.message == spring_gap("15,45 2 * * *").message
    assert gap.message.startswith("2027-03-28 02:15:00 and 02:45:00 do not exist in Europe/Berlin")


def test_a_gap_across_midnight_and_one_of_a_whole_day_name_the_dates() -> None:
    # Santiago jumps from 00:00 to 01:00; Apia skipped all of 2011-12-30
    santiago = spring_gap("*/20 23,0 * * *", "America/Santiago", after=datetime(2027, 6, 1, tzinfo=UTC))
    assert santiago.message.startswith("2027-09-05 00:00:00, 00:20:00 and 00:40:00 do not exist in America/Santiago")
    december_2011 = datetime(2011, 12, 1, tzinfo=UTC)
    apia = dst_findings(crontab_spec("0 12 * * *"), "Pacific/Apia", after=december_2011)
    assert apia[0].message == (
        "2011-12-30 12:00:00 does not exist in Pacific/Apia (the clocks jump from 00:00 to 2011-12-31 00:00): "
        "it runs at 2011-12-31 00:00, the first valid instant after it"
    )
    hourly = dst_findings(crontab_spec("0 * * * *"), "Pacific/Apia", after=december_2011)[0]
    assert hourly.message.startswith("2011-12-30 00:00:00 to 23:00:00 (24 times) do not exist in Pacific/Apia")
    assert hourly.message.endswith("together with the schedule's own 2011-12-31 00:00:00 run: one run, not 25")


@pytest.mark.parametrize("expression", ["17 * * * *", "0 * * * *", "@hourly", "*/15 * * * *", "5,20 * * * *"])
def test_hourly_and_more_frequent_lines_get_both_dst_warnings_of_the_year(expression: str) -> None:
    """cron runs such lines in real time across DST, jobctl by its one rule: the lint must say so."""
    found = dst_findings(crontab_spec(expression), "Europe/Berlin", after=BEFORE_2027)
    assert [(finding.code, finding.on) for finding in found] == [
        ("dst_gap", date(2027, 3, 28)),
        ("dst_fold", date(2027, 10, 31)),
    ]
    crontab = parse_crontab(f"{expression} run\n", system=False, default_timezone="Europe/Berlin", now=BEFORE_2027)
    assert [(issue.code, issue.message) for issue in crontab.issues] == [(f.code, f.message) for f in found]


def test_an_hourly_line_runs_as_its_dst_warnings_say() -> None:
    gap, fold = dst_findings(crontab_spec("17 * * * *"), "Europe/Berlin", after=BEFORE_2027)
    assert gap.message == (
        "2027-03-28 02:17:00 does not exist in Europe/Berlin (the clocks jump from 02:00 to 03:00): "
        "it runs at 03:00, the first valid instant after it"
    )
    assert fold.message == (
        "2027-10-31 02:17:00 happens twice in Europe/Berlin (the clocks go back from 03:00 to 02:00): "
        "it runs once, at the first"
    )
    schedule = build(JobType.CRON, {"expression": "17 * * * *", "timezone": "Europe/Berlin"})
    # spring: 01:17 CET, the skipped 02:17 at 03:00 CEST, 03:17 CEST; autumn: 02:17 CEST only, then 03:17 CET
    assert slots(schedule, utc(2027, 3, 28, 0), 3) == [
        utc(2027, 3, 28, 0, 17),
        utc(2027, 3, 28, 1),
        utc(2027, 3, 28, 1, 17),
    ]
    assert slots(schedule, utc(2027, 10, 31, 0), 2) == [utc(2027, 10, 31, 0, 17), utc(2027, 10, 31, 2, 17)]
    on_the_hour = dst_findings(crontab_spec("@hourly"), "Europe/Berlin", after=BEFORE_2027)[0]
    assert on_the_hour.message.endswith("together with the schedule's own 03:00:00 run: one run, not 2")


def autumn_fold(expression: str) -> Finding:
    [fold] = [
        f for f in dst_findings(crontab_spec(expression), "Europe/Berlin", after=BEFORE_2027) if f.code == "dst_fold"
    ]
    return fold


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "30 2 * * *",
            "2027-10-31 02:30:00 happens twice in Europe/Berlin (the clocks go back from 03:00 to 02:00): "
            "it runs once, at the first",
        ),
        (
            "15,45 2 * * *",
            "2027-10-31 02:15:00 and 02:45:00 happen twice in Europe/Berlin (the clocks go back from 03:00 to 02:00): "
            "each runs once, at its first occurrence: 2 runs, not 4",
        ),
        (
            "*/15 * * * *",
            "2027-10-31 02:00:00, 02:15:00, 02:30:00 and 02:45:00 happen twice in Europe/Berlin (the clocks go back "
            "from 03:00 to 02:00): each runs once, at its first occurrence: 4 runs, not 8",
        ),
        (
            "*/5 2-3 * * *",
            "2027-10-31 02:00:00 to 02:55:00 (12 times) happen twice in Europe/Berlin (the clocks go back from 03:00 "
            "to 02:00): each runs once, at its first occurrence: 12 runs, not 24",
        ),
    ],
    ids=["one-time", "two-times", "every-quarter-hour", "many"],
)
def test_a_fold_warning_names_every_repeated_time_and_that_each_runs_once(expression: str, message: str) -> None:
    fold = autumn_fold(expression)
    assert (fold.code, fold.on, fold.message) == ("dst_fold", date(2027, 10, 31), message)


@pytest.mark.parametrize("expression", ["30 2 * * *", "15,45 2 * * *", "*/15 * * * *", "*/5 2-3 * * *"])
def test_the_times_a_fold_warning_names_each_run_once_on_the_scheduler(expression: str) -> None:
    """What the message claims, checked on the scheduler: 02:00-03:00 happens twice (00:00Z to
    01:00Z in CEST, then 01:00Z to 02:00Z in CET); each time the spec names in it runs in the
    first hour only, so the day has as many runs there as the message counts, not twice as many."""
    schedule = build(JobType.CRON, {"expression": expression, "timezone": "Europe/Berlin"})
    fold = [slot for slot in slots(schedule, utc(2027, 10, 31, 0), 30) if slot < utc(2027, 10, 31, 2)]
    assert fold and all(slot < utc(2027, 10, 31, 1) for slot in fold)
    message = autumn_fold(expression).message
    if len(fold) == 1:
        assert message.endswith("it runs once, at the first")
    else:
        assert message.endswith(f"each runs once, at its first occurrence: {len(fold)} runs, not {2 * len(fold)}")


def test_import_crontab_gives_the_same_fold_warning() -> None:
    crontab = parse_crontab("*/15 * * * * run\n", system=False, default_timezone="Europe/Berlin", now=BEFORE_2027)
    [fold] = [issue for issue in crontab.issues if issue.code == "dst_fold"]
    assert fold.message == autumn_fold("*/15 * * * *").message
    assert fold.message.startswith("2027-10-31 02:00:00, 02:15:00, 02:30:00 and 02:45:00 happen twice")
