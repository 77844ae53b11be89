"""Compact durations such as ``1h30m``: the ``--every`` option and how intervals are shown."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jobctl.errors import ValidationFailed

UNITS: dict[str, str] = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
"""Suffix letter to interval config key, largest unit first (the order used when printing)."""

MAX_SECONDS = 100 * 366 * 86400
"""Upper bound for any duration in a config: far beyond any real schedule, far below overflow."""

SECONDS_PER_UNIT: dict[str, int] = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}

_DIGITS = 30
"""Digits read of a unit's count: 10**30 seconds is over every bound (a hundred years, the
first instant a time can hold) by far, so a longer count is read as 10**30."""
_PART = re.compile(r"(\d+)([a-z])")
_WHOLE = re.compile(r"(?:\d+[a-z])+")


def parse_every(text: str) -> dict[str, int]:
    """The interval config for a duration like ``1h30m``, ``90s``, ``2d`` or ``1w2d``.

    Units are ``w d h m s``, each at most once, in any order. The result holds only the
    units written (``{"hours": 1, "minutes": 30}``), ready for ``parse_schedule``.

    :raises ValidationFailed: at ``["every"]`` for anything else, including a zero total and
        one over :data:`MAX_SECONDS`.
    """
    result = parse_units(text)
    if total_seconds(result) > MAX_SECONDS:
        raise _bad(text, "is longer than a hundred years")
    return result


def total_seconds(units: Mapping[str, int]) -> int:
    """The seconds the units of :func:`parse_units` add up to."""
    return sum(SECONDS_PER_UNIT[key] * value for key, value in units.items())


def parse_units(text: str, *, zero: bool = False) -> dict[str, int]:
    """The units of a duration, as :func:`parse_every` reads them but of any length: the
    hundred years are a bound on how often a job may run, not on how far back a time may be
    (``--since 100000d`` is a time, as ``--since 1753-12-06`` is).

    :param zero: read a zero total (``0s``) as the others: a job setting judges it by its own
        rule (a retry delay may be 0, a timeout not), and says that rule.
    :raises ValidationFailed: at ``["every"]`` for text in no duration's form, or a zero total.
    """
    compact = text.strip().lower().replace(" ", "")
    if not _WHOLE.fullmatch(compact):
        raise _bad(text, "is not a duration such as '90s', '15m', '1h30m', '2d' or '1w'")
    result: dict[str, int] = {}
    for number, letter in _PART.findall(compact):
        key = UNITS.get(letter)
        if key is None:
            raise _bad(text, f"has an unknown unit {letter!r}; use w, d, h, m or s")
        if key in result:
            raise _bad(text, f"gives {key} twice")
        # A number of more digits than any bound needs stands for one over every bound: int()
        # refuses over 4,300 digits (ValueError, which no caller expects of a duration).
        digits = number.lstrip("0") or "0"
        result[key] = int(digits) if len(digits) <= _DIGITS else 10**_DIGITS
    if total_seconds(result) == 0 and not zero:
        raise _bad(text, "must be longer than zero")
    return result


def _bad(text: str, why: str) -> ValidationFailed:
    return ValidationFailed.field(["every"], f"{text!r} {why}")


def format_every(config: Mapping[str, Any]) -> str:
    """The compact form of an interval config's units, e.g. ``1h30m`` (``0s`` if all zero)."""
    parts = []
    for letter, key in UNITS.items():
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            parts.append(f"{value}{letter}")
    return "".join(parts) or "0s"
