"""``jobctl status`` and ``jobs trigger`` during a failover: a leader that stopped heartbeating
is said to have stopped.

Its lease holds for up to the TTL after its last renewal, so for that long it is still the
leader in the store; status used to call that ``scheduler running``, and a trigger warned of
nothing.
"""

from __future__ import annotations

import os
import re
import signal
import socket
from pathlib import Path

import pytest

from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, cli, executions, shell_job, wait_for, write_config

TTL = 10
"""Heartbeats every 2 s; overdue after 4 s without one; the lease ends 10 s after the last."""


def scheduler_line(factory: DaemonFactory) -> str:
    result = cli(factory, "status")
    assert (result.returncode, result.stderr) == (0, ""), "status reports; it does not fail (SPEC exit codes)"
    return next(line for line in result.stdout.splitlines() if line.lstrip().startswith("scheduler"))


def silent_leader_line(factory: DaemonFactory) -> str | None:
    line = scheduler_line(factory)
    return line if "not heartbeating" in line else None


def test_status_says_when_the_leader_stopped_heartbeating(
    service: Service, daemons: DaemonFactory, tmp_path: Path
) -> None:
    daemons.config_path = write_config(tmp_path / "ttl.toml", lease_ttl_seconds=TTL)
    shell_job(service, "hourly", "true", scheduleConfig={"hours": 1})
    leader = daemons.start()
    assert scheduler_line(daemons).split() == ["scheduler", "running"]

    leader.signal(signal.SIGKILL)
    leader.proc.wait(timeout=10)
    line = wait_for(lambda: silent_leader_line(daemons), timeout=TTL, what="status to say the leader is silent")
    words = line.split()
    assert words[:5] == ["scheduler", "leader", "not", "heartbeating", "for"], words
    assert words[6:9] == ["(lease", "ends", "in"], words
    silent, left = int(words[5].removesuffix("s")), int(words[9].removesuffix("s)"))
    assert 2 * TTL / 5 <= silent < TTL and 0 < left <= TTL - 2 * TTL / 5 and silent + left <= TTL, words
    status = service.get_status()
    assert status["isRunning"] is True, "the dead leader's lease still holds: nobody else may lead yet"
    assert status["leaderHeartbeatOverdue"] is True and status["leaderInstance"]["pid"] == leader.pid
    assert status["leaseExpiresAt"] is not None

    wait_for(lambda: not service.get_status()["isRunning"], timeout=TTL, what="the lease to end")
    assert "no leader" in scheduler_line(daemons)


SILENT_LEADER_WARNING = re.compile(
    r"jobctl: warning: the leading daemon \((?P<host>\S+) pid (?P<pid>\d+)\) has not heartbeated for (?P<silent>\d+)s:"
    r" nothing will run until it is back or another daemon takes over"
    r" \(a standby can (?:when its lease ends, in (?P<left>\d+)s|now)\)\n"
)


@pytest.mark.parametrize("stop", ["SIGKILL", "SIGSTOP"], ids=["killed", "frozen"])
def test_a_trigger_warns_while_the_leader_is_not_heartbeating(
    service: Service, daemons: DaemonFactory, tmp_path: Path, stop: str
) -> None:
    """The warning of ``jobs trigger`` follows status's rule: the leader's lease still holds (no
    other daemon may lead), but it has missed two heartbeats, so the run waits for it to come
    back or for the lease to end (docs/no-daemon-warning.md). A frozen leader that comes back
    runs it."""
    daemons.config_path = write_config(tmp_path / "ttl.toml", lease_ttl_seconds=TTL)
    job = shell_job(service, "hourly", "true", scheduleConfig={"hours": 1})
    leader = daemons.start()
    os.kill(leader.pid, getattr(signal, stop))
    wait_for(lambda: service.get_status()["leaderHeartbeatOverdue"], timeout=TTL, what="the heartbeat to be overdue")

    triggered = cli(daemons, "jobs", "trigger", "hourly")
    assert triggered.returncode == 0, triggered.stderr
    warning = SILENT_LEADER_WARNING.fullmatch(triggered.stderr)
    assert warning is not None, triggered.stderr
    assert (warning["host"], int(warning["pid"])) == (socket.gethostname(), leader.pid)
    silent, left = int(warning["silent"]), int(warning["left"] or 0)
    assert 2 * TTL / 5 <= silent < TTL and silent + left <= TTL, triggered.stderr

    if stop == "SIGSTOP":
        os.kill(leader.pid, signal.SIGCONT)
        wait_for(lambda: [e["status"] for e in executions(service, job["id"])] == ["success"], timeout=TTL,
                 what="the leader, back, to run the triggered run")  # fmt: skip
        # The run may end before the resumed leader's heartbeat thread has written: the warning
        # goes once the store shows it heartbeating, which is what a trigger then reads.
        wait_for(lambda: not service.get_status()["leaderHeartbeatOverdue"], timeout=TTL,
                 what="the leader, back, to heartbeat")  # fmt: skip
        assert cli(daemons, "jobs", "trigger", "hourly").stderr == "", "a leader heartbeating again: no warning"
