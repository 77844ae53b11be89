"""Lint for crontab expressions: schedules that parse but do not do what they look like.

One implementation serves ``jobctl cron explain`` and ``jobctl import crontab``, so a warning
reads the same and carries the same ``code`` in both:

* ``step`` - a ``*/n`` whose step does not divide its field's range (``*/35`` in minutes runs
  at :00 and :35, not every 35 minutes): the count starts again each hour, day, month...; and
  a ``start/n`` (cron's ``start-MAX/n``) whose runs are not ``n`` apart across that restart
  (``5/35``: :05 and :40; day ``1/10``: days 1, 11, 21 and 31), and the same written as a
  range to the field's maximum (``0-59/35``, day ``1-31/10``);
* ``day_or_weekday`` - day of month and weekday both restricted: cron runs on days that
  match *either*, not both;
* ``day_star_step`` - the same, with one of them starting with ``*`` (``*/2``): Vixie cron and
  cronie then need *both* to match, jobctl (like croniter) either;
* ``dst_gap`` / ``dst_fold`` - within the next year the schedule names a wall time that does
  not exist in its zone (the clocks jump forward: it runs at the first valid instant after it)
  or exists twice (the clocks go back: it runs once, at the first).

Every wall time of one gap maps to the same instant, the gap's end, so the scheduler runs them
all as one run, together with a run the schedule names at the end itself (``0 2,3 * * *`` runs
once at 03:00 on a day that skips 02:00-03:00). A ``dst_gap`` message therefore names every
skipped time of that gap (or, past :data:`NAMED_MAX`, their count and the first and last) and
how many runs became one: a warning naming only the first would read as if the others still ran.
A ``dst_fold`` message names every repeated time alike, each of which runs once, at its first
occurrence (``*/15 * * * *`` on a day that repeats 02:00-03:00: 4 runs, not 8).

The DST check walks the zone's transitions of the coming year (found once per zone and day,
then cached) and asks, for each, whether the spec matches a wall time inside the skipped or
repeated span: a few hundred comparisons per expression, so a 1,000-line crontab lints in
milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from jobctl.schedules.cronfields import (
    CRONTAB_ORDER,
    SECONDS_FIRST_ORDER,
    CronSpec,
    FieldError,
    crontab_element_values,
    expand_macro,
)
from jobctl.schedules.zones import load_zone

LINT_DAYS = 366
"""How far ahead the DST check looks: a year, so every yearly transition is seen once."""
NAMED_MAX = 4
"""A DST message lists up to this many skipped or repeated times; more are given as count, first and last."""
_FIELD_NAMES = {"day_of_week": "weekday"}
_RANGE_SIZES = {"second": 60, "minute": 60, "hour": 24, "day": 31, "month": 12, "day_of_week": 7}
_RESTART_UNITS = {"second": "minute", "minute": "hour", "hour": "day", "day": "month", "month": "year"}
_DAY = timedelta(days=1)


@dataclass(frozen=True, kw_only=True)
class Finding:
    """A lint finding: a stable ``code`` for scripts and a ``message`` for people.

    ``on`` is the local date a DST finding is about (None for the others), so a caller that
    also lists instants can tell which findings those instants already show.
    """

    code: str
    message: str
    on: date | None = None


@dataclass(frozen=True)
class Transition:
    """One change of a zone's UTC offset: the instant, and the offsets before and after."""

    at: datetime
    before: timedelta
    after: timedelta


def normalized_fields(expression: str) -> dict[str, str]:
    """The six fields by name, seconds included (``"0"`` for a five-field expression)."""
    parts = expand_macro(expression).split()
    order = CRONTAB_ORDER if len(parts) == 5 else SECONDS_FIRST_ORDER
    named = dict(zip(order, parts, strict=True))
    return {name: named.get(name, "0") for name in SECONDS_FIRST_ORDER}


def lint_fields(fields: dict[str, str]) -> list[Finding]:
    """Warnings about fields that parse but likely do not mean what they seem to.

    ``fields`` are the six normalized fields by name (``second`` ... ``day_of_week``).
    """
    found: list[Finding] = []
    for name, text in fields.items():
        for part in text.split(","):
            warning = _uneven_step(name, part)
            if warning is not None:
                found.append(warning)
    if fields["day"] not in ("*", "?") and fields["day_of_week"] not in ("*", "?"):
        found.append(_both_days(fields["day"], fields["day_of_week"]))
    return found


def _both_days(day: str, weekday: str) -> Finding:
    """Both day fields restricted: jobctl, like cron, runs on days matching either. Vixie cron and
    cronie, though, count a field that *starts* with ``*`` (``*/2``) as unrestricted and then
    need both to match: jobctl does not follow that quirk, so it gets a warning of its own."""
    starred = [f"{label} {text!r}" for label, text in (("day of month", day), ("weekday", weekday)) if text[0] == "*"]
    if starred:
        return Finding(
            code="day_star_step",
            message=(
                f"{' and '.join(starred)} starts with '*': Vixie cron and cronie then run only on days matching "
                f"both day {day!r} and weekday {weekday!r}; jobctl runs on days matching either"
            ),
        )
    return Finding(
        code="day_or_weekday",
        message=(
            f"day of month {day!r} and weekday {weekday!r} are both restricted: "
            "cron runs on days that match either one, not only on days that match both"
        ),
    )


def _uneven_step(name: str, part: str) -> Finding | None:
    """A step that does not run every ``n`` units, as a warning: ``*/n`` whose ``n`` does not
    divide the field's range, or ``start/n`` or ``start-MAX/n`` (the same values) whose last run
    and the next unit's first are not ``n`` apart. The weekday field is left out (Sunday is both 0 and 7)."""
    head, slash, step_text = part.partition("/")
    if not slash or not step_text.isdigit() or name == "day_of_week":
        return None
    step, size = int(step_text), _RANGE_SIZES[name]
    high = _field_low(name) + size - 1
    if "-" in head and not _ends_at(name, head, high):
        return None  # a range that stops short of the field's end never runs into the restart
    if head in ("*", "?"):
        if step == 0 or size % step == 0:
            return None
        low = _field_low(name)
        return _step_finding(name, part, range(low, low + size, step), "does not divide its range: it runs")
    try:
        values = crontab_element_values(name, part.lower())
    except FieldError:
        return None  # the parser reports it
    if values[0] + size - values[-1] == step:
        return None  # the next unit's first run comes `step` after the last: every `step` units
    how = "runs" if "-" in head else f"(cron's {head}-{high}/{step}) runs"
    return _step_finding(name, part, values, how)


def _field_low(name: str) -> int:
    return 1 if name in ("day", "month") else 0


def _ends_at(name: str, head: str, high: int) -> bool:
    """Whether the range ``head`` (``0-59``, ``jan-dec``) ends at ``high``, the field's maximum:
    then ``A-MAX/n`` is ``A/n``, cron's very meaning of it, and restarts alike."""
    try:
        return crontab_element_values(name, head.lower())[-1] == high
    except (FieldError, IndexError):
        return False  # the parser reports it


def _step_finding(name: str, part: str, values: range, how: str) -> Finding:
    label = _FIELD_NAMES.get(name, name)
    shown = ", ".join(str(value) for value in values)
    return Finding(
        code="step",
        message=(
            f"{part!r} in the {label} field {how} at {label} {shown}, starting again each "
            f"{_RESTART_UNITS[name]}, so not every {values.step} {label}s"
        ),
    )


def dst_findings(spec: CronSpec, zone_name: str, *, after: datetime, days: int = LINT_DAYS) -> list[Finding]:
    """One warning per DST transition of ``zone_name`` in the ``days`` after ``after`` whose
    skipped or repeated wall times the spec matches (an unknown zone has none)."""
    found: list[Finding] = []
    for transition in zone_transitions(zone_name, after.astimezone(UTC).date(), days):
        first_wall = transition.at.replace(tzinfo=None) + min(transition.before, transition.after)
        last_wall = transition.at.replace(tzinfo=None) + max(transition.before, transition.after)
        if transition.after > transition.before:
            run = gap_run(spec, first_wall, last_wall)
            if run is not None:
                # a gap of a whole day (Pacific/Apia, 2011) ends on another date: say which
                lands = f"{last_wall:%H:%M}" if last_wall.date() == first_wall.date() else f"{last_wall:%Y-%m-%d %H:%M}"
                clocks = f"the clocks jump from {first_wall:%H:%M} to {lands}"
                found.append(gap_finding(run, zone_name, clocks=clocks, runs_at=lands))
            continue
        repeated = wall_times(spec, first_wall, last_wall)
        if repeated is not None:
            clocks = f"the clocks go back from {last_wall:%H:%M} to {first_wall:%H:%M}"
            found.append(fold_finding(repeated, zone_name, clocks=clocks))
    return found


@dataclass(frozen=True, kw_only=True)
class WallTimes:
    """The wall times a spec names within one DST gap or fold.

    ``named`` holds every one of them when there are at most :data:`NAMED_MAX`, else the first
    ones only; ``last`` is the last of them and ``count`` how many there are.
    """

    named: tuple[datetime, ...]
    last: datetime
    count: int


@dataclass(frozen=True, kw_only=True)
class GapRun(WallTimes):
    """The wall times of one DST gap that a spec names: all of them run as one run at ``end``.

    ``end_too`` says the spec also names ``end`` (the first valid wall time after the gap),
    whose run is that same run.
    """

    end: datetime
    end_too: bool


def wall_times(spec: CronSpec, start: datetime, end: datetime) -> WallTimes | None:
    """The wall times in ``[start, end)`` that ``spec`` names, or None if it names none."""
    named: list[datetime] = []
    last: datetime | None = None
    count = 0
    for last in matches_between(spec, start, end):
        count += 1
        if len(named) < NAMED_MAX:
            named.append(last)
    if last is None:
        return None
    return WallTimes(named=tuple(named), last=last, count=count)


def gap_run(spec: CronSpec, start: datetime, end: datetime) -> GapRun | None:
    """The wall times in the gap ``[start, end)`` that ``spec`` names, or None if it names none."""
    times = wall_times(spec, start, end)
    if times is None:
        return None
    return GapRun(named=times.named, last=times.last, count=times.count, end=end, end_too=_names(spec, end))


def gap_finding(run: GapRun, zone_name: str, *, clocks: str, runs_at: str, utc: str = "") -> Finding:
    """The ``dst_gap`` warning for ``run``: every skipped time (or their count, first and last),
    where they run, and how many runs became one.

    ``clocks`` says how the clocks move ("the clocks jump from 02:00 to 03:00"), ``runs_at``
    the instant they run at as the caller shows it ("03:00", "03:00:00 CEST"), ``utc`` that
    instant in UTC when the caller shows it.
    """
    first = run.named[0]
    after = f" ({utc})" if utc else ""
    if run.count == 1:
        subject = f"{first:%Y-%m-%d %H:%M:%S} does not exist"
        outcome = f"it runs at {runs_at}, the first valid instant after it{after}"
    else:
        subject = f"{_times(run)} do not exist"
        outcome = f"they run once together at {runs_at}, the first valid instant after them{after}"
    runs = run.count
    if run.end_too:
        outcome += f", together with the schedule's own {_clock(run.end, first)} run"
        runs += 1
    if runs > 1:
        outcome += f": one run, not {runs}"
    return Finding(code="dst_gap", on=first.date(), message=f"{subject} in {zone_name} ({clocks}): {outcome}")


def fold_finding(times: WallTimes, zone_name: str, *, clocks: str, first: str = "", again: str = "") -> Finding:
    """The ``dst_fold`` warning for ``times``: every repeated time (or their count, first and
    last), and that each runs once, at its first occurrence.

    ``clocks`` says how the clocks move ("the clocks go back from 03:00 to 02:00"); ``first``
    where the runs are when the caller shows it ("02:00:00 CEST, 2027-10-31T00:00:00Z"), and
    ``again`` where they are not ("02:00:00 CET").
    """
    where = f" ({first})" if first else ""
    not_again = f", not again {again}" if again else ""
    if times.count == 1:
        subject = f"{times.named[0]:%Y-%m-%d %H:%M:%S} happens twice"
        outcome = f"it runs once, at the first{where}{not_again}"
    else:
        subject = f"{_times(times)} happen twice"
        runs = f"{times.count} runs, not {2 * times.count}"
        outcome = f"each runs once, at its first occurrence{where}{not_again}: {runs}"
    return Finding(code="dst_fold", on=times.named[0].date(), message=f"{subject} in {zone_name} ({clocks}): {outcome}")


def _times(times: WallTimes) -> str:
    """``2027-03-28 02:15:00 and 02:45:00``, or ``2027-03-28 02:00:00 to 02:55:00 (12 times)``."""
    first = times.named[0]
    head = f"{first:%Y-%m-%d %H:%M:%S}"
    if times.count > NAMED_MAX:
        return f"{head} to {_clock(times.last, first)} ({times.count} times)"
    rest = [_clock(moment, first) for moment in times.named[1:]]
    return f"{', '.join([head, *rest[:-1]])} and {rest[-1]}"


def _clock(moment: datetime, first: datetime) -> str:
    """``moment``'s time of day, with its date too when that is not ``first``'s."""
    return f"{moment:%H:%M:%S}" if moment.date() == first.date() else f"{moment:%Y-%m-%d %H:%M:%S}"


def _names(spec: CronSpec, wall: datetime) -> bool:
    """Whether ``spec`` matches the naive wall time ``wall`` (to the second)."""
    return (
        spec.matches_date(wall.date())
        and wall.hour in spec.hours
        and wall.minute in spec.minutes
        and wall.second in spec.seconds
        and wall.microsecond == 0
    )


def first_match(spec: CronSpec, start: datetime, end: datetime) -> datetime | None:
    """The first naive wall time in ``[start, end)`` that ``spec`` matches, or None."""
    return next(matches_between(spec, start, end), None)


def matches_between(spec: CronSpec, start: datetime, end: datetime) -> Iterator[datetime]:
    """Every naive wall time in ``[start, end)`` that ``spec`` matches, in order.

    Spans are DST shifts (an hour or less, a day at the very most), so stepping by minute is
    cheap; whole days, hours and minutes the spec excludes are jumped over.
    """
    seconds = sorted(spec.seconds)
    t = start.replace(microsecond=0)
    if t < start:
        t += timedelta(seconds=1)
    while t < end:
        if not spec.matches_date(t.date()):
            t = datetime.combine(t.date() + _DAY, time())
        elif t.hour not in spec.hours:
            t = t.replace(minute=0, second=0) + timedelta(hours=1)
        elif t.minute not in spec.minutes:
            t = t.replace(second=0) + timedelta(minutes=1)
        else:
            for second in seconds:
                found = t.replace(second=second)
                if found >= end:
                    return
                if second >= t.second:
                    yield found
            t = t.replace(second=0) + timedelta(minutes=1)


@lru_cache(maxsize=64)
def zone_transitions(zone_name: str, first_day: date, days: int = LINT_DAYS) -> tuple[Transition, ...]:
    """The offset changes of ``zone_name`` from ``first_day`` (UTC midnight) over ``days`` days.

    Found by comparing offsets a day apart and bisecting each change to the second; zoneinfo
    has no public list of transitions. An unknown zone has none (its error is reported
    where the zone is read).
    """
    try:
        zone = load_zone(zone_name)
    except ValueError:
        return ()
    start = datetime.combine(first_day, time(), tzinfo=UTC)
    found: list[Transition] = []
    previous = _offset(start, zone)
    for index in range(1, days + 1):
        moment = start + index * _DAY
        current = _offset(moment, zone)
        if current != previous:
            found.append(transition_between(moment - _DAY, moment, zone))
        previous = current
    return tuple(found)


def transition_between(low: datetime, high: datetime, zone: tzinfo) -> Transition:
    """The instant within ``(low, high]`` where ``zone``'s offset changes (once), to the second."""
    before = _offset(low, zone)
    low_ts, high_ts = int(low.timestamp()), int(high.timestamp())
    while high_ts - low_ts > 1:
        middle = (low_ts + high_ts) // 2
        if _offset(datetime.fromtimestamp(middle, UTC), zone) == before:
            low_ts = middle
        else:
            high_ts = middle
    at = datetime.fromtimestamp(high_ts, UTC)
    return Transition(at=at, before=before, after=_offset(at, zone))


def _offset(moment: datetime, zone: tzinfo) -> timedelta:
    offset = moment.astimezone(zone).utcoffset()
    return offset if offset is not None else timedelta()
