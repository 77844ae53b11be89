"""The ISO 8601 times people type, read by one grammar for every command, field and query.

Python's ``datetime.fromisoformat`` is no validator: it takes any one character between the
date and the time, so ``2026-12-07+01:00`` is 01:00 and ``2026-12-07x09:00`` 09:00. A time is
read here, against this grammar, and only then converted:

- a date alone: ``2026-12-04`` (its midnight);
- a date, ``T`` or a space, a time of day with minutes and optionally seconds and a fraction,
  and optionally an offset: ``2026-12-04T02:00``, ``2026-12-04 02:00:30.5``,
  ``2026-12-04T02:00:00Z``, ``2026-12-04T02:00+05:30`` (also ``+0530`` and ``+05``);
- the other ISO 8601 spellings ``fromisoformat`` reads *correctly* (basic ``20261204T0200Z``,
  week dates ``2026-W49-1``, an hour alone ``2026-12-04T02``, an offset with seconds): nobody is
  asked to type them, but a job stored with one before this grammar must stay readable, and
  each names the moment it says. Only what names another moment than it says is refused.

``T`` and ``Z`` may be lower case (RFC 3339 allows it); a fraction may use a comma (ISO 8601
does) and is read to the microsecond. A time of day alone (``--at 09:00``) is the extended time
part only, with its optional offset. Anything else is refused with ValueError.
"""

from __future__ import annotations

import re
from datetime import datetime, time

_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_CLOCK = r"[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?"
_OFFSET = r"(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)"

DATE_TIME = re.compile(rf"{_DATE}(?:[Tt ]{_CLOCK}{_OFFSET}?)?")
"""A date alone, or a date and a time of day (with an optional offset)."""

_FRACTION = r"(?:[.,][0-9]+)?"
_OTHER_DATE = r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8}|[0-9]{4}-W[0-9]{2}(?:-[1-7])?|[0-9]{4}W[0-9]{2}[1-7]?)"
_OTHER_CLOCK = rf"(?:[0-9]{{2}}(?::[0-9]{{2}}(?::[0-9]{{2}}{_FRACTION})?)?|[0-9]{{4}}(?:[0-9]{{2}}{_FRACTION})?)"
_OTHER_OFFSET = r"(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2}(?::?[0-9]{2}(?:\.[0-9]+)?)?)?)"
OTHER_DATE_TIME = re.compile(rf"{_OTHER_DATE}(?:[Tt ]{_OTHER_CLOCK}{_OTHER_OFFSET}?)?")
"""The ISO 8601 spellings outside :data:`DATE_TIME` that ``fromisoformat`` reads as they say."""
_LONG_FRACTION = re.compile(r"([.,][0-9]{6})[0-9]+")

TIME_OF_DAY = re.compile(rf"{_CLOCK}{_OFFSET}?")
"""A time of day, with an optional offset."""

ISO_FORMS = "an ISO 8601 date or date-time (2026-12-04, 2026-12-04T02:00:00Z)"
""":data:`DATE_TIME` as messages name it."""
DURATION_FORMS = "a duration ago (24h, 7d)"
NOW_FORM = "now"
TIME_OF_DAY_FORM = "a time of day (09:00)"


def not_a_time(text: str, *more_forms: str) -> str:
    """The one message that refuses a time, in every command, field and query: what was given and
    the forms the place takes (ISO 8601 always, then ``more_forms``, such as
    :data:`DURATION_FORMS`), so that every ``--since`` reads the same."""
    forms = [ISO_FORMS, *more_forms]
    listed = forms[0] if len(forms) == 1 else f"{', '.join(forms[:-1])} or {forms[-1]}"
    return f"{text!r} is not a time: give {listed}"


def parse_date_time(text: str) -> datetime:
    """``text`` (surrounding blanks ignored) as a datetime: aware when it has an offset, else naive.

    :raises ValueError: when it is not in the grammar, or names no real time (``2026-02-30``).
    """
    value = text.strip()
    if DATE_TIME.fullmatch(value) is None and OTHER_DATE_TIME.fullmatch(value) is None:
        raise ValueError(f"{text!r} is not an ISO 8601 date or date-time")
    return datetime.fromisoformat(_for_python(value))


def parse_time_of_day(text: str) -> time:
    """``text`` (surrounding blanks ignored) as a time of day, aware when it has an offset.

    :raises ValueError: when it is not in the grammar, or names no real time (``25:00``).
    """
    value = text.strip()
    if TIME_OF_DAY.fullmatch(value) is None:
        raise ValueError(f"{text!r} is not an ISO 8601 time of day")
    return time.fromisoformat(_for_python(value))


def _for_python(value: str) -> str:
    """Text the grammar matched, as ``fromisoformat`` reads it alike on every Python: upper-case
    ``Z``, fractions of at most six digits (read to the microsecond, as a datetime holds it)."""
    value = _LONG_FRACTION.sub(r"\1", value)
    return value[:-1] + "Z" if value.endswith("z") else value
