"""Time windows of history queries (``--since``/``--until``, ``?since=&until=``), parsed once.

Both CLI modes pass the user's text through unchanged and the service parses it here, so the
store and the API accept exactly the same forms and refuse them with the same 422: those of
:mod:`jobctl.schedules.moments` (an ISO 8601 time, without an offset in the zone the query is
about: a job's timeline in the job's zone, which its texts show, the audit log in UTC; a
duration before now such as ``24h`` or ``7d``; ``now``), which ``executions export`` reads too.

A time outside the instants a query may name is refused in one sentence, naming the range
(:class:`jobctl.schedules.moments.Bounds`): for the listings and the audit log the times a store
holds; for a job's timeline :data:`TIMELINE_FIRST` to :data:`TIMELINE_LAST`, two days inside
them, since a timeline reads a minute before ``since``, defaults ``since`` to a day before
``until`` and shows its times in the job's zone, up to a day off UTC: each would pass the first or
the last instant a datetime holds, which was a 500 (docs/history-windows.md).

One rule for the order of a window's ends, wherever both are known (:func:`check_order`):
``until`` must be later than ``since``. A reversed window (``--since 1h --until 2h``) and an
empty one (``--since now --until now``) hold nothing, so either is a mistyped command, refused
alike by ``jobs why``, ``executions export`` and the API's listings (docs/history-windows.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from jobctl.errors import ValidationFailed

DEFAULT_SPAN = timedelta(hours=24)
MAX_SPAN = timedelta(days=366)
TIMELINE_MARGIN = timedelta(days=2)
TIMELINE_FIRST = datetime.min.replace(tzinfo=UTC) + TIMELINE_MARGIN
TIMELINE_LAST = datetime.max.replace(tzinfo=UTC) - TIMELINE_MARGIN
TIMELINE_TIMES = "the times a job's timeline shows"


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
    """A job timeline's window as the texts name it: ``until`` defaults to now, ``since`` to
    ``default_span`` (at most a day) before it; a time without an offset is read in ``zone``.

    :raises ValidationFailed: at ``["query", "since"]`` / ``["query", "until"]`` for text that is
        no time or one outside :data:`TIMELINE_FIRST` to :data:`TIMELINE_LAST`, at ``until`` when
        the window does not end after it starts (:func:`check_order`), at ``since`` when it spans
        more than 366 days.
    """
    errors: list[dict[str, Any]] = []  # both ends' mistakes at once, as a body's fields are told
    start = _timeline_end(since, "since", errors, now=now, zone=zone)
    end = _timeline_end(until, "until", errors, now=now, zone=zone)
    if errors:
        raise ValidationFailed(errors)
    end = now if end is None else end
    start = end - default_span if start is None else start
    check_order(start, end)
    if end - start > MAX_SPAN:
        raise ValidationFailed.field(["query", "since"], "the window may span at most 366 days")
    return Window(since=start, until=end)


def _timeline_end(
    text: str | None, name: str, errors: list[dict[str, Any]], *, now: datetime, zone: tzinfo
) -> datetime | None:
    """One end of a timeline's window, None when not given; a mistake is added to ``errors``
    (at ``["query", name]``) and gives None."""
    from jobctl.schedules.moments import Bounds

    if text is None:
        return None
    try:
        instant = parse_instant(text, loc=["query", name], now=now, zone=zone)
    except ValidationFailed as exc:
        errors += exc.errors
        return None
    bounds = Bounds(TIMELINE_TIMES, TIMELINE_FIRST, TIMELINE_LAST)
    if not bounds.holds(instant):
        errors.append({"loc": ["query", name], "msg": bounds.refusal(text), "type": "value_error"})
        return None
    return instant


UNTIL_NOT_LATER = "must be later than since"
"""What :func:`check_order` says at ``["query", "until"]``; the CLI reads it in its options' terms
(``--until must be later than --since``: jobctl/cli/option_terms.py)."""


def check_order(since: datetime | None, until: datetime | None) -> None:
    """The one rule for a window's ends: ``until`` later than ``since`` (either may be open).

    :raises ValidationFailed: at ``["query", "until"]`` for a reversed or an empty window.
    """
    if since is not None and until is not None and until <= since:
        raise ValidationFailed.field(["query", "until"], UNTIL_NOT_LATER)


def parse_instant(text: str, *, loc: list[str | int], now: datetime, zone: tzinfo = UTC) -> datetime:
    """An instant in one of the module's forms (without an offset: in ``zone``).

    :raises ValidationFailed: at ``loc``.
    """
    # here, not at the top: the listings import this module for check_order, and jobctl.schedules loads croniter
    from jobctl.schedules.moments import parse_moment

    try:
        return parse_moment(text, now=now, zone=zone)
    except ValueError as exc:  # out of range, or no time: parse_moment's message says which, naming the forms
        raise ValidationFailed.field(loc, str(exc)) from None
