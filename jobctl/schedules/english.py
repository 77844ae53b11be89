"""Crontab expressions in plain English, from the cron-descriptor package (its one home).

cron-descriptor reads six fields seconds first, as jobctl does, and knows ``L``, ``5#2`` and
month and weekday names. It is told the locale (English) and the 24-hour clock instead of
guessing them from the environment, so the text is the same on every host. It is imported
only when a description is asked for, which keeps ``jobctl --help`` and ``jobs list`` fast.

When both day fields are restricted, jobctl runs on days that match either (cron's OR, also
for a field starting with ``*``, see :mod:`jobctl.schedules.cronlint`), and the sentence is
put together here from cron-descriptor's parts: its own sentence rewrites ``*/1`` to ``*`` and
then drops that field ("At 00:00, only on Monday" for ``0 0 */1 * 1``, which runs every day),
and joins a weekday range or step without an "or" ("on day 1 of the month, Monday through
Friday"), both of which read as the days that match *both*.

A start with a step and no range (``N/S``) means ``N-MAX/S`` in every field, as in cron, and
cron-descriptor misreads it in several ways, so such an element is rewritten, with jobctl's
own reading (:func:`jobctl.schedules.cronfields.crontab_element_values`), before it is
described. In the weekday field cron-descriptor turns ``1/2`` into ``*/2`` (Sunday, Tuesday...
where jobctl runs Monday, Wednesday, Friday, Sunday) and ends ``N/S`` at Saturday, not at
Sunday (7), then reads that range as weeks ("every 2 weeks, only on Friday" for ``5/2``,
which runs every Friday and Sunday): a weekday ``N/S`` becomes its days ("only on Friday and
Sunday"). In the other fields it says "every S minutes, starting at N" also when the runs do
not come every S minutes: ``50/15`` runs only at :50, ``5/35`` at :05 and :40, ``20/15`` skips
from :50 to :20, and day ``25/10`` is only the 25th. Such an element becomes its single value,
its values when they are few (``5,40``: "At 5 and 40 minutes past the hour"), else a range
with a step that ends at its last run ("every 10 days, between day 1 and 31 of the month").
Only an element whose runs really are every S units, across the hour, day or year
(``5/15`` in minutes, ``3/6`` in hours, ``2/3`` in months), keeps cron-descriptor's reading.
In a comma list (``1,20/6``, which cron-descriptor reads as "on day 1 and every 6 days, of
the month") an ``N/S`` element becomes its values, and the list is then put in order of first
values, each once (``*/7,5`` minutes: "At 0, 5, 7, ..."; not "0, 7, ..., 56, and 5").

A ``*/S`` whose step does not divide its field's range is the same misreading: ``*/2`` in the
day field runs on days 1, 3, ..., 31 and again on the 1st, restarting each month, but
cron-descriptor says "every 2 days" (and the step warning of :mod:`jobctl.schedules.cronlint`
"so not every 2 days"). It is rewritten as ``1/S`` would be: ``*/10`` days to "on day 1, 11,
21, and 31 of the month", ``*/2`` days to "every 2 days, between day 1 and 31 of the month",
``*/7`` minutes to "every 7 minutes, minutes 0 through 56 past the hour". In the weekday field
every ``*/S`` becomes its days ("every 2 days of the week" was Sunday, Tuesday, Thursday and
Saturday). A ``*/S`` that divides its range (``*/15`` minutes, ``*/6`` hours) keeps its
"every".
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from jobctl.schedules.cronfields import SECONDS_FIRST_ORDER, FieldError, crontab_element_values

if TYPE_CHECKING:
    from cron_descriptor import ExpressionDescriptor, Options

_ANY = ("*", "?")
_DAY_FIELD = 3
_WEEKDAY_FIELD = 5
_START_STEP = re.compile(r"[a-z0-9]+/[0-9]+", re.ASCII)
"""``N/S``: a start (number or name) and a step, no range and no ``*``."""
_STAR_STEP = re.compile(r"\*/([0-9]+)", re.ASCII)
"""``*/S``: a step from the field's first value."""
_CYCLES = {"second": (0, 60), "minute": (0, 60), "hour": (0, 24), "day": (1, 31), "month": (1, 12)}
"""Each field's first value and how many values one cycle of it has (the weekday is listed)."""
_LISTED_MAX = 6
"""An ``N/S`` element of at most this many values is described as its values, not as a range."""
_WEEK = 7


def describe_expression(expression: str) -> str:
    """``"At 09:00, Monday through Friday"`` for ``"0 0 9 * * 1-5"`` (six fields, seconds first).

    An expression jobctl accepts but cron-descriptor cannot phrase gets ``""``: the English
    is a help for reading, never a reason to refuse an expression.
    """
    from cron_descriptor import ExpressionDescriptor, Options

    options = Options(locale_code="en_US", use_24hour_time_format=True)
    try:
        # upper case: jobctl keeps fields lower-cased, and cron-descriptor reads only "L" and "W" as last and weekday
        descriptor = ExpressionDescriptor(as_runs(expression).upper(), options)
        if both_days_restricted(expression):
            return _either_day(descriptor, options)
        return str(descriptor.get_description())
    except Exception:  # noqa: BLE001 - the library's own error tree is not documented
        return ""


def both_days_restricted(expression: str) -> bool:
    """Whether neither day field of six-field ``expression`` is ``*`` or ``?`` (jobctl then ORs them)."""
    fields = expression.split()
    return len(fields) == 6 and fields[_DAY_FIELD] not in _ANY and fields[_WEEKDAY_FIELD] not in _ANY


def _either_day(descriptor: ExpressionDescriptor, options: Options) -> str:
    """The sentence for both day fields restricted: "At 00:00, on every day of the month, or on
    Monday", each day field phrased by cron-descriptor and joined by an explicit "or"."""
    # cron-descriptor turns "*/1" into "*", then says nothing of the field or only "every day"
    day = descriptor.get_day_of_month_description().removeprefix(", ")
    if day in ("", "every day"):
        day = "on every day of the month"
    weekday = descriptor.get_day_of_week_description().removeprefix(", ")
    for lead in ("or on ", "only on "):
        weekday = weekday.removeprefix(lead)
    if weekday in ("", "every day"):
        weekday = "every day of the week"
    if not weekday.startswith(("on ", "every ")):
        weekday = f"on {weekday}"
    if weekday.startswith("every day"):
        weekday = f"on {weekday}"
    time = descriptor.transform_verbosity(descriptor.get_time_of_day_description())
    rest = descriptor.transform_verbosity(descriptor.get_month_description() + descriptor.get_year_description())
    sentence = f"{time}, {day}, or {weekday}{rest}"
    return str(descriptor.transform_case(sentence, options.casing_type))


def as_runs(expression: str) -> str:
    """Six-field ``expression`` with every ``N/S`` element that cron-descriptor misreads written
    as what jobctl runs: ``"0 0 0 * * 5/2"`` becomes ``"0 0 0 * * 5,0"`` (Friday and Sunday)."""
    fields = expression.lower().split()
    if len(fields) != len(SECONDS_FIRST_ORDER):
        return expression
    return " ".join(_field_as_runs(name, text) for name, text in zip(SECONDS_FIRST_ORDER, fields, strict=True))


def _field_as_runs(name: str, text: str) -> str:
    elements = text.split(",")
    if not any(_misread(name, element) for element in elements):
        return text
    if len(elements) == 1 and name != "day_of_week":
        return _start_step(name, text)
    written: list[tuple[int, str]] = []  # (first value in cron's numbering, text), to sort by
    for element in elements:
        if not _misread(name, element):
            written.append((_first_value(name, element), element))
            continue
        values = crontab_element_values(name, element)
        written.extend((value, str(value % _WEEK if name == "day_of_week" else value)) for value in values)
    texts = [text for _, text in written]
    if name == "day_of_week" and len(elements) == 1 and len(set(texts)) == _WEEK:
        return "*"
    if all(first >= 0 for first, _ in written):
        texts = [text for _, text in sorted(written, key=lambda pair: pair[0])]
    return ",".join(dict.fromkeys(texts))


def _first_value(name: str, element: str) -> int:
    """The first value of a list's element, by which the list is put in order: its values were
    left where the element stood, so ``*/7,5`` in minutes read "At 0, 7, ..., 56, and 5 minutes".
    -1 for an element with no plain first value (``L``, ``5#2``): that list keeps its order."""
    try:
        return crontab_element_values(name, element)[0]
    except (FieldError, IndexError):
        return -1


def _misread(name: str, element: str) -> bool:
    """Whether cron-descriptor misreads ``element`` of field ``name``: an ``N/S``, or a ``*/S``
    whose runs restart unevenly (its step does not divide the field's range; any in the weekday)."""
    if _START_STEP.fullmatch(element):
        return True
    star = _STAR_STEP.fullmatch(element)
    if star is None or int(star[1]) == 0:
        return False
    return name == "day_of_week" or _CYCLES[name][1] % int(star[1]) != 0


def _start_step(name: str, text: str) -> str:
    """One ``N/S`` (or uneven ``*/S``) element of a field other than the weekday, as
    cron-descriptor reads it right."""
    values = crontab_element_values(name, text)
    first, size = _CYCLES[name]
    if size % values.step == 0 and values.start - first < values.step:
        return text  # every S units without a break, across cycles: "every 15 minutes, starting at..."
    if len(values) <= _LISTED_MAX:
        return ",".join(str(value) for value in values)
    step = f"/{values.step}" if values.step > 1 else ""
    return f"{values.start}-{values[-1]}{step}"
