"""Job labels: the rules for keys and values, and the ``key=value`` filter of ``GET /jobs``.

Plain Python (no validation library), because ``jobctl jobs list --label k=v`` parses its
filter on the CLI's fast path; :mod:`jobctl.wire.requests` builds the body's checks from the
same constants. The decisions are in ``docs/labels.md``.
"""

from __future__ import annotations

import re

from jobctl.errors import ValidationFailed
from jobctl.shown import shown

KEY_MAX = 63
VALUE_MAX = 255
LABELS_MAX = 64
KEY_PATTERN = r"^[a-z0-9][a-z0-9._/-]*$"
"""Lower-case letters, digits, ``.``, ``_``, ``/`` and ``-``, starting with a letter or digit."""
VALUE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
"""Any text without control characters (so a value prints on one line and Postgres can hold it)."""

_KEY = re.compile(KEY_PATTERN)
_VALUE = re.compile(VALUE_PATTERN)


def key_error(key: str) -> str | None:
    """Why ``key`` is not a label key, or None."""
    if not _KEY.match(key) or len(key) > KEY_MAX:
        return f"a label key is 1 to {KEY_MAX} of a-z, 0-9, '.', '_', '/', '-', starting with a letter or digit"
    return None


def value_error(value: str) -> str | None:
    """Why ``value`` is not a label value, or None."""
    if len(value) > VALUE_MAX or not _VALUE.match(value):
        return f"a label value is at most {VALUE_MAX} characters, without control characters"
    return None


def parse_filter(text: str, *, loc: list[str | int]) -> tuple[str, str]:
    """``key=value`` as a pair. :raises ValidationFailed: at ``loc`` when it is not one."""
    key, sep, value = text.partition("=")
    problem = "give key=value" if not sep else key_error(key) or value_error(value)
    if problem:
        raise ValidationFailed.field(loc, f"{problem}; got {shown(text)}")
    return key, value
