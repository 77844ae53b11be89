"""The scheduler's clock: where "now" comes from and how it waits for a moment.

The scheduler reads time only through a :class:`Clock` handed to it, so its decisions can be
tested against a clock that a test sets (see docs/scheduler-clock.md). The daemon passes
:class:`SystemClock`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Wall-clock time for the scheduler."""

    def now(self) -> datetime:
        """The current moment, an aware UTC datetime."""
        ...

    def sleep_until(self, moment: datetime) -> None:
        """Return at ``moment`` or later, never before (a claimed slot starts at its due moment)."""
        ...


class SystemClock:
    """The host's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep_until(self, moment: datetime) -> None:
        wait = (moment - self.now()).total_seconds()
        while wait > 0:  # time.sleep may return a little early; never start before the moment
            time.sleep(wait)
            wait = (moment - self.now()).total_seconds()
