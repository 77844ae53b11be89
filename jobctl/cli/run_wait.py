"""``jobctl run`` while its run is pending: who will start it, asked again until someone does.

Only a leading daemon starts a pending run. ``jobctl run`` used to ask once, right after its
trigger, whether one led: a leader killed just before (its lease still running) or while the
run waited left the command waiting for ever, silently. Now it asks every
:data:`LEADER_CHECK_SECONDS` for as long as the run is pending, by the rules of ``jobctl
status`` (docs/run-waits-for-a-leader.md).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from jobctl.models import ExecutionStatus

if TYPE_CHECKING:
    from jobctl.models import LeadingDaemon
    from jobctl.service.contract import JobService
    from jobctl.wire.responses import ExecutionOut

LEADER_CHECK_SECONDS = 1.0
"""How often a pending run's command asks who leads: one query locally, ``GET /status`` remotely."""
POLL_SECONDS = 0.25
"""How often it reads whether the run is still pending (a daemon starts it, someone cancels it)."""


def wait_while_pending(
    service: JobService, execution_id: str, *, may_run_here: bool, interrupted: Callable[[], bool]
) -> bool:
    """Wait until the run leaves ``pending``, or until no daemon leads: True then (when
    ``may_run_here``), and the caller runs it in its own process.

    A leader that has missed its heartbeats (``leaderHeartbeatOverdue``) is said once on
    stderr, in the words of ``jobs trigger``'s warning; while its lease runs on no other daemon
    may lead, and the run is left to it or to a standby that takes over. Once the lease has
    ended with nobody taking over, the run is this process's to take, said in one line (not
    when no daemon led at the start: that is plain local mode). Through the API
    (``may_run_here`` false) it only warns: the daemon answering takes the lease when it ends.

    :raises KeyboardInterrupt: between two reads once ``interrupted()`` says so.
    :raises JobctlError: when the store or the API fails (``ApiUnreachable``, exit 5, for a
        daemon that has gone: it never waits on one that cannot answer).
    """
    seen: LeadingDaemon | None = None
    warned = False
    next_check = time.monotonic()
    while service.get_execution(execution_id)["status"] == ExecutionStatus.PENDING.value:
        if interrupted():
            raise KeyboardInterrupt
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + LEADER_CHECK_SECONDS
            leader = service.leading_daemon()
            if leader is None and may_run_here:
                if seen is not None:
                    _say_it_runs_here(seen, execution_id)
                return True
            if leader is not None and leader.heartbeat_overdue and not warned:
                from jobctl.cli.output import warn
                from jobctl.cli.scheduler_state import silent_leader_warning

                warn(silent_leader_warning(leader))
                warned = True
            seen = leader or seen
        time.sleep(POLL_SECONDS)
    return False


def wait_until_due(service: JobService, retry: ExecutionOut, *, interrupted: Callable[[], bool]) -> None:
    """Wait until the retry ``jobctl run`` follows is due (its ``pendingReason``, "retry at
    TIME"), or has left ``pending`` sooner (a daemon started it, someone cancelled it), reading
    it every :data:`LEADER_CHECK_SECONDS`. The retry's delay is the job's own setting, which may
    be hours: the command waits that long, as the job's author asked (docs/retry-backoff.md).

    :raises KeyboardInterrupt: within :data:`POLL_SECONDS` once ``interrupted()`` says so.
    """
    from jobctl.store.writes import retry_due

    due = retry_due(retry["pendingReason"]) if retry["status"] == ExecutionStatus.PENDING.value else None
    next_read = time.monotonic() + LEADER_CHECK_SECONDS
    while due is not None:
        if interrupted():
            raise KeyboardInterrupt
        left = (due - datetime.now(UTC)).total_seconds()
        if left <= 0:
            return
        if time.monotonic() >= next_read:
            next_read = time.monotonic() + LEADER_CHECK_SECONDS
            if service.get_execution(retry["id"])["status"] != ExecutionStatus.PENDING.value:
                return
        time.sleep(min(POLL_SECONDS, left))


def _say_it_runs_here(last_leader: LeadingDaemon, execution_id: str) -> None:
    """``jobctl: no daemon leads any more (the last leader was web1 pid 4242): running execution
    3f2c9a4e... in this process``."""
    from jobctl.cli.terminal import printable

    said = (
        f"jobctl: no daemon leads any more (the last leader was {last_leader.hostname} pid {last_leader.pid}): "
        f"running execution {execution_id} in this process"
    )
    sys.stderr.write(printable(said) + "\n")
    sys.stderr.flush()


class SilentRunWatch:
    """While ``jobctl run`` follows a run that a daemon runs: says once on stderr when the
    instance the run is recorded on has missed two heartbeats (the rule of
    ``leaderHeartbeatOverdue``, on that instance's own heartbeat, leader or not).

    Its outcome is unknown then, and only a daemon that leads records it (``failed``,
    "abandoned", once the heartbeat is a lease TTL old); the command goes on waiting for that
    record and never runs the run again (it may have run, or be running on a frozen host).
    Asked every :data:`LEADER_CHECK_SECONDS` (docs/run-waits-for-a-leader.md).
    """

    def __init__(self, service: JobService, execution_id: str, *, fallback_ttl: timedelta) -> None:
        self.service = service
        self.execution_id = execution_id
        self.fallback_ttl = fallback_ttl
        """The TTL to judge an instance that does not hold the lease by (the store does not show
        its TTL then): this command's ``[daemon] lease_ttl_seconds``."""
        self.warned = False
        self._next_check = time.monotonic() + LEADER_CHECK_SECONDS

    def __call__(self) -> None:
        if self.warned or time.monotonic() < self._next_check:
            return
        self._next_check = time.monotonic() + LEADER_CHECK_SECONDS
        execution = self.service.get_execution(self.execution_id)
        instance_id = execution.get("instanceId")
        if execution["status"] != ExecutionStatus.RUNNING.value or not instance_id:
            return
        daemon = self.service.running_daemon(instance_id)
        if daemon is None:
            return
        from jobctl.service.status import silent_too_long

        now = datetime.now(UTC)
        if silent_too_long(daemon.last_heartbeat, daemon.lease_ttl or self.fallback_ttl, now):
            from jobctl.cli.output import warn
            from jobctl.times import span

            silent = span((now - daemon.last_heartbeat).total_seconds())
            warn(
                f"the daemon running execution {self.execution_id} ({daemon.hostname} pid {daemon.pid}) has not "
                f"heartbeated for {silent}: its outcome is unknown; a daemon that leads records it failed (abandoned)"
            )
            sys.stderr.flush()
            self.warned = True
