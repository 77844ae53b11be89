"""``jobctl run`` while its run is pending: who will start it, asked again until someone does.

Only a leading daemon starts a pending run. ``jobctl run`` used to ask once, right after its
trigger, whether one led: a leader killed just before (its lease still running) or while the
run waited left the command waiting for ever, silently. Now it asks every
:data:`LEADER_CHECK_SECONDS` for as long as the run is pending, by the rules of ``jobctl
status`` (docs/run-waits-for-a-leader.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from jobctl.models import ExecutionStatus

if TYPE_CHECKING:
    from jobctl.models import LeadingDaemon
    from jobctl.service.contract import JobService

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


def _say_it_runs_here(last_leader: LeadingDaemon, execution_id: str) -> None:
    """``jobctl: no daemon leads any more (the last leader was web1 pid 4242): running execution
    3f2c9a4e... in this process``."""
    import sys

    from jobctl.cli.terminal import printable

    said = (
        f"jobctl: no daemon leads any more (the last leader was {last_leader.hostname} pid {last_leader.pid}): "
        f"running execution {execution_id} in this process"
    )
    sys.stderr.write(printable(said) + "\n")
    sys.stderr.flush()
