"""The leader's background pruner: history kept within ``[history]`` without anyone asking.

It runs in a thread of its own, never in the scheduler loop, and only while this instance
leads (one pruner per store). A pass drains every pruner in batches of about 15 ms and
sleeps as long after each batch as the batch took, so it takes at most half of the store's
write time and no scheduler write waits behind it for more than one short batch; then it
waits :data:`PASS_INTERVAL_SECONDS` (docs/retention.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from jobctl.errors import StoreError
from jobctl.models import RetentionPolicy
from jobctl.scheduler.clock import Clock, SystemClock
from jobctl.service.retention import prune_store
from jobctl.store import Store
from jobctl.store.retention import TablePruner, pruners_for

log = logging.getLogger(__name__)

PASS_INTERVAL_SECONDS = 60.0
"""Time between the end of one pass and the start of the next."""
FULL_SWEEP = timedelta(hours=6)
"""How often every job's excess executions are looked at again, not only those of jobs that ran."""


class BackgroundPruner:
    """Prunes while ``is_leader()`` holds, with the policy ``policy()`` gives (reloads apply)."""

    def __init__(
        self,
        store: Store,
        *,
        policy: Callable[[], RetentionPolicy],
        is_leader: Callable[[], bool],
        interval_seconds: float = PASS_INTERVAL_SECONDS,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.policy = policy
        self.is_leader = is_leader
        self.interval = interval_seconds
        self.clock = clock or SystemClock()
        self._pruners: list[TablePruner] | None = None
        self._pruners_made: tuple[RetentionPolicy, datetime] | None = None

    def run(self, stop: threading.Event) -> None:
        """Prune every interval until ``stop`` is set; errors are logged and the pass retried later."""
        while not stop.wait(self.interval if self._pruners_made else min(self.interval, 1.0)):
            if not self.is_leader():
                continue
            try:
                self.prune_once(stop)
            except StoreError as exc:
                log.warning("pruning history failed: %s", exc.message)
            except Exception:
                log.exception("pruning history failed unexpectedly; retrying at the next pass")

    def prune_once(self, stop: threading.Event) -> int:
        """One pass; the rows it removed."""
        now = self.clock.now()
        report = prune_store(
            self.store, self.policy(), now=now, pruners=self._current_pruners(now),
            pause=stop.wait, should_stop=lambda: stop.is_set() or not self.is_leader(),
        )  # fmt: skip
        if report.total:
            log.info(
                "pruned %d rows of history (%s) in %.1fs; %d free pages given back",
                report.total, ", ".join(f"{k} {v}" for k, v in report.removed.items()),
                report.seconds, report.pages_released,
            )  # fmt: skip
        return report.total

    def _current_pruners(self, now: datetime) -> list[TablePruner]:
        """The pruners, kept across passes (they remember which jobs ran since), renewed when the
        policy changes and every :data:`FULL_SWEEP`."""
        policy = self.policy()
        made = self._pruners_made
        if self._pruners is None or made is None or made[0] != policy or now - made[1] > FULL_SWEEP:
            self._pruners = pruners_for(self.store.db, policy)
            self._pruners_made = (policy, now)
        return self._pruners
