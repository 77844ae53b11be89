"""How an error repeats the value it refuses: one spelling and one length, in every message.

Errors name what was typed (README), value included: ``--umask: must be an octal mode such as
022 or 0027, got '8'``. The value is spelled the way a jobs file and a JSON body both write it,
not as Python prints it: ``true``/``false`` (not ``True``), ``null``, a number as its digits,
text in single quotes (a TOML literal string). A long value is cut to its first
:data:`LONGEST_SHOWN` characters and an ellipsis: a 300-character name repeated whole pushes
the sentence about it off the screen, and its start is enough to recognise it.

Standard library only, and the lowest layer: the config, the request models, the jobs file and
the command line all use it.
"""

from __future__ import annotations

import math
from typing import Any

LONGEST_SHOWN = 60
"""Characters of a value a message repeats; a longer one is cut, with :data:`ELLIPSIS`."""

ELLIPSIS = "\u2026"


def shown(value: Any) -> str:
    """``value`` as a message repeats it: ``'rel/dir'``, ``-1``, ``true``, ``null``, ``'nnnn…'``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return cut(str(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return cut(str(value))


def quoted(text: str) -> str:
    """``text`` in quotes as Python's ``repr`` writes it (control characters escaped), cut to
    :data:`LONGEST_SHOWN` characters with an ellipsis before the closing quote."""
    if len(text) <= LONGEST_SHOWN:
        return repr(text)
    whole = repr(text[:LONGEST_SHOWN])
    return whole[:-1] + ELLIPSIS + whole[-1]


def cut(text: str) -> str:
    """``text`` cut to :data:`LONGEST_SHOWN` characters with an ellipsis (unquoted: digits, a
    name inside a sentence)."""
    return text if len(text) <= LONGEST_SHOWN else text[:LONGEST_SHOWN] + ELLIPSIS
