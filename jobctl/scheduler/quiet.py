"""Waiting for a gap in the scheduler's use of the store.

Background work of the leader that writes to the store (the notification sender, the history
pruner) takes SQLite's write lock, a core and the interpreter while it works. Done while slots
are due, it makes runs start later; done in the gaps the scheduler announces
(:meth:`~jobctl.scheduler.loop.Scheduler.quiet_for`), it costs them nothing. A scheduler that is
never quiet still lets the work through after ``longest`` seconds, so it is delayed, never starved.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def wait_for_quiet(
    quiet_for: Callable[[], float] | None, stop: threading.Event, *, needed: float, longest: float
) -> float:
    """Wait until ``quiet_for()`` promises at least ``needed`` seconds without the scheduler, or
    ``longest`` seconds have passed, or ``stop`` is set; the seconds waited (0 with no ``quiet_for``)."""
    if quiet_for is None:
        return 0.0
    started = time.monotonic()
    deadline = started + longest
    while not stop.is_set():
        quiet = quiet_for()
        now = time.monotonic()
        if quiet >= needed or now >= deadline:
            return now - started
        stop.wait(min(max(quiet, 0.005), 0.05, deadline - now))
    return time.monotonic() - started
