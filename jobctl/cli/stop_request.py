"""Ctrl-C (or SIGTERM) as a request to stop after the step under way, for commands whose work
is a series of committed steps (``store prune``): stopping between two steps loses nothing,
and the command can still say what it did before it stopped."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_requested_by_signal() -> Iterator[threading.Event]:
    """An event set by the first SIGINT or SIGTERM while the block runs; a second one raises
    ``KeyboardInterrupt`` at once (for a person who does not want to wait for the step). The
    signals' previous handlers come back afterwards. Only in the main thread: elsewhere the
    event is never set and the signals keep their handlers."""
    asked = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield asked
        return

    def ask(_signum: int, _frame: FrameType | None) -> None:
        if asked.is_set():
            raise KeyboardInterrupt
        asked.set()

    previous: dict[int, Any] = {signum: signal.signal(signum, ask) for signum in STOPPING_SIGNALS}
    try:
        yield asked
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
