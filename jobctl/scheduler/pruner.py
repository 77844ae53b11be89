"""The leader's background pruner: history kept within ``[history]`` without anyone asking.

It runs in a thread of its own, never in the scheduler loop, and only while this instance
leads (one pruner per store). A pass drains every pruner in batches of about 25 ms and
sleeps as long after each batch as the batch took, so it takes at most half of the store's
write time; and it starts a batch only in a gap the scheduler announces (no slot due within
:data:`QUIET_NEEDED_SECONDS`), so a claim rarely waits behind one. Then it waits
:data:`PASS_INTERVAL_SECONDS` (docs/retention.md). One kind of history that fails to be pruned
is logged and left for the next pass; the pass goes on with the others. A store SQLite says is
damaged stops the pruner until the daemon restarts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from jobctl.errors import StoreError
from jobctl.models import RetentionPolicy
from jobctl.scheduler.clock import Clock, SystemClock
from jobctl.scheduler.quiet import wait_for_quiet
from jobctl.service.retention import PruneMetDamage, prune_store
from jobctl.store import Store
from jobctl.store.retention import TablePruner, pruners_for

log = logging.getLogger(__name__)

PASS_INTERVAL_SECONDS = 60.0
"""Time between the end of one pass and the start of the next."""
QUIET_NEEDED_SECONDS = 0.1
"""A batch starts only when the scheduler will leave the store alone this long: a batch aims at
25 ms, and under load one now and then takes two or three times that."""
MAX_DEFER_SECONDS = 2.0
"""The longest a batch waits for such a gap: a scheduler that is never quiet still gets its
history pruned, a batch every two seconds at least (several hundred rows)."""
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
        quiet_for: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.quiet_for = quiet_for
        """Seconds the scheduler will leave the store alone (its
        :meth:`~jobctl.scheduler.loop.Scheduler.quiet_for`); None: batches never wait for a gap."""
        self.policy = policy
        self.is_leader = is_leader
        self.interval = interval_seconds
        self.clock = clock or SystemClock()
        self._pruners: list[TablePruner] | None = None
        self._pruners_made: tuple[RetentionPolicy, datetime] | None = None
        self._failed_pruners: set[str] = set()
        """Pruners that failed in the last pass: the next one starts them afresh (a failed one
        may have stopped half-way through what it remembers)."""

    def run(self, stop: threading.Event) -> None:
        """Prune every interval until ``stop`` is set; errors are logged and the pass retried later.

        Except damage: a store SQLite says is malformed ends the pruner for the life of the
        process, logged once at ERROR. Every pass would meet it again, and each would first
        delete what it could reach and move free pages about in a file SQLite no longer vouches
        for; the scheduler goes on (docs/retention.md, "When a pruner fails")."""
        while not stop.wait(self.interval if self._pruners_made else min(self.interval, 1.0)):
            if not self.is_leader():
                continue
            try:
                self.prune_once(stop)
            except PruneMetDamage as exc:
                removed = f" (this pass removed {exc.report.total} rows before it)" if exc.report.total else ""
                log.error(
                    "pruning history stopped: %s%s; the daemon prunes no more until it is restarted: "
                    "run jobctl store check, and restore a backup (docs/store-backup.md)", exc.message, removed,
                )  # fmt: skip
                return
            except StoreError as exc:
                log.warning("pruning history failed: %s", exc.message)
            except Exception:
                log.exception("pruning history failed unexpectedly; retrying at the next pass")

    def prune_once(self, stop: threading.Event) -> int:
        """One pass; the rows it removed."""

        def pause(took: float) -> None:
            stop.wait(took)
            self._wait_for_gap(stop)

        self._wait_for_gap(stop)
        now = self.clock.now()
        report = prune_store(
            self.store, self.policy(), now=now, pruners=self._current_pruners(now),
            pause=pause, should_stop=lambda: stop.is_set() or not self.is_leader(), on_failure=self._failed,
        )  # fmt: skip
        if report.total or report.pages_released:
            given_back = f"; {report.pages_released} free pages given back" if report.pages_released else ""
            log.info(
                "pruned %d rows of history (%s) in %.1fs%s",
                report.total, ", ".join(f"{k} {v}" for k, v in report.removed.items()), report.seconds, given_back,
            )  # fmt: skip
        return report.total

    def _failed(self, name: str, error: Exception) -> None:
        """One pruner of the pass failed (``prune_store`` goes on with the others): say so, and
        start it afresh at the next pass."""
        self._failed_pruners.add(name)
        if isinstance(error, StoreError):
            log.warning("pruning history (%s) failed: %s; the rest of the pass goes on", name, error.message)
        else:
            log.error(
                "pruning history (%s) failed unexpectedly; the rest of the pass goes on, and this is retried "
                "at the next pass", name, exc_info=error,
            )  # fmt: skip

    def _wait_for_gap(self, stop: threading.Event) -> float:
        """Wait for a gap in the scheduler's work long enough for a batch (at most
        :data:`MAX_DEFER_SECONDS`); the seconds waited."""
        return wait_for_quiet(self.quiet_for, stop, needed=QUIET_NEEDED_SECONDS, longest=MAX_DEFER_SECONDS)

    def _current_pruners(self, now: datetime) -> list[TablePruner]:
        """The pruners, kept across passes (they remember which jobs ran since), renewed when the
        policy changes and every :data:`FULL_SWEEP`; one that failed in the last pass, alone."""
        policy = self.policy()
        made = self._pruners_made
        if self._pruners is None or made is None or made[0] != policy or now - made[1] > FULL_SWEEP:
            self._pruners = pruners_for(self.store.db, policy)
            self._pruners_made = (policy, now)
        elif self._failed_pruners:
            fresh = {pruner.name: pruner for pruner in pruners_for(self.store.db, policy)}
            self._pruners = [fresh[p.name] if p.name in self._failed_pruners else p for p in self._pruners]
        self._failed_pruners.clear()
        return self._pruners
