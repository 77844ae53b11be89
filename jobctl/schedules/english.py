"""Crontab expressions in plain English, from the cron-descriptor package (its one home).

cron-descriptor reads six fields seconds first, as jobctl does, and knows ``L``, ``5#2`` and
month and weekday names. It is told the locale (English) and the 24-hour clock instead of
guessing them from the environment, so the text is the same on every host. It is imported
only when a description is asked for, which keeps ``jobctl --help`` and ``jobs list`` fast.
"""

from __future__ import annotations


def describe_expression(expression: str) -> str:
    """``"At 09:00, Monday through Friday"`` for ``"0 0 9 * * 1-5"`` (six fields, seconds first).

    An expression jobctl accepts but cron-descriptor cannot phrase gets ``""``: the English
    is a help for reading, never a reason to refuse an expression.
    """
    from cron_descriptor import ExpressionDescriptor, Options

    options = Options(locale_code="en_US", use_24hour_time_format=True)
    try:
        # upper case: jobctl keeps fields lower-cased, and cron-descriptor reads only "L" and "W" as last and weekday
        return str(ExpressionDescriptor(expression.upper(), options).get_description())
    except Exception:  # noqa: BLE001 - the library's own error tree is not documented
        return ""
