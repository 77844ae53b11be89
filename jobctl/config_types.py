"""A config value of the wrong type, told in the config's own words (TOML's), not Python's.

The README and ``jobctl.example.toml`` say "a whole number"; an error that said ``must be int,
not str`` made the user translate Python's type names back into the file they wrote. So the
expected type is named as the docs name it, and the value is shown as it was written:
``[history] keep_days must be a whole number, not "90d"`` (``not 2.0``, ``not true``).
Standard library only: loaded with the config on every CLI call.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from typing import Any

EXPECTED: dict[type, str] = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "a table",
}
"""How the docs name each type a key takes."""

LONGEST_SHOWN = 60
"""A string (or a number's digits) longer than this is described, not quoted whole."""


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
    an array or a table, and anything too long to be worth repeating, by what it is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        digits = str(value)
        return digits if len(digits) <= LONGEST_SHOWN else f"a whole number of {len(digits.lstrip('-'))} digits"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return (
            json.dumps(value, ensure_ascii=False)
            if len(value) <= LONGEST_SHOWN
            else f"a string of {len(value)} characters"
        )
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return type(value).__name__
