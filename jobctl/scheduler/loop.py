"""The scheduler loop: ``tick(now)`` does one round and says how long to sleep.

Only the leader claims slots and starts runs. The loop sleeps until the next due moment, but
never longer than :data:`MAX_SLEEP_SECONDS`, so that changes written by other processes (the
CLI on the store, another daemon) are seen within a second; ``wake()`` cuts a sleep short for
changes made in this process (the API).

Time is a parameter: ``tick`` decides from the ``now`` it is given, the loop reads the injected
:class:`~jobctl.scheduler.clock.Clock` and waits through an injected ``wait`` (see
docs/scheduler-clock.md), so every decision can be tested without sleeping.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from jobctl.errors import StoreError
from jobctl.models import Execution, ExecutionStatus, Job, TriggeredBy
from jobctl.notifier_config import NotifySettings
from jobctl.scheduler.admission import WaitingQueue, start_waiting
from jobctl.scheduler.claims import Claim, ScheduleCache, claim_due_slots
from jobctl.scheduler.clock import Clock, SystemClock
from jobctl.scheduler.leadership import Leadership
from jobctl.scheduler.runner import PreparedRun
from jobctl.scheduler.stats import SchedulerStats
from jobctl.service.notifications import scheduled_effects
from jobctl.store import Store
from jobctl.store.executions import StopRequest

log = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 0.5
CLAIM_BATCH = 200
MAX_BATCHES_PER_TICK = 25
"""Bounds one tick's work, so starting pending runs and reaping are never starved."""
REAP_INTERVAL_SECONDS = 2.0
STOP_CHECK_SECONDS = 0.25
"""How often an instance with runs looks for stop requests (a cancel or a forced delete waits on it)."""
CLAIM_AHEAD = timedelta(milliseconds=30)
"""How far ahead of its due moment a slot is claimed and its run prepared, so that at the
moment itself only the spawns are left (see docs/claim-ahead.md)."""


class Launcher(Protocol):
    """What the scheduler needs of whatever starts runs: the daemon's
    :class:`~jobctl.scheduler.runner.Runner`."""

    def free_slots(self) -> int:
        """Runs that could start now without waiting for one to end."""
        ...

    def prepare(self, job: Job, execution: Execution) -> PreparedRun | None:
        """Take a run slot and get a claimed run ready (None: this execution is already here)."""
        ...

    def launch(self, runs: Sequence[PreparedRun]) -> None:
        """Start prepared runs now."""
        ...

    def submit(self, job: Job, execution: Execution) -> None:
        """Prepare and start a run whose execution row is already ``running`` for this instance."""
        ...

    def stop_requested(self, running: Callable[[], Mapping[str, StopRequest | None]]) -> None:
        """Stop the runs the store asks to stop, or whose execution is gone with its job.

        ``running()`` reads this instance's running executions with their stop reasons; it is
        called only when there are runs to check.
        """
        ...


class Scheduler:
    """Claims due slots and starts pending runs while this instance leads."""

    def __init__(
        self,
        store: Store,
        *,
        leadership: Leadership,
        runner: Launcher,
        default_timezone: str,
        misfire_grace_seconds: float,
        clock: Clock | None = None,
        notify: NotifySettings | None = None,
        stats: SchedulerStats | None = None,
    ) -> None:
        self.store = store
        self.notify = notify
        """Notifiers and default rules for the events of claims, starts and reaped runs (None: none)."""
        self.stats = stats or SchedulerStats()
        """How late runs start and how long claims take, for the metrics endpoint."""
        self.leadership = leadership
        self.runner = runner
        self.schedules = ScheduleCache(default_timezone)
        self.misfire_grace = timedelta(seconds=misfire_grace_seconds)
        self.clock = clock or SystemClock()
        self._wake = threading.Event()
        self._last_reap: datetime | None = None
        self._last_stop_check: datetime | None = None
        self._backlog = False
        self._busy = True
        """In a tick, or left due work behind (no free run slot, batch bound reached)."""
        self._next_claim = 0.0
        """``time.monotonic()`` at which the loop next wakes to claim."""

    def quiet_for(self) -> float:
        """Seconds during which this loop is known not to need the store (0: now or soon).

        Other work of the daemon that writes to the store (the notification sender) waits for
        such a gap, so it never holds the write lock or the interpreter when a slot is due
        (docs/notifications.md)."""
        if self._busy:
            return 0.0
        return max(0.0, self._next_claim - time.monotonic())

    def wake(self) -> None:
        """Cut the current sleep short: something changed."""
        self._wake.set()

    def run(self, stop: threading.Event, *, wait: Callable[[float], None] | None = None) -> None:
        """Tick until ``stop`` is set; store errors are logged and retried, never fatal.

        Between ticks the loop calls ``wait(seconds)``: by default it waits on an event that
        :meth:`wake` sets. The seconds a tick asks for count from the moment it was given, so the
        time the tick itself took is not slept again.
        """
        wait = wait or self._wait_for_wake
        while not stop.is_set():
            now = self.clock.now()
            self._busy = True
            try:
                delay = self.tick(now)
            except StoreError as exc:
                log.warning("scheduler tick failed: %s", exc.message)
                delay = MAX_SLEEP_SECONDS
            except Exception:
                log.exception("scheduler tick failed unexpectedly; retrying")
                delay = MAX_SLEEP_SECONDS
            elapsed = (self.clock.now() - now).total_seconds()
            seconds = min(delay, max(0.0, delay - elapsed))  # never longer than asked, even if wall time stepped back
            self._next_claim = time.monotonic() + seconds
            self._busy = self._backlog
            wait(seconds)

    def _wait_for_wake(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def tick(self, now: datetime) -> float:
        """Claim what is due at ``now``, start pending runs, and return the seconds to sleep after ``now``.

        Every decision is taken from ``now``; the clock is read only to wait for the due moment of
        a slot claimed ahead (never starting it early).
        """
        self._stop_what_was_asked(now)  # whether or not this instance leads: its runs are its own
        self._backlog = False
        if not self.leadership.is_leader():
            return MAX_SLEEP_SECONDS
        # Reap first: after a takeover, the dead leader's runs still count as active until they
        # are finished, and would make the catch-up slot of their jobs a maxInstances skip.
        self._reap_if_due(now)
        # Waiting runs first: their slots came before anything claimed now, so a freed place in
        # a job or a concurrency group goes to them (docs/overlap.md).
        self._start_pending(now)
        self._claim(now)
        return self._sleep_after(now)

    def _claim(self, now: datetime) -> None:
        """Claim due slots, no more than there are free run slots: a claimed run starts at once,
        so ``running`` in the store means running. Slots waiting for a free run slot stay due
        (and count as missed after ``misfire_grace_seconds``, like any late slot)."""
        for _ in range(MAX_BATCHES_PER_TICK):
            limit = min(CLAIM_BATCH, self.runner.free_slots())
            due = self.store.jobs.due(now + CLAIM_AHEAD, limit=max(1, limit))
            if not due:
                return
            if limit <= 0:
                self._backlog = True  # due slots wait for a run slot: a finishing run wakes the loop
                return
            claim_started = time.perf_counter()
            claims = claim_due_slots(
                self.store,
                due,
                now=now,
                instance_id=self.leadership.instance_id,
                term=self.leadership.term,
                fence=self.leadership.fence,
                schedules=self.schedules,
                misfire_grace=self.misfire_grace,
                notify=self.notify,
                gap=self.leadership.gap,
            )
            self.stats.claim_batches.observe(time.perf_counter() - claim_started)
            self._start_claimed(claims)
            if len(due) < limit or not self.leadership.is_leader():
                return
        self._backlog = True

    def _start_claimed(self, claims: list[Claim]) -> None:
        """Prepare every claimed run, then launch each group at its due moment."""
        prepared = [(claim.due_at, self.runner.prepare(claim.job, claim.execution)) for claim in claims]
        moments = sorted({due_at for due_at, run in prepared if run is not None})
        for moment in moments:
            self.clock.sleep_until(moment)  # never before the slot's time (short: claims look ahead a little)
            runs = [run for due_at, run in prepared if due_at == moment and run is not None]
            lateness = max(0.0, (self.clock.now() - moment).total_seconds())
            self.runner.launch(runs)
            for _ in runs:
                self.stats.lateness.observe(lateness)

    def _start_pending(self, now: datetime) -> None:
        """Start waiting runs whose time has come, in the order they became due: manual
        triggers, retries, queued slots and slots waiting for their group (each taken by one
        instance only, within its job's and its group's limits)."""
        free = min(CLAIM_BATCH, self.runner.free_slots())
        if free <= 0:
            return
        waiting = self.store.executions.startable(now, limit=CLAIM_BATCH)
        if not waiting:
            return
        queue = WaitingQueue(self.store, waiting)
        for execution in waiting:
            if free <= 0 or not self.leadership.is_leader():
                return
            job = self.store.jobs.get(execution.job_id)
            if job is None:
                continue
            if not job.is_enabled:
                self._skip_disabled(execution, now)
                continue
            reason = queue.holding_back(job)
            if reason is not None:
                if reason != execution.pending_reason:
                    self.store.executions.set_pending_reason(execution.id, reason)
                continue
            started = start_waiting(
                self.store, job, execution, instance_id=self.leadership.instance_id, now=now,
                on_started=functools.partial(self._started_effects, job, now=now),
            )  # fmt: skip
            if started is not None:
                queue.started(job, started.id)
                self.runner.submit(job, started)
                free -= 1

    def _started_effects(self, job: Job, started: Execution, *, now: datetime) -> None:
        """The ``start`` event of a waiting run, written in the transaction that starts it."""
        if self.notify is not None:
            scheduled_effects(
                self.store, self.notify, [(job, started)], now=now, default_timezone=self.schedules.default_timezone
            )

    def _skip_disabled(self, execution: Execution, now: datetime) -> None:
        """A disabled job gets no runs: a run that was already waiting ends without running.

        Disabling ends waiting runs itself (in the service); this catches one queued while the
        job was being disabled, e.g. the retry of a run that failed at that moment.
        """
        when = "the retry was due" if execution.triggered_by == TriggeredBy.RETRY else "the run started"
        self.store.executions.finish(
            execution.id,
            status=ExecutionStatus.SKIPPED.value,
            started_at=None,
            completed_at=now,
            duration_seconds=None,
            result=None,
            error_message=f"job disabled before {when}",
        )

    def _stop_what_was_asked(self, now: datetime) -> None:
        """A cancel or a forced delete asks, through the store, for runs to stop
        (docs/cancelling-runs.md, docs/deleting-jobs.md): look every :data:`STOP_CHECK_SECONDS`
        while this instance has runs."""
        if self._last_stop_check is not None and (now - self._last_stop_check).total_seconds() < STOP_CHECK_SECONDS:
            return
        self._last_stop_check = now
        instance_id = self.leadership.instance_id
        self.runner.stop_requested(lambda: self.store.executions.running_of_instance(instance_id))

    def _reap_if_due(self, now: datetime) -> None:
        if self._last_reap and (now - self._last_reap).total_seconds() < REAP_INTERVAL_SECONDS:
            return
        self._last_reap = now
        from jobctl.scheduler.reaper import reap_dead_instances

        reap_dead_instances(
            self.store, now=now, ttl=self.leadership.ttl, me=self.leadership.instance_id, notify=self.notify
        )

    def _sleep_after(self, now: datetime) -> float:
        if self.runner.free_slots() <= 0:
            return MAX_SLEEP_SECONDS  # a finishing run wakes the loop
        scheduled = self.store.jobs.earliest_next_run_time()
        pending = self.store.executions.earliest_run_after(now)
        moments = []
        if scheduled is not None:
            moments.append(scheduled - CLAIM_AHEAD)  # wake to claim (and prepare) a little ahead
        if pending is not None:
            moments.append(pending)
        if not moments:
            return MAX_SLEEP_SECONDS
        return max(0.0, min(MAX_SLEEP_SECONDS, (min(moments) - now).total_seconds()))
