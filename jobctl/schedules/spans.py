"""Runs of consecutive slots counted without listing them: what a missed range records.

A daemon that was down for a week comes back to a per-second job with 604,800 slots behind
it; the scheduler records them as one range (first, last, count), and must not build a list of
them to do so, nor take long inside its claim transaction. An interval's slots are counted
arithmetically (constant time whatever the range); a cron schedule's are stepped through one
by one without being kept (about 5 µs a slot) up to :data:`STEP_BUDGET` of them, and counted a
day at a time beyond that; a one-shot has one slot (docs/missed-slots.md).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from jobctl.schedules.cron import CronSchedule
from jobctl.schedules.interval import IntervalSchedule
from jobctl.schedules.protocol import Schedule
from jobctl.schedules.zones import as_utc, wall_to_utc

STEP_BUDGET = 2_000
"""Cron slots stepped through one by one (about 10 ms) before the rest of a range is counted a
day at a time: a per-second job down for a year costs 365 days of arithmetic, not 31 million steps."""

_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)
_TINY = timedelta(microseconds=1)


@dataclass(frozen=True, kw_only=True)
class SlotSpan:
    """Slots ``first`` .. ``last`` of a schedule, ``count`` of them; ``before_last`` is the one
    before ``last`` (None when ``count == 1``)."""

    first: datetime
    last: datetime
    count: int
    before_last: datetime | None


def span_through(
    schedule: Schedule, first: datetime, until: datetime, *, step_budget: int = STEP_BUDGET
) -> SlotSpan | None:
    """The slots from ``first`` (a slot of ``schedule``) through ``until`` inclusive; None if
    ``first`` is after ``until``. A cron schedule's slots beyond the first ``step_budget`` are
    counted by day (:func:`_cron_days`)."""
    if first > until:
        return None
    if isinstance(schedule, IntervalSchedule):
        return _interval_span(schedule, first, until)
    return _stepped_span(schedule, first, until, step_budget)


def last_slot_at_or_before(schedule: Schedule, moment: datetime, *, not_before: datetime) -> datetime | None:
    """The latest slot ``<= moment`` and ``>= not_before``, or None.

    Searched backwards in windows that grow tenfold from a minute, so a per-second job costs a
    minute of slots and a yearly one a few windows, not a walk from ``not_before``.
    """
    window = timedelta(minutes=1)
    while True:
        start = max(not_before, moment - window)
        first = schedule.first_slot_at_or_after(start)
        if first is not None and first <= moment:
            span = span_through(schedule, first, moment)
            return None if span is None else span.last
        if start <= not_before:
            return None
        window *= 10


def _interval_span(schedule: IntervalSchedule, first: datetime, until: datetime) -> SlotSpan:
    end = until if schedule.end is None else min(until, schedule.end)
    count = (end - first) // schedule.period + 1 if end >= first else 1
    last = first + (count - 1) * schedule.period
    return SlotSpan(first=first, last=last, count=count, before_last=last - schedule.period if count > 1 else None)


def _stepped_span(schedule: Schedule, first: datetime, until: datetime, step_budget: int) -> SlotSpan:
    count, previous, last = 1, None, first
    following = schedule.next_slot_after(first)
    while following is not None and following <= until:
        if count >= step_budget and isinstance(schedule, CronSchedule):
            end = until if schedule.end is None else min(until, schedule.end)
            more, before, final = _cron_days(schedule, last, end)
            if more:
                previous, last = before, final
            return SlotSpan(first=first, last=last, count=count + more, before_last=previous)
        count += 1
        previous, last = last, following
        following = schedule.next_slot_after(following)
    return SlotSpan(first=first, last=last, count=count, before_last=previous)


def _cron_days(schedule: CronSchedule, after: datetime, until: datetime) -> tuple[int, datetime | None, datetime]:
    """How many slots of ``schedule`` lie after its slot ``after`` and at or before ``until``,
    and the last two slots of ``after`` and those (``after`` itself when there are none),
    counted a day at a time.

    A cron spec matches the same times of day on every day its date fields allow, so on a
    local day of 24 hours (no clock change) the slots are that day's midnight plus each listed
    time of day: counted by bisection in the sorted seconds of the day. On a day the clocks
    change, each hour whose wall-clock start and end are an hour apart is counted the same way
    from its own start; the hour that is not (the gap, the repeated hour) and the one after it
    are stepped through with the schedule itself, which owns what a gap or a repeated hour does
    to the slots. Callers pass a ``until`` within the schedule's end date; ``after`` is past its
    start date.
    """
    search = schedule.search
    counter = _Counter(_seconds_of_day(search.hours, search.minutes, search.seconds), after, until)
    zone = schedule.zone
    day = as_utc(after).astimezone(zone).date()
    last_day = as_utc(until).astimezone(zone).date()
    while day <= last_day:
        if search.spec.matches_date(day):
            start, next_start = _midnight(day, zone), _midnight(day + _DAY, zone)
            if next_start - start == _DAY:
                counter.linear(start, 0, 86_400)
            else:
                _count_changing_day(schedule, counter, day)
        day += _DAY
    return counter.count, counter.previous, counter.last


def _count_changing_day(schedule: CronSchedule, counter: _Counter, day: date) -> None:
    """Slots of a day the clocks change on, an hour at a time (see :func:`_cron_days`)."""
    midnight = datetime.combine(day, time())
    bounds = [wall_to_utc(midnight + timedelta(hours=hour), schedule.zone) for hour in range(25)]
    stepped_before = False
    for hour in range(24):
        begin, end = bounds[hour], bounds[hour + 1]
        if end - begin == _HOUR and not stepped_before:
            counter.linear(begin - hour * _HOUR, hour * 3600, (hour + 1) * 3600)
            continue
        stepped_before = end - begin != _HOUR
        slot = schedule.next_slot_after(max(counter.after, begin - _TINY))
        while slot is not None and slot < end and slot <= counter.until:
            counter.step(slot)
            slot = schedule.next_slot_after(slot)


class _Counter:
    """The running count of :func:`_cron_days` and its last two slots."""

    def __init__(self, seconds_of_day: list[int], after: datetime, until: datetime) -> None:
        self.seconds_of_day = seconds_of_day
        self.after = after
        self.until = until
        self.count = 0
        self.previous: datetime | None = None
        self.last = after

    def linear(self, base: datetime, lowest: int, below: int) -> None:
        """Count the slots ``base`` + each listed second of the day in ``[lowest, below)``."""
        times = self.seconds_of_day
        low = max(bisect_right(times, (self.after - base).total_seconds()), bisect_left(times, lowest))
        high = min(bisect_right(times, (self.until - base).total_seconds()), bisect_left(times, below))
        if high - low == 1:
            self.previous, self.last = self.last, base + timedelta(seconds=times[low])
        elif high - low > 1:
            self.previous = base + timedelta(seconds=times[high - 2])
            self.last = base + timedelta(seconds=times[high - 1])
        self.count += max(0, high - low)

    def step(self, slot: datetime) -> None:
        self.count += 1
        self.previous, self.last = self.last, slot


def _midnight(day: date, zone: tzinfo) -> datetime:
    return wall_to_utc(datetime.combine(day, time()), zone)


@lru_cache(maxsize=64)
def _seconds_of_day(hours: tuple[int, ...], minutes: tuple[int, ...], seconds: tuple[int, ...]) -> list[int]:
    """Every time of day the fields list, as seconds after midnight, ascending (86,400 at most)."""
    return [hour * 3600 + minute * 60 + second for hour in hours for minute in minutes for second in seconds]
