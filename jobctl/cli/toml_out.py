"""TOML out: the home of tomli-w (the standard library reads TOML but does not write it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tomli_w


def dumps(data: Mapping[str, Any]) -> str:
    """``data`` as TOML text; strings with line breaks as multi-line strings, for people to read."""
    return tomli_w.dumps(data, multiline_strings=True)
