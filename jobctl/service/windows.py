"""Time windows of history queries (``--since``/``--until``, ``?since=&until=``), parsed once.

Both CLI modes pass the user's text through unchanged and the service parses it here, so the
store and the API accept exactly the same forms and refuse them with the same 422: those of
:mod:`jobctl.schedules.moments` (an ISO 8601 time, without an offset in the zone the query is
about: a job's timeline in the job's zone, which its texts show, the audit log in UTC; a
duration before now such as ``24h`` or ``7d``; ``now``), which ``executions export`` reads too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from jobctl.errors import ValidationFailed
from jobctl.schedules.moments import TimeOutOfRange, parse_moment

DEFAULT_SPAN = timedelta(hours=24)
MAX_SPAN = timedelta(days=366)


@dataclass(frozen=True, kw_only=True)
class Window:
    """From ``since`` through ``until`` (aware UTC)."""

    since: datetime
    until: datetime


def parse_window(
    since: str | None,
    until: str | None,
    *,
    now: datetime,
    default_span: timedelta = DEFAULT_SPAN,
    zone: tzinfo = UTC,
) -> Window:
    """The window the texts name: ``until`` defaults to now, ``since`` to ``default_span`` before
    it; a time without an offset is read in ``zone``.

    :raises ValidationFailed: at ``["query", "since"]`` / ``["query", "until"]`` for text that is
        no time, at ``until`` when the window ends before it starts, at ``since`` when it spans
        more than 366 days.
    """
    end = now if until is None else parse_instant(until, loc=["query", "until"], now=now, zone=zone)
    start = end - default_span if since is None else parse_instant(since, loc=["query", "since"], now=now, zone=zone)
    if end < start:
        raise ValidationFailed.field(["query", "until"], "must not be before since (the window is reversed)")
    if end - start > MAX_SPAN:
        raise ValidationFailed.field(["query", "since"], "the window may span at most 366 days")
    return Window(since=start, until=end)


def parse_instant(text: str, *, loc: list[str | int], now: datetime, zone: tzinfo = UTC) -> datetime:
    """An instant in one of the module's forms (without an offset: in ``zone``).

    :raises ValidationFailed: at ``loc``.
    """
    try:
        return parse_moment(text, now=now, zone=zone)
    except TimeOutOfRange as exc:
        raise ValidationFailed.field(loc, str(exc)) from None
    except ValueError:
        raise ValidationFailed.field(
            loc,
            f"{text!r} is not a time: give an ISO 8601 instant (2026-12-04T02:00:00Z), a duration ago (24h, 7d) or now",
        ) from None
