"""Reading a jobs file for ``jobctl apply``: its ``[[jobs]]`` tables, and the line each came from.

The file is TOML (``tomllib``, in the standard library) or, for a name ending in ``.json``, the
JSON that ``jobctl export --format json`` writes. Only ``jobs`` may be at the top. TOML dates
and times become ISO 8601 strings, so ``at = 2026-12-01T09:00:00Z`` reads as it would quoted
and the tables travel to the API as JSON unchanged. A byte order mark at the start (some Windows
editors save one) is no part of the text, as for ``import crontab``. Lines are found by scanning the text for
the ``[[jobs]]`` headers (the TOML parser does not give them), so an error can say where its
job and key are.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from jobctl.errors import UsageError
from jobctl.wire.free_json import too_deep_to_read

MAX_FILE_BYTES = 1024 * 1024
"""The largest jobs file apply reads (and crontab import), 1 MiB."""

BYTE_ORDER_MARK = "\ufeff"
"""What some Windows editors save before a UTF-8 file's text: no part of it, in TOML or JSON (a
TOML parser refuses it as an invalid statement at line 1, column 1; ``json.loads`` as well)."""

_HEADER = re.compile(r"^\s*\[\[\s*jobs\s*\]\]\s*(#.*)?$")


@dataclass(frozen=True, kw_only=True)
class JobsFile:
    """The tables of a jobs file, in order, and where each starts."""

    path: str
    tables: list[Any]
    text: str = ""
    starts: list[int] = field(default_factory=list)
    """The 1-based line of each table's ``[[jobs]]`` header; empty when they could not be found."""

    def line_of(self, index: int, key: str | None = None) -> int | None:
        """The line of table ``index``'s ``key`` (its header when the key is not written there)."""
        if index >= len(self.starts):
            return None
        start = self.starts[index]
        if key is None:
            return start
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.lines) + 1
        pattern = re.compile(rf"^\s*(\"?{re.escape(key)}\"?\s*=|\[\s*jobs\.{re.escape(key)}\s*\])")
        for number in range(start + 1, end):
            if pattern.match(self.lines[number - 1]):
                return number
        return start

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def read_jobs_file(path: str) -> JobsFile:
    """The jobs of ``path`` (``-``: standard input).

    :raises UsageError: when it cannot be read, is over :data:`MAX_FILE_BYTES`, is not valid
        TOML (or JSON), or holds anything but a list of ``jobs`` tables at the top.
    """
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8").removeprefix(BYTE_ORDER_MARK)
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = _parse(path, text)
    except RecursionError:
        raise UsageError(too_deep_to_read(path)) from None
    unknown = sorted(set(data) - {"jobs"})
    if unknown:
        raise UsageError(f"{path}: unknown top-level key(s) {', '.join(unknown)}: a jobs file holds [[jobs]] tables")
    tables = data.get("jobs", [])
    if not isinstance(tables, list):
        raise UsageError(f"{path}: jobs must be an array of tables ([[jobs]])")
    starts = [number for number, line in enumerate(text.splitlines(), start=1) if _HEADER.match(line)]
    try:
        plain = [_plain(table) for table in tables]
    except RecursionError:
        raise UsageError(too_deep_to_read(path)) from None
    return JobsFile(
        path=path,
        tables=plain,
        text=text,
        starts=starts if len(starts) == len(tables) else [],
    )


def _read_bytes(path: str) -> bytes:
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with Path(path).open("rb") as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise UsageError(f"{path}: larger than {MAX_FILE_BYTES} bytes (1 MiB), the limit for a jobs file")
    return raw


def _parse(path: str, text: str) -> dict[str, Any]:
    """TOML, or JSON for a ``.json`` file and for standard input that starts with ``{`` (what
    ``jobctl export --format json`` writes; no TOML document can start so), so that
    ``jobctl export --format json | jobctl apply -f - --source NAME`` reads back."""
    if path.endswith(".json") or (path == "-" and text.lstrip().startswith("{")):
        import json

        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"{path}: not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise UsageError(f"{path}: must hold a JSON object with a jobs list")
        return data
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None


def _plain(value: Any) -> Any:
    """``value`` with TOML's dates and times as ISO 8601 strings (JSON has none)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime | date | time):
        text = value.isoformat()
        return text[:-6] + "Z" if isinstance(value, datetime) and text.endswith("+00:00") else text
    return value
