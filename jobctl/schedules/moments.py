"""The times a history query starts or ends at, as people write them (``--since``, ``--until``,
``?since=&until=``), parsed in one place for every command and the API:

- an ISO 8601 date or date-time in the forms of :mod:`jobctl.schedules.iso_times`
  (``2026-12-04``, ``2026-12-04T02:00:00Z``, ``2026-12-04 02:00+01:00``; a date alone is its
  midnight; without an offset it is read in the zone the caller gives);
- a duration before now (``24h``, ``7d``, ``1h30m``: the units of ``--every``, of any length:
  ``--every``'s bound of a hundred years is not one on how far back a time may be; a duration
  that reaches before the first instant a time can hold is that instant, as ``0001-01-01`` is);
- ``now``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from jobctl.errors import ValidationFailed
from jobctl.schedules.durations import parse_units, total_seconds
from jobctl.schedules.iso_times import DURATION_FORMS, NOW_FORM, not_a_time, parse_date_time
from jobctl.schedules.zones import parse_iso


def parse_moment(text: str, *, now: datetime, zone: tzinfo = UTC) -> datetime:
    """The aware UTC instant ``text`` names, in one of the module's forms; a date-time without
    an offset is read in ``zone`` (skipped and repeated wall times as :func:`parse_iso` reads them).

    :raises TimeOutOfRange: for an ISO 8601 time whose own offset carries it past the first or
        the last instant (its message says so, ready to show).
    :raises ValueError: for text in none of the forms, its message :func:`refusal`'s.
    """
    value = text.strip()
    if value.lower() == "now":
        return now
    try:
        instant = _iso_instant(value.replace("z", "Z"), zone)
    except TimeOutOfRange:
        raise TimeOutOfRange(STORED_TIMES.refusal(text)) from None
    except ValueError:
        raise ValueError(refusal(text)) from None
    if instant is not None:
        return instant
    try:
        seconds = total_seconds(parse_units(value))
    except ValidationFailed:
        raise ValueError(refusal(text)) from None
    if seconds >= (now - FIRST_INSTANT).total_seconds():
        return FIRST_INSTANT  # as --since 0001-01-01 does: no stored time lies before it
    return now - timedelta(seconds=seconds)


def refusal(text: str) -> str:
    """What refuses ``text`` as a time of a history query, naming every form it may take."""
    return not_a_time(text, DURATION_FORMS, NOW_FORM)


FIRST_INSTANT = datetime.min.replace(tzinfo=UTC)
LAST_INSTANT = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Bounds:
    """The instants a query may name, and the one sentence that refuses a time outside them:
    every history query says it alike (the execution listings, the audit log, a timeline),
    naming what it was given and the range in UTC."""

    what: str
    first: datetime
    last: datetime

    def holds(self, instant: datetime) -> bool:
        return self.first <= instant <= self.last

    def refusal(self, text: str) -> str:
        first, last = self.first.date().isoformat(), self.last.date().isoformat()
        return f"{text!r} lies outside {self.what} ({first} to {last} UTC): give a time between them"


STORED_TIMES = Bounds("the times a store holds", FIRST_INSTANT, LAST_INSTANT)
"""Every instant a datetime holds in UTC: what the store keeps, and what a listing may be bounded by."""


def in_utc(value: datetime, text: str) -> datetime:
    """``value`` as aware UTC (without an offset: taken as UTC), ``text`` being how it was written.

    :raises TimeOutOfRange: when its own offset carries it past the first or the last instant
        (``0001-01-01T00:00:00+01:00``), with :data:`STORED_TIMES`' refusal.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise TimeOutOfRange(STORED_TIMES.refusal(text)) from None


_LOOKS_LIKE_A_DATE = re.compile(r"[0-9]{4}-")
"""Where ISO 8601 and durations part: no duration starts with four digits and a dash."""


class TimeOutOfRange(ValueError):
    """A well-formed time whose own offset carries it past the first or the last instant: told
    apart from text that is not a time, so the message says which mistake it was."""


def _iso_instant(value: str, zone: tzinfo) -> datetime | None:
    """``value`` as ISO 8601 in ``zone``, or None when it does not look like a date at all (a
    duration, then); text that starts as a date but breaks the grammar is refused.

    A time written without an offset that ``zone`` carries past the first or the last instant a
    datetime holds (``--since 0001-01-01`` read in a zone east of UTC, ``--until
    9999-12-31T23:59`` west of it) is that first or last instant: no stored time lies beyond it,
    so a window bounded there holds the same runs, where the reading in the zone, not the time
    written, would fail as out of range. A time whose own offset does that is out of range (the
    API answers 422 for it), as before.

    :raises TimeOutOfRange: for such a time with an offset.
    :raises ValueError: for text that starts with a date but is not in the grammar.
    """
    if not _LOOKS_LIKE_A_DATE.match(value):
        return None
    written = parse_date_time(value)
    try:
        return parse_iso(value, zone)
    except ValueError:
        if written.tzinfo is not None:
            raise TimeOutOfRange(value) from None
        return FIRST_INSTANT if written.year == FIRST_INSTANT.year else LAST_INSTANT
