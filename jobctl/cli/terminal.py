"""Text from the store made safe to show on a terminal (see ``docs/terminal-output.md``).

Names, descriptions, error messages and a job's output are written by anyone who can create a
job or run one. Printed raw, an escape sequence in them can retitle the window, move the
cursor or rewrite what is already on screen, ``\\r`` can hide the start of a line, and a
bidi control (U+202E) can make ``evil`` read as ``live``. Human output shows such characters
as escapes (``\\x1b``, ``\\r``, ``\\u202e``); ``--json`` keeps the data exactly.
"""

from __future__ import annotations

import re

UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f"  # C0 controls (newline and tab included), DEL, C1 controls
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, overrides, isolates
    "\u2028\u2029"  # line and paragraph separators
    "\ud800-\udfff]"  # lone surrogates (undecodable bytes): not even writable as UTF-8
)
"""Characters that never reach a terminal raw from a single-line field."""

STREAM_KEPT = re.compile(r"\n|\t|\r\n|\x1b\[[0-9;:]*m")
"""In a job's streamed output on a terminal: line ends, tabs and SGR colour sequences stay."""

PARTIAL_TAIL = re.compile(r"(?:\r|\x1b(?:\[[0-9;:]{0,32})?)\Z")
"""A chunk ending like this may continue as something kept (``\\r\\n``, a colour sequence)."""


def escape_char(char: str) -> str:
    """``\\x1b``, ``\\r``, ``\\u202e``: how an unsafe character is shown."""
    code = ord(char)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named:
        return named
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every control, bidi and separator character escaped: one safe line."""
    return UNSAFE.sub(lambda match: escape_char(match.group()), text)


class OutputFilter:
    """A job's output, chunk by chunk, for a terminal: colours kept, every other control escaped.

    A job's colours are its own business when it writes to a terminal, so SGR sequences
    (``ESC [ ... m``) pass, as do newlines, ``\\r\\n`` and tabs. Anything else that could act
    on the terminal (cursor moves, titles, clearing, a lone ``\\r``, bidi controls) is shown
    escaped. A sequence split between chunks is held back until the next chunk completes it.
    """

    def __init__(self) -> None:
        self._held = ""

    def feed(self, chunk: str) -> str:
        """The safe text for ``chunk``, keeping back a possibly incomplete ending."""
        text = self._held + chunk
        tail = PARTIAL_TAIL.search(text)
        cut = tail.start() if tail else len(text)
        self._held = text[cut:]
        return self._render(text[:cut])

    def flush(self) -> str:
        """What is still held back, escaped: the output ended there."""
        held, self._held = self._held, ""
        return printable(held)

    @staticmethod
    def _render(text: str) -> str:
        parts: list[str] = []
        position = 0
        for kept in STREAM_KEPT.finditer(text):
            parts.append(printable(text[position : kept.start()]))
            parts.append(kept.group())
            position = kept.end()
        parts.append(printable(text[position:]))
        return "".join(parts)
