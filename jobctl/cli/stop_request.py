"""Signals that end a command which writes: as a request to stop after the step under way,
for commands whose work is a series of committed steps (``store prune``: stopping between two
steps loses nothing, and the command can still say, and record, what it did before it
stopped; a second signal does not change that), or as an
exception, for commands that write one file (``executions export -o``, ``store backup``), so
that their clean-up runs as for Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Whether, and by which signal, the command was asked to stop."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.repeated = False
        """A second signal came (a person who does not want to wait)."""

    def is_set(self) -> bool:
        return self.signum is not None

    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a command the signal ended (130 for Ctrl-C)."""
        return 128 + (self.signum or 0)


@contextmanager
def stop_requested_by_signal(*, again: str | None = None) -> Iterator[StopRequest]:
    """A request set by the first SIGINT or SIGTERM while the block runs. Later ones change
    nothing but, the first time, write ``again`` on a terminal's stderr (that the stop is under
    way): they used to raise ``KeyboardInterrupt`` at once, which cut the command off before it
    could say, or record, what its committed steps had done; and a step ends within a second
    anyway, while what takes longer (SQLite's own work in C) could not be cut short by an
    exception either. The signals' previous handlers come back afterwards. Only in the main
    thread: elsewhere the request is never set and the signals keep their handlers."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return

    def ask(signum: int, _frame: FrameType | None) -> None:
        if not request.is_set():
            request.signum = signum
            return
        if not request.repeated and again is not None and os.isatty(2):
            os.write(2, f"{again}\n".encode())  # not through sys.stderr: the main thread may be writing to it
        request.repeated = True

    previous: dict[int, Any] = {signum: signal.signal(signum, ask) for signum in STOPPING_SIGNALS}
    try:
        yield request
    finally:
        restore_handlers(previous)


TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Signals that end a command writing a file as Ctrl-C does, through its clean-up (``kill`` of a
script, a closed terminal). SIGKILL cannot be caught: it leaves the hidden ``.FILE.*.part``
beside FILE, FILE itself untouched."""


def end_on_termination() -> dict[int, Any]:
    """Make the signals of :data:`TERMINATING_SIGNALS` raise ``SystemExit(128 + signal)`` in this
    (the main) thread; the handlers they had, for :func:`restore_handlers`. Elsewhere nothing
    changes (signal handlers belong to the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def end(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    return {signum: signal.signal(signum, end) for signum in TERMINATING_SIGNALS}


def restore_handlers(previous: dict[int, Any]) -> None:
    """Put back the handlers :func:`end_on_termination` replaced."""
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@contextmanager
def ending_on_termination() -> Iterator[None]:
    """:func:`end_on_termination` for the time of a block."""
    previous = end_on_termination()
    try:
        yield
    finally:
        restore_handlers(previous)
