"""Time windows of history queries (``--since``/``--until``, ``?since=&until=``), parsed once.

Both CLI modes pass the user's text through unchanged and the service parses it here, so the
store and the API accept exactly the same forms and refuse them with the same 422: those of
:mod:`jobctl.schedules.moments` (an ISO 8601 time, without an offset in the zone the query is
about: a job's timeline in the job's zone, which its texts show, the audit log in UTC; a
duration before now such as ``24h`` or ``7d``; ``now``), which ``executions export`` reads too.

One rule for the order of a window's ends, wherever both are known (:func:`check_order`):
``until`` must be later than ``since``. A reversed window (``--since 1h --until 2h``) and an
empty one (``--since now --until now``) hold nothing, so either is a mistyped command, refused
alike by ``jobs why``, ``executions export`` and the API's listings (docs/history-windows.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from jobctl.errors import ValidationFailed

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
        no time, at ``until`` when the window does not end after it starts (:func:`check_order`), at
        ``since`` when it spans more than 366 days.
    """
    end = now if until is None else parse_instant(until, loc=["query", "until"], now=now, zone=zone)
    start = end - default_span if since is None else parse_instant(since, loc=["query", "since"], now=now, zone=zone)
    check_order(start, end)
    if end - start > MAX_SPAN:
        raise ValidationFailed.field(["query", "since"], "the window may span at most 366 days")
    return Window(since=start, until=end)


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
