"""Text from runs made storable: the same characters on SQLite and Postgres (docs/output-encoding.md).

A run's output, error message and result may hold any bytes. Postgres refuses NUL in text, and
neither driver can encode a lone surrogate (how an undecodable byte is kept in memory), while
SQLite's ``LENGTH()`` stops at a NUL and would misplace output offsets. So before anything of a
run is written, each NUL and each lone surrogate becomes U+FFFD, one character for one: lengths,
and so output offsets, are unchanged.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(text: str) -> str:
    """``text`` with each NUL and lone surrogate replaced by U+FFFD (same length)."""
    if text.isascii():
        return text.replace("\x00", REPLACEMENT) if "\x00" in text else text
    return _UNSTORABLE.sub(REPLACEMENT, text)


def storable_json(value: Any) -> Any:
    """A JSON value with :func:`storable_text` applied to every string in it, keys included."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {_key(key): storable_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable_json(item) for item in value]
    return value


def _key(key: Any) -> Any:
    return storable_text(key) if isinstance(key, str) else key


def optional_text(text: str | None) -> str | None:
    return None if text is None else storable_text(text)
