"""Running one triggered execution in this process, for ``jobctl run`` when no daemon leads.

The process registers as an instance and heartbeats while the run lasts, so that if it is
killed the leader (when one starts) finishes the run as failed instead of leaving it running.
Its run's process group is told to a watchdog, as a daemon's are (docs/run-lifetime.md): killed
even with SIGKILL, this process takes its run's processes with it, so none lives on unseen beside
a run a daemon starts later within ``maxInstances``.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from jobctl import __version__
from jobctl.errors import StoreError
from jobctl.executors.context import RunAsPolicy
from jobctl.executors.guard import GroupGuard
from jobctl.models import (
    FOREGROUND_VERSION_MARK,
    HEARTBEATS_PER_LEASE,
    KILL_GRACE_SECONDS,
    MIN_LEASE_TTL_SECONDS,
    Execution,
    ExecutionStatus,
    Instance,
    Job,
)
from jobctl.notifier_config import NotifySettings
from jobctl.scheduler.admission import start_waiting
from jobctl.scheduler.runner import RemoteExecutor, Runner
from jobctl.store import Store

HEARTBEAT_SECONDS = MIN_LEASE_TTL_SECONDS / HEARTBEATS_PER_LEASE
"""As often as a daemon with the shortest lease allowed beats: the daemon that reaps runs of dead
instances (heartbeat older than its lease TTL) may have any TTL, which this process cannot know.
Every 2 s, as it was, a live foreground run could look dead to a daemon with a 2 s lease."""
STOP_CHECK_SECONDS = 0.1
"""How often the run is checked for a cancel asked through the store (as a daemon does), and
whether a heartbeat is due."""
WAIT_POLL_SECONDS = 0.25
"""How often a run that waits for its job or its group looks again."""


class ForegroundRun:
    """Takes a pending execution for this process and runs it on a background thread."""

    def __init__(
        self, store: Store, *, base_env: Mapping[str, str] | None = None, run_as: RunAsPolicy | None = None,
        kill_grace: float = KILL_GRACE_SECONDS, notify: NotifySettings | None = None,
        celery: RemoteExecutor | None = None, default_timezone: str = "UTC",
    ) -> None:  # fmt: skip
        """``celery`` sends a ``celery_task`` run, as the daemon's does (the config's ``[celery]``)."""
        self.store = store
        self.notify = notify or NotifySettings()
        """The config's notifiers: the run's outcome writes its deliveries, and :meth:`notify_outcome` sends them."""
        self.default_timezone = default_timezone
        """``[scheduler] timezone``: the zone a ``late`` message names the slot in for a job without its own."""
        self.base_env = dict(base_env or {})
        now = datetime.now(UTC)
        self.instance = Instance(
            id=str(uuid.uuid4()),
            hostname=socket.gethostname(),
            pid=os.getpid(),
            version=f"{__version__} {FOREGROUND_VERSION_MARK}",
            started_at=now,
            last_heartbeat=now,
            stopped_at=None,
        )
        self.guard = GroupGuard(kill_grace)
        """Kills the run's process group if this process dies, as a daemon's watchdog does."""
        self.runner = Runner(
            store, max_workers=1, on_group=self.guard, base_env=base_env, run_as=run_as, kill_grace=kill_grace,
            notify=self.notify, celery=celery,
        )  # fmt: skip
        self._done = threading.Event()

    def start(
        self, execution_id: str, *, on_wait: Callable[[str], None] | None = None,
        interrupted: Callable[[], bool] | None = None,
    ) -> bool:  # fmt: skip
        """Take the execution and start it; False if a daemon took it first.

        The run starts only within its job's ``maxInstances`` and its concurrency group's limit,
        as under a daemon (:func:`~jobctl.scheduler.admission.start_waiting`): while they are
        reached it waits, telling ``on_wait`` why once. :raises KeyboardInterrupt: while
        waiting, once ``interrupted()`` says so (a Ctrl-C noted by ``jobctl run``).
        """
        self.store.cluster.register_instance(self.instance)
        threading.Thread(target=self._watch, name="heartbeat", daemon=True).start()
        told = False
        while True:
            execution = self.store.executions.get(execution_id)
            job = self.store.jobs.get(execution.job_id) if execution else None
            if execution is None or job is None or execution.status != ExecutionStatus.PENDING:
                self._leave()
                return False
            now = datetime.now(UTC)
            started = start_waiting(
                self.store, job, execution, instance_id=self.instance.id, now=now,
                on_started=functools.partial(self._started_effects, job, now=now),
            )  # fmt: skip
            if started is not None:
                self.runner.submit(job, started)
                return True
            if on_wait is not None and not told:
                waiting = self.store.executions.get(execution_id)
                if waiting is not None and waiting.pending_reason:
                    on_wait(waiting.pending_reason)
                    told = True
            if interrupted is not None and interrupted():
                raise KeyboardInterrupt
            time.sleep(WAIT_POLL_SECONDS)

    def _started_effects(self, job: Job, started: Execution, *, now: datetime) -> None:
        """The run's ``start`` (and ``late``) deliveries, in the transaction that starts it, as under a daemon."""
        from jobctl.service.notifications import scheduled_effects

        scheduled_effects(self.store, self.notify, [(job, started)], now=now, default_timezone=self.default_timezone)

    def notify_outcome(self, execution_id: str) -> list[tuple[str, str, str | None]]:
        """Send the run's notifications now, as no leader will (call after :meth:`finish`);
        (event, notifier, error or None) for each one tried."""
        if not self.notify.notifiers:
            return []
        from jobctl.scheduler.foreground_notify import send_run_notifications

        return send_run_notifications(
            self.store, self.notify, execution_id, instance_id=self.instance.id, base_env=self.base_env
        )

    def _leave(self) -> None:
        self._done.set()
        self.guard.close()
        self.store.cluster.mark_stopped(self.instance.id, datetime.now(UTC))

    def finish(self, *, interrupted: bool) -> None:
        """Wait for the run (or stop it at once when ``interrupted``) and leave the instance list."""
        self.runner.shutdown(0 if interrupted else float("inf"))
        self._done.set()
        self.guard.close()
        self.store.cluster.mark_stopped(self.instance.id, datetime.now(UTC))

    def _watch(self) -> None:
        """Heartbeat, and stop the run when someone cancels it (``jobctl executions cancel``, the
        API, or this command's own Ctrl-C), as the daemon's scheduler loop does for its runs."""
        last_beat = time.monotonic()
        while not self._done.wait(STOP_CHECK_SECONDS):
            try:
                self.runner.stop_requested(lambda: self.store.executions.running_of_instance(self.instance.id))
                if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                    last_beat = time.monotonic()
                    self.store.cluster.heartbeat(self.instance.id, datetime.now(UTC))
            except StoreError:
                pass
