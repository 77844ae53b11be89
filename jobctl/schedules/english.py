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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cron_descriptor import ExpressionDescriptor, Options

_ANY = ("*", "?")
_DAY_FIELD = 3
_WEEKDAY_FIELD = 5


def describe_expression(expression: str) -> str:
    """``"At 09:00, Monday through Friday"`` for ``"0 0 9 * * 1-5"`` (six fields, seconds first).

    An expression jobctl accepts but cron-descriptor cannot phrase gets ``""``: the English
    is a help for reading, never a reason to refuse an expression.
    """
    from cron_descriptor import ExpressionDescriptor, Options

    options = Options(locale_code="en_US", use_24hour_time_format=True)
    try:
        # upper case: jobctl keeps fields lower-cased, and cron-descriptor reads only "L" and "W" as last and weekday
        descriptor = ExpressionDescriptor(expression.upper(), options)
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
