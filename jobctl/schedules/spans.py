"""Runs of consecutive slots counted without listing them: what a missed range records.

A daemon that was down for a week comes back to a per-second job with 604,800 slots behind
it; the scheduler records them as one range (first, last, count), and must not build a list of
them to do so, nor take long inside its claim transaction. An interval's slots are counted
arithmetically (constant time whatever the range); a cron schedule's are stepped through one
by one without being kept (about 5 µs a slot), and a one-shot has one slot
(docs/missed-slots.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from jobctl.schedules.interval import IntervalSchedule
from jobctl.schedules.protocol import Schedule


@dataclass(frozen=True, kw_only=True)
class SlotSpan:
    """Slots ``first`` .. ``last`` of a schedule, ``count`` of them; ``before_last`` is the one
    before ``last`` (None when ``count == 1``)."""

    first: datetime
    last: datetime
    count: int
    before_last: datetime | None


def span_through(schedule: Schedule, first: datetime, until: datetime) -> SlotSpan | None:
    """The slots from ``first`` (a slot of ``schedule``) through ``until`` inclusive; None if
    ``first`` is after ``until``."""
    if first > until:
        return None
    if isinstance(schedule, IntervalSchedule):
        return _interval_span(schedule, first, until)
    return _stepped_span(schedule, first, until)


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


def _stepped_span(schedule: Schedule, first: datetime, until: datetime) -> SlotSpan:
    count, previous, last = 1, None, first
    following = schedule.next_slot_after(first)
    while following is not None and following <= until:
        count += 1
        previous, last = last, following
        following = schedule.next_slot_after(following)
    return SlotSpan(first=first, last=last, count=count, before_last=previous)
