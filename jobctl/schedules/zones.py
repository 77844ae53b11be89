"""The one place where local wall-clock time meets UTC.

Schedules are evaluated on the wall clock of a job's zone (that is what a person means by
"02:30 every day") but everything outside this package works with aware UTC instants.
Daylight-saving changes make the mapping irregular, so the rules live here and nowhere else:

* a wall time that does not exist (the hour skipped in spring) maps to the instant the clock
  jumps, i.e. the first valid instant after it;
* a wall time that exists twice (the hour repeated in autumn) maps to its first occurrence.

Under these rules the mapping from wall time to UTC never decreases, which is what lets the
cron search walk wall time and still hand out strictly increasing UTC slots.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jobctl.schedules.iso_times import parse_date_time

ONE_MICROSECOND = timedelta(microseconds=1)


class UnknownZone(ValueError):
    """The name is not an IANA time zone that this host's tz database knows."""


def load_zone(name: str) -> ZoneInfo:
    """The zone called ``name``.

    :raises UnknownZone: for names zoneinfo cannot load (unknown, empty, path-like).
    """
    if not name or name != name.strip():
        raise UnknownZone(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise UnknownZone(name) from exc


def as_utc(t: datetime) -> datetime:
    """``t`` expressed in UTC; a naive ``t`` is a programming error, not a guess.

    :raises ValueError: if ``t`` is naive.
    """
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"naive datetime {t.isoformat()} given where an aware UTC one is required")
    return t.astimezone(UTC)


def wall_to_utc(wall: datetime, zone: tzinfo) -> datetime:
    """The UTC instant at which the naive ``wall`` time happens in ``zone``.

    Skipped wall times map to the end of the gap, repeated ones to their first occurrence.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # In a gap, fold=1 reads the wall time with the offset after the jump, fold=0 with the
    # one before it, so the jump itself lies between the two readings.
    earlier = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _offset_change(zone, earlier, first, first.astimezone(zone).utcoffset())


def search_floor(t: datetime, zone: tzinfo) -> datetime:
    """The naive wall time after which the wall times that map past ``t`` begin.

    Usually that is simply ``t`` on the local clock. When ``t`` falls in the second pass of a
    repeated hour, every wall time of that hour already happened (its first occurrence is
    the one that counts), so the search has to resume where the repetition ends.
    """
    local = as_utc(t).astimezone(zone)
    wall = local.replace(tzinfo=None)
    if not local.fold:
        return wall
    before = wall.replace(tzinfo=zone, fold=0).utcoffset()
    after = local.utcoffset()
    if before is None or after is None or before <= after:
        return wall
    change = _offset_change(zone, as_utc(t) - (before - after), as_utc(t), after)
    return (change + before).replace(tzinfo=None) - ONE_MICROSECOND


def _offset_change(zone: tzinfo, low: datetime, high: datetime, new_offset: timedelta | None) -> datetime:
    """The first whole second in ``(low, high]`` from which ``zone`` uses ``new_offset``.

    tz database transitions fall on whole seconds, so a bisection over seconds finds the
    exact instant in a handful of steps; this only runs near a transition.
    """
    lo = int(low.timestamp()) - 1
    hi = int(high.timestamp()) + 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == new_offset:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def parse_iso(text: str, zone: tzinfo) -> datetime:
    """An ISO 8601 date or date-time as aware UTC; without an offset it is read in ``zone``.

    A trailing ``Z`` means UTC. A date alone means its midnight. The forms are those of
    :mod:`jobctl.schedules.iso_times`, not whatever ``datetime.fromisoformat`` takes.

    :raises ValueError: if ``text`` is not in those forms or lies outside what datetime can hold.
    """
    value = parse_date_time(text)
    try:
        if value.tzinfo is None:
            return wall_to_utc(value, zone)
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{text!r} is out of range") from exc


def format_utc(t: datetime) -> str:
    """``t`` as an ISO 8601 UTC string ending in ``Z`` (microseconds only when present)."""
    text = as_utc(t).replace(tzinfo=None).isoformat()
    return f"{text}Z"
