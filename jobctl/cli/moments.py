"""A time a history command takes (``--since``, ``--until`` of ``executions export`` and ``audit``),
read on the command line's side, alike in both modes.

A time without an offset is read in ``[scheduler] timezone`` (else the host's zone), the zone
``--at`` times are read in: ``audit`` read it as UTC (the service's reading of a zone-less
``?since=``) while ``executions export`` read it in that zone, so the same typed time named two
moments an hour or two apart (docs/time-input.md). The command sends the instant, with its
offset, to the service or the API, whose own reading of zone-less times then plays no part.
"""

from __future__ import annotations

from datetime import datetime


def history_time(option: str, text: str | None, zone: str, now: datetime) -> datetime | None:
    """``text`` as :mod:`jobctl.schedules.moments` reads it (ISO 8601, a date alone its midnight;
    without an offset in ``zone``; a duration before ``now``; now), None when not given.

    :raises UsageError: (exit 2) naming ``option``, in the words the service's refusal has.
    """
    if text is None:
        return None
    from jobctl.errors import UsageError
    from jobctl.schedules.moments import parse_moment
    from jobctl.schedules.zones import load_zone

    try:
        return parse_moment(text, now=now, zone=load_zone(zone))
    except ValueError as exc:  # out of range, or no time: the message says which, as jobs why's does
        raise UsageError(f"{option}: {exc}") from None
