"""The times a history query starts or ends at, as people write them (``--since``, ``--until``,
``?since=&until=``), parsed in one place for every command and the API:

- an ISO 8601 date or date-time (``2026-12-04``, ``2026-12-04T02:00:00Z``, ``2026-12-04
  02:00+01:00``; a date alone is its midnight; without an offset it is read in the zone the
  caller gives);
- a duration before now (``24h``, ``7d``, ``1h30m``: the units of ``--every``, of any length:
  ``--every``'s bound of a hundred years is not one on how far back a time may be; a duration
  that reaches before the first instant a time can hold is that instant, as ``0001-01-01`` is);
- ``now``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from jobctl.errors import ValidationFailed
from jobctl.schedules.durations import parse_units, total_seconds
from jobctl.schedules.zones import parse_iso

FORMS = "an ISO 8601 time (2026-12-04, 2026-12-04T02:00:00Z), a duration ago (24h, 7d) or now"
"""The forms :func:`parse_moment` takes, for messages that refuse a time."""


def parse_moment(text: str, *, now: datetime, zone: tzinfo = UTC) -> datetime:
    """The aware UTC instant ``text`` names, in one of the module's forms; a date-time without
    an offset is read in ``zone`` (skipped and repeated wall times as :func:`parse_iso` reads them).

    :raises TimeOutOfRange: for an ISO 8601 time whose own offset carries it past the first or
        the last instant (its message says so, ready to show).
    :raises ValueError: for text in none of the forms.
    """
    value = text.strip()
    if value.lower() == "now":
        return now
    try:
        instant = _iso_instant(value.replace("z", "Z"), zone)
    except TimeOutOfRange:
        raise TimeOutOfRange(
            f"{text!r} lies outside the times a store holds (0001-01-01 to 9999-12-31 UTC): give a time between them"
        ) from None
    except ValueError:
        raise ValueError(f"{text!r} is not a time: give {FORMS}") from None
    if instant is not None:
        return instant
    try:
        seconds = total_seconds(parse_units(value))
    except ValidationFailed:
        raise ValueError(f"{text!r} is not a time: give {FORMS}") from None
    if seconds >= (now - FIRST_INSTANT).total_seconds():
        return FIRST_INSTANT  # as --since 0001-01-01 does: no stored time lies before it
    return now - timedelta(seconds=seconds)


FIRST_INSTANT = datetime.min.replace(tzinfo=UTC)
LAST_INSTANT = datetime.max.replace(tzinfo=UTC)


class TimeOutOfRange(ValueError):
    """A well-formed time whose own offset carries it past the first or the last instant: told
    apart from text that is not a time, so the message says which mistake it was."""


def _iso_instant(value: str, zone: tzinfo) -> datetime | None:
    """``value`` as ISO 8601 in ``zone``, or None when it is not ISO 8601.

    A time written without an offset that ``zone`` carries past the first or the last instant a
    datetime holds (``--since 0001-01-01`` read in a zone east of UTC, ``--until
    9999-12-31T23:59`` west of it) is that first or last instant: no stored time lies beyond it,
    so a window bounded there holds the same runs, where the reading in the zone, not the time
    written, would fail as out of range. A time whose own offset does that is out of range (the
    API answers 422 for it), as before.

    :raises TimeOutOfRange: for such a time with an offset.
    """
    try:
        written = datetime.fromisoformat(value)
    except ValueError:
        return None
    try:
        return parse_iso(value, zone)
    except ValueError:
        if written.tzinfo is not None:
            raise TimeOutOfRange(value) from None
        return FIRST_INSTANT if written.year == FIRST_INSTANT.year else LAST_INSTANT
