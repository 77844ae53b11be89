"""Interval schedules: a fixed period counted from an anchor, in absolute (UTC) time.

Slots are ``start + k * period`` for k = 0, 1, 2, ... and are computed directly rather than by
adding the period to the last run, so late runs or daemon restarts never make them drift. The
period is a fixed number of seconds: ``days: 1`` is 86 400 s, also across DST changes (a
wall-clock daily job is a cron job).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jobctl.models import JobType
from jobctl.schedules.checks import Problems, as_mapping, check_keys, take_count, take_instant
from jobctl.schedules.durations import MAX_SECONDS, SECONDS_PER_UNIT
from jobctl.schedules.zones import as_utc

UNIT_KEYS = tuple(SECONDS_PER_UNIT)
KEYS = frozenset({*UNIT_KEYS, "start_date", "end_date", "jitter"})
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, kw_only=True)
class IntervalSchedule:
    """Slots every ``period`` from ``start`` up to ``end`` (inclusive) if there is one."""

    start: datetime
    period: timedelta
    end: datetime | None = None
    jitter_seconds: int = 0

    @property
    def job_type(self) -> JobType:
        return JobType.INTERVAL

    @property
    def timezone(self) -> str | None:
        return None

    def first_slot_at_or_after(self, t: datetime) -> datetime | None:
        return self.next_slot_after(as_utc(t) - _TICK)

    def next_slot_after(self, t: datetime) -> datetime | None:
        elapsed = as_utc(t) - self.start
        steps = 0 if elapsed < timedelta(0) else elapsed // self.period + 1
        try:
            slot = self.start + steps * self.period
        except OverflowError:  # past year 9999: no slot left to give
            return None
        if self.end is not None and slot > self.end:
            return None
        return slot


def parse_interval(config: object, *, anchor: datetime) -> IntervalSchedule:
    """Validate an interval config and build its schedule; naive dates are UTC.

    :raises ValidationFailed: naming every bad field, also for a zero period, an end before
        the start, or an end that leaves no slot at or after ``anchor``.
    """
    problems = Problems()
    values = as_mapping(config, problems)
    check_keys(values, KEYS, problems)
    seconds = sum(take_count(values, key, problems) * SECONDS_PER_UNIT[key] for key in UNIT_KEYS)
    jitter = take_count(values, "jitter", problems)
    start = take_instant(values, "start_date", UTC, problems)
    end = take_instant(values, "end_date", UTC, problems)
    _check_period(values, seconds, problems)
    problems.raise_if_any()
    schedule = IntervalSchedule(
        start=start or as_utc(anchor), period=timedelta(seconds=seconds), end=end, jitter_seconds=jitter
    )
    _check_end(schedule, start is not None, as_utc(anchor), problems)
    problems.raise_if_any()
    return schedule


def _check_period(values: Mapping[str, Any], seconds: int, problems: Problems) -> None:
    """A zero period would fire forever at one instant; name the first unit given, if any."""
    if any(problems.has(key) for key in UNIT_KEYS):
        return
    given = [key for key in UNIT_KEYS if values.get(key) is not None]
    if seconds == 0:
        where = given[0] if given else None
        problems.add(where, f"the interval must be longer than zero: set one of {', '.join(UNIT_KEYS)}")
    elif seconds > MAX_SECONDS:
        problems.add(given[0], "the interval is longer than a hundred years")


def _check_end(schedule: IntervalSchedule, start_given: bool, anchor: datetime, problems: Problems) -> None:
    """An end that allows no slot is as bad as a zero period: the job could never run."""
    if schedule.end is None:
        return
    if start_given and schedule.end < schedule.start:
        problems.add("end_date", "must not be before start_date")
    elif schedule.first_slot_at_or_after(anchor) is None:
        problems.add("end_date", "leaves no run: it is before the first slot after the job was created")
