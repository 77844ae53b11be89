"""Searching local wall-clock time for the next match of a cron spec.

Three strategies, tried in this order, all on naive wall times (:mod:`jobctl.schedules.zones`
owns DST, so croniter's own handling never runs):

1. **The coming week**: if the spec allows today and a later time of day, or one of the next
   seven days at all, the answer follows from the sorted hour/minute/second lists. This
   answers most calls (every job running at least weekly) several times faster than croniter.
2. **croniter** for longer jumps (monthly, yearly, leap-day schedules). croniter knows years
   only up to 2099, so a ``year`` field is applied as a filter that jumps to January 1st of
   the next listed year.
3. **A day scan** for what croniter cannot say: an ISO ``week`` field, and an APScheduler
   ``day`` that mixes numbered days with ``"2nd fri"``-style entries (a union, while
   croniter ANDs its weekday field). It walks days, jumping over months, years and weeks
   the spec excludes. (A ``day`` of only ``"2nd fri"``-style entries uses croniter's ``5#2``
   and ``L5`` syntax instead.)

Every strategy gives up (returns None) after :data:`HORIZON_YEARS` without a match, which is
long enough for the rarest real schedules (29 February on a Monday recurs up to 40 years
apart) and bounds the work spent on a spec that can never match.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from jobctl.schedules.cronfields import LAST, CronSpec

HORIZON_YEARS = 50
_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)
_LAST_DATE = date.max
_SCAN_DAYS = 7


class CronEngine:
    """One parsed croniter expression, shared by every schedule that uses the same one.

    croniter objects keep a cursor, so calls are serialised by a lock; parsing is the
    expensive part and happens once per distinct expression.
    """

    def __init__(self, expression: str, *, day_or: bool) -> None:
        from croniter import croniter  # type: ignore[import-untyped, unused-ignore]

        self.expression = expression
        # Every search passes a naive wall time as start_time, which keeps croniter in naive
        # mode; the 0.0 here only fills the constructor's slot without a datetime.
        self._cron: Any = croniter(expression, 0.0, day_or=day_or, max_years_between_matches=HORIZON_YEARS)
        self._lock = threading.Lock()

    def next_after(self, wall: datetime) -> datetime | None:
        """The first matching whole-second wall time strictly after naive ``wall``."""
        with self._lock:
            try:
                found: datetime = self._cron.get_next(datetime, start_time=wall)
            except (ValueError, OverflowError):  # croniter's "no date found" is a ValueError
                return None
        return found


@lru_cache(maxsize=4096)
def engine_for(expression: str, *, day_or: bool) -> CronEngine:
    """The shared engine for ``expression`` (schedules keep theirs, so eviction is harmless)."""
    return CronEngine(expression, day_or=day_or)


class WallSearch:
    """The three strategies of the module docstring for one spec.

    ``expression`` is croniter's form of the spec, or None when the spec needs the day scan.
    The croniter object is built on first use and kept (most schedules never need it).
    """

    __slots__ = ("_engine", "expression", "hours", "minutes", "months", "seconds", "spec")

    def __init__(self, spec: CronSpec, expression: str | None) -> None:
        self.spec = spec
        self.expression = expression
        self.hours = tuple(sorted(spec.hours))
        self.minutes = tuple(sorted(spec.minutes))
        self.seconds = tuple(sorted(spec.seconds))
        self.months = tuple(sorted(spec.months))
        self._engine: CronEngine | None = None

    def next_after(self, wall: datetime) -> datetime | None:
        """The first matching naive wall time strictly after ``wall``, or None if none is near."""
        found = self._within_a_week(wall)
        if found is not None:
            return found
        return self.scan(wall) if self.expression is None else self.cron_search(wall)

    def _within_a_week(self, wall: datetime) -> datetime | None:
        today = wall.date()
        if self.spec.matches_date(today):
            later = self._time_after(wall.hour, wall.minute, wall.second)
            if later is not None:
                return datetime.combine(today, later)
        day = today
        for _ in range(_SCAN_DAYS):
            if day >= _LAST_DATE:
                return None
            day += _DAY
            if self.spec.matches_date(day):
                return self._first_time(day)
        return None

    def _first_time(self, day: date) -> datetime:
        return datetime.combine(day, time(self.hours[0], self.minutes[0], self.seconds[0]))

    def _time_after(self, hour: int, minute: int, second: int) -> time | None:
        """The first listed time of day after ``hour:minute:second`` (fractions count as later)."""
        if hour in self.spec.hours:
            if minute in self.spec.minutes:
                index = bisect_right(self.seconds, second)
                if index < len(self.seconds):
                    return time(hour, minute, self.seconds[index])
            index = bisect_right(self.minutes, minute)
            if index < len(self.minutes):
                return time(hour, self.minutes[index], self.seconds[0])
        index = bisect_right(self.hours, hour)
        if index < len(self.hours):
            return time(self.hours[index], self.minutes[0], self.seconds[0])
        return None

    def cron_search(self, wall: datetime) -> datetime | None:
        """Strategy 2: croniter, with the year filter. Needs :attr:`expression`."""
        if self._engine is None:  # two threads may both build one; either is fine
            self._engine = engine_for(str(self.expression), day_or=self.spec.day_or)
        years = self.spec.years
        limit = wall.year + HORIZON_YEARS
        cursor = wall
        while True:
            found = self._engine.next_after(cursor)
            if found is None or found.year > limit:
                return None
            if years is None or found.year in years:
                return found
            later = [year for year in years if year > found.year]
            if not later:
                return None
            limit = min(later) + HORIZON_YEARS
            cursor = datetime(min(later), 1, 1) - _SECOND  # noqa: DTZ001 - a wall time, deliberately naive

    def scan(self, wall: datetime) -> datetime | None:
        """Strategy 3: walk the days after ``wall``'s, skipping excluded months, years and weeks."""
        today = wall.date()
        if self.spec.matches_date(today):
            later = self._time_after(wall.hour, wall.minute, wall.second)
            if later is not None:
                return datetime.combine(today, later)
        limit = [min(wall.year + HORIZON_YEARS, _LAST_DATE.year)]
        day: date | None = today
        while day is not None and day < _LAST_DATE:
            day = self._next_possible_day(day + _DAY, limit)
            if day is not None and self.spec.matches_date(day):
                return self._first_time(day)
        return None

    def _next_possible_day(self, day: date, limit: list[int]) -> date | None:
        """The first day from ``day`` in an allowed month, year and week (None past the limit).

        ``limit`` holds the last year to look at; a jump to a later listed year moves it.
        """
        spec = self.spec
        while day.year <= limit[0]:
            if day.month not in spec.months:
                day = _next_month_start(day, self.months)
            elif spec.years is not None and day.year not in spec.years:
                later = [year for year in spec.years if year > day.year]
                if not later:
                    return None
                day = date(min(later), 1, 1)
                limit[0] = min(day.year + HORIZON_YEARS, _LAST_DATE.year)
            elif spec.weeks is not None and (iso := day.isocalendar()).week not in spec.weeks:
                start = _next_week_start(iso.year, iso.week, sorted(spec.weeks))
                if start is None:
                    return None
                day = start
            else:
                return day
        return None


def _next_month_start(day: date, months: tuple[int, ...]) -> date:
    """The 1st of the first listed month after ``day``'s month (in a later year if need be)."""
    index = bisect_right(months, day.month)
    if index < len(months):
        return date(day.year, months[index], 1)
    if day.year >= _LAST_DATE.year:
        return _LAST_DATE
    return date(day.year + 1, months[0], 1)


def _next_week_start(iso_year: int, week: int, weeks: list[int]) -> date | None:
    """The Monday of the first listed ISO week after ``week`` of ``iso_year``."""
    for year in range(iso_year, min(iso_year + 8, _LAST_DATE.year)):
        weeks_in_year = date(year, 12, 28).isocalendar()[1]
        for candidate in weeks:
            if (year > iso_year or candidate > week) and candidate <= weeks_in_year:
                return date.fromisocalendar(year, candidate, 1)
    return None


@lru_cache(maxsize=4096)
def build_search(spec: CronSpec) -> WallSearch | None:
    """The search for ``spec``, or None when its day constraints can never agree.

    Cached: schedules with equal specs share one search (and so one croniter object).
    """
    day, weekday, needs_scan = _day_fields(spec)
    if weekday is None:
        return None
    if needs_scan or spec.weeks is not None:
        return WallSearch(spec, None)
    expression = " ".join(
        (
            _numbers(spec.minutes, 0, 59),
            _numbers(spec.hours, 0, 23),
            day,
            _numbers(spec.months, 1, 12),
            weekday,
            _numbers(spec.seconds, 0, 59),
        )
    )
    return WallSearch(spec, expression)


def _day_fields(spec: CronSpec) -> tuple[str, str | None, bool]:
    """croniter's day-of-month and weekday fields for ``spec``, or that it needs the day scan.

    The weekday text is None when the spec can never match a day.
    """
    all_weekdays = len(spec.weekdays) == 7
    if spec.day_or:
        # A restricted crontab field stays an explicit list even when it names every day, so
        # that croniter keeps cron's OR of the two day fields.
        day = "*" if spec.day_star else _day_numbers(spec, explicit=True)
        plain = frozenset() if spec.nth_weekdays else spec.weekdays
        weekday = "*" if spec.weekday_star else _weekday_text(plain, spec.nth_weekdays)
        return day, weekday, False
    if not spec.nth_weekdays:
        weekday = "*" if all_weekdays else _weekday_text(spec.weekdays, frozenset())
        return _day_numbers(spec), weekday, False
    if spec.days or spec.last_day:
        return "*", ("*" if all_weekdays else _weekday_text(spec.weekdays, frozenset())), True
    # Only "2nd fri"-style days: croniter's weekday field can say them, ANDed with day_of_week.
    allowed = frozenset(entry for entry in spec.nth_weekdays if entry[1] in spec.weekdays)
    return "*", (_weekday_text(frozenset(), allowed) if allowed else None), False


def _day_numbers(spec: CronSpec, *, explicit: bool = False) -> str:
    if len(spec.days) == 31 and not explicit:
        return "*"
    parts = [str(day) for day in sorted(spec.days)]
    return ",".join([*parts, "L"] if spec.last_day else parts)


def _weekday_text(weekdays: Iterable[int], nth: Iterable[tuple[int, int]]) -> str:
    """croniter's weekday field (Sunday = 0) for Monday-first ``weekdays`` or nth entries."""
    parts = [str((weekday + 1) % 7) for weekday in sorted(weekdays)]
    for ordinal, weekday in sorted(nth):
        number = (weekday + 1) % 7
        parts.append(f"L{number}" if ordinal == LAST else f"{number}#{ordinal}")
    return ",".join(parts)


def _numbers(values: frozenset[int], low: int, high: int) -> str:
    if len(values) == high - low + 1:
        return "*"
    return ",".join(str(value) for value in sorted(values))
