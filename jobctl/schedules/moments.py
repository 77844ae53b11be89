"""The times a history query starts or ends at, as people write them (``--since``, ``--until``,
``?since=&until=``), parsed in one place for every command and the API:

- an ISO 8601 date or date-time (``2026-12-04``, ``2026-12-04T02:00:00Z``, ``2026-12-04
  02:00+01:00``; a date alone is its midnight; without an offset it is read in the zone the
  caller gives);
- a duration before now (``24h``, ``7d``, ``1h30m``: the units of ``--every``);
- ``now``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from jobctl.errors import ValidationFailed
from jobctl.schedules.durations import SECONDS_PER_UNIT, parse_every
from jobctl.schedules.zones import parse_iso

FORMS = "an ISO 8601 time (2026-12-04, 2026-12-04T02:00:00Z), a duration ago (24h, 7d) or now"
"""The forms :func:`parse_moment` takes, for messages that refuse a time."""


def parse_moment(text: str, *, now: datetime, zone: tzinfo = UTC) -> datetime:
    """The aware UTC instant ``text`` names, in one of the module's forms; a date-time without
    an offset is read in ``zone`` (skipped and repeated wall times as :func:`parse_iso` reads them).

    :raises ValueError: for text in none of the forms, or out of range.
    """
    value = text.strip()
    if value.lower() == "now":
        return now
    try:
        return parse_iso(value.replace("z", "Z"), zone)
    except ValueError:
        pass
    try:
        units = parse_every(value)
    except ValidationFailed:
        raise ValueError(f"{text!r} is not a time: give {FORMS}") from None
    return now - timedelta(seconds=sum(SECONDS_PER_UNIT[unit] * count for unit, count in units.items()))
