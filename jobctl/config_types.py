"""A config value of the wrong type or out of its range, told in the config's own words (TOML's),
not Python's.

The README and ``jobctl.example.toml`` say "a whole number"; an error that said ``must be int,
not str`` made the user translate Python's type names back into the file they wrote. So the
expected type is named as the docs name it, and the value is shown as it was written:
``[history] keep_days must be a whole number, not "90d"`` (``not 2.0``, ``not true``).
A number out of its range says both bounds, in what unit, what the largest is in words when it
is a duration or a size, and the value given, in one form for every number of the config
(:class:`Bounds`): ``[daemon] kill_grace_seconds must be between 0 and 60 seconds (1 minute),
not 61``. Standard library only: loaded with the config on every CLI call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from jobctl.shown import ELLIPSIS, LONGEST_SHOWN, quoted, shown

SECONDS = "seconds"
DAYS = "days"
BYTES = "bytes"
"""The units a number of the config is in, where it has one."""

_IN_WORDS: dict[str, tuple[tuple[int, str], ...]] = {
    SECONDS: ((86_400, "day"), (3_600, "hour"), (60, "minute")),
    DAYS: ((365, "year"),),
    BYTES: ((1_000_000, "MB"), (1_000, "kB")),
}
"""Larger units a bound is told in when it is a whole number of one of them ("30 days")."""

EXPECTED: dict[type, str] = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "a table",
}
"""How the docs name each type a key takes."""


def type_problem(value: Any, types: tuple[type, ...]) -> str | None:
    """``must be EXPECTED, not VALUE`` when ``value`` is none of ``types``, else None.

    A TOML boolean is never a number here, though Python's ``bool`` is an ``int``.
    """
    fits = isinstance(value, types) and (bool in types or not isinstance(value, bool))
    return None if fits else f"must be {expected(types)}, not {as_written(value)}"


def expected(types: tuple[type, ...]) -> str:
    """``(int,)``: "a whole number"; ``(int, float)``: "a number" (a float takes whole numbers too)."""
    if int in types and float in types:
        types = tuple(kind for kind in types if kind is not int)
    return " or ".join(EXPECTED.get(kind, kind.__name__) for kind in types)


def as_written(value: Any) -> str:
    """``value`` as the TOML file spells it: strings quoted, ``true``/``false``, ``inf``, ``nan``;
    an array or a table by what it is. A string or a number longer than the messages' limit is
    cut with an ellipsis, as every message cuts a value (:mod:`jobctl.shown`)."""
    if isinstance(value, str):  # TOML's double quotes, where messages quote as Python does
        if len(value) <= LONGEST_SHOWN:
            return json.dumps(value, ensure_ascii=False)
        return json.dumps(value[:LONGEST_SHOWN], ensure_ascii=False)[:-1] + ELLIPSIS + '"'
    if isinstance(value, bool | int | float | list | dict):
        return shown(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return type(value).__name__


def repeated_names(names: list[str], section: str) -> str | None:
    """Which entries of ``[[section]]`` share a name, or None when every name is unique:
    ``notifiers[0] and notifiers[2] are both named 'ops'`` (each repeated name, in file order).

    "names must be unique" alone left the user to find the pair in a long file."""
    found = []
    for name in dict.fromkeys(names):
        places = [f"{section}[{index}]" for index, other in enumerate(names) if other == name]
        if len(places) > 1:
            listed = ", ".join(places[:-1]) + f" and {places[-1]}"
            found.append(f"{listed} are {'both' if len(places) == 2 else 'all'} named {quoted(name)}")
    return "; ".join(found) or None


@dataclass(frozen=True, kw_only=True)
class Bounds:
    """The range a number of the config takes: from ``least`` (or above it, when
    ``least_excluded``) to ``most``, in ``unit`` (none for a count or a port)."""

    least: float
    most: float
    unit: str = ""
    least_excluded: bool = False

    def holds(self, value: float) -> bool:
        """Whether ``value`` is in range (never ``nan``)."""
        above = value > self.least if self.least_excluded else value >= self.least
        return above and value <= self.most

    def problem(self, value: float) -> str | None:
        """``must be between 0 and 60 seconds (1 minute), not 61`` when ``value`` is out of range,
        else None."""
        return None if self.holds(value) else f"must be {self.described()}, not {as_written(value)}"

    def described(self) -> str:
        """The range in words: "between 1 and 65535", "between 2 and 86400 seconds (1 day)", "more
        than 0 and at most 300 seconds (5 minutes)"."""
        most = f"{_number(self.most)} {self.unit}".rstrip() + _in_words(self.most, self.unit)
        if self.least_excluded:
            return f"more than {_number(self.least)} and at most {most}"
        return f"between {_number(self.least)} and {most}"


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else repr(float(value))


def _in_words(value: float, unit: str) -> str:
    """`` (30 days)`` for 2592000 seconds, `` (1 MB)`` for 1000000 bytes; empty when no larger
    unit divides ``value`` (or it has no unit)."""
    for size, name in _IN_WORDS.get(unit, ()):
        if value >= size and value % size == 0:
            count = int(value // size)
            plural = "s" if count != 1 and name not in ("MB", "kB") else ""
            return f" ({count} {name}{plural})"
    return ""
