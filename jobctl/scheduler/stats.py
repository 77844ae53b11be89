"""What this instance's scheduler observes about itself: how late runs start, how long claims take.

Plain counters in fixed buckets, safe to update from the scheduler thread while the API thread
reads them. The scheduler knows nothing of any metrics format: the daemon's metrics endpoint
(:mod:`jobctl.daemon.metrics`) turns a :class:`DistributionSnapshot` into a Prometheus histogram.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field

LATENESS_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
"""Seconds from a slot's due moment to the start of its run: milliseconds when all is well,
up to minutes for a catch-up run after a gap."""

CLAIM_BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Seconds one claim transaction (up to a batch of due jobs) took."""


@dataclass(frozen=True, kw_only=True)
class DistributionSnapshot:
    """Observations so far: ``counts[i]`` fell at or under ``bounds[i]``, the last one above them all."""

    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    total: float

    @property
    def count(self) -> int:
        return sum(self.counts)


class Distribution:
    """Observed values counted into fixed buckets (upper bounds inclusive), with their sum."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self._counts = [0] * (len(bounds) + 1)
        self._total = 0.0
        self._lock = threading.Lock()

    def observe(self, value: float) -> None:
        index = bisect.bisect_left(self.bounds, value)
        with self._lock:
            self._counts[index] += 1
            self._total += value

    def snapshot(self) -> DistributionSnapshot:
        with self._lock:
            return DistributionSnapshot(bounds=self.bounds, counts=tuple(self._counts), total=self._total)


@dataclass(frozen=True)
class SchedulerStats:
    """The distributions one scheduler keeps; the daemon shares them with its metrics endpoint."""

    lateness: Distribution = field(default_factory=lambda: Distribution(LATENESS_BUCKETS))
    claim_batches: Distribution = field(default_factory=lambda: Distribution(CLAIM_BATCH_BUCKETS))
