"""``jobctl run`` whose only daemon is killed (SIGKILL) while the run waits to start.

The command asked once, right after its trigger, whether a daemon led: with the leader killed
just before (its lease still running) or while the run was pending, it waited for ever,
silently. Now it says that the leader is silent, and once the lease has ended with no daemon
taking over it runs the run itself, exactly once (docs/run-waits-for-a-leader.md). Through
``--api``, a daemon that is gone ends the command with exit 5.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jobctl.service import Service
from jobctl.service.tokens import create_token
from jobctl.store import open_store
from tests.daemon.helpers import DaemonFactory, DaemonProcess, executions, shell_job, wait_for, write_config

TTL = 6
"""Heartbeats every 1.2 s; overdue after 2.4 s without one; the lease ends 6 s after the last renewal."""
TAKE_OVER_SLACK = 3.0
"""Beyond the TTL: the command asks who leads every second, on a loaded machine."""

SILENT_LEADER = re.compile(
    r"jobctl: warning: the leading daemon \((?P<host>\S+) pid (?P<pid>\d+)\) has not heartbeated for \d+s:"
    r" nothing will run until it is back or another daemon takes over"
    r" \(a standby can (?:when its lease ends, in \d+s|now)\)"
)


def cli_env(factory: DaemonFactory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
    env.update({"JOBCTL_DB": factory.store_url, "JOBCTL_CONFIG": str(factory.config_path)})
    return env


@dataclass
class Background:
    """``jobctl`` commands started in the background; one still there at the end is killed."""

    factory: DaemonFactory
    started: list[subprocess.Popen[str]] = field(default_factory=list)

    def run(self, err: Path, *args: str) -> subprocess.Popen[str]:
        """``jobctl ARGS`` with stdout a pipe and stderr a file, read while it runs."""
        with open(err, "w") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "jobctl", *args], stdout=subprocess.PIPE, stderr=sink, text=True,
                env=cli_env(self.factory),
            )  # fmt: skip
        self.started.append(proc)
        return proc


@pytest.fixture
def background(daemons: DaemonFactory) -> Iterator[Background]:
    commands = Background(daemons)
    yield commands
    for proc in commands.started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)


def keep_busy(service: Service, daemon_is_busy: str) -> None:
    """Fill the daemon's only run slot (``max_concurrent_runs = 1``): a run triggered next stays pending."""
    busy = shell_job(service, daemon_is_busy, "sleep 600", scheduleConfig={"hours": 1})
    service.trigger_job(busy["id"])
    wait_for(lambda: [e["status"] for e in executions(service, busy["id"])] == ["running"], timeout=10,
             what="the daemon's only run slot to be taken")  # fmt: skip


def pending_run(service: Service, job_id: str) -> dict[str, Any] | None:
    runs = executions(service, job_id)
    return runs[0] if len(runs) == 1 and runs[0]["status"] == "pending" else None


def kill(daemon: DaemonProcess) -> float:
    """SIGKILL, and the moment it was sent (monotonic)."""
    daemon.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    daemon.proc.wait(timeout=10)
    return killed_at


@pytest.mark.parametrize("when", ["before-the-run", "while-it-waits"])
def test_run_runs_its_run_itself_once_the_killed_leaders_lease_ends(
    service: Service, daemons: DaemonFactory, background: Background, tmp_path: Path, when: str
) -> None:
    ran = tmp_path / "ran.txt"
    daemons.config_path = write_config(tmp_path / "ttl.toml", lease_ttl_seconds=TTL, max_concurrent_runs=1)
    job = shell_job(service, "a", f"echo once >> {ran}; sleep 3; echo done", scheduleConfig={"hours": 1})
    leader = daemons.start()
    leader_instance = wait_for(lambda: service.get_status()["leaderInstance"], timeout=10, what="a leader")["id"]
    err = tmp_path / "run.err"
    if when == "before-the-run":
        killed_at = kill(leader)
        time.sleep(1)
        proc = background.run(err, "run", "a")
    else:
        keep_busy(service, "busy")
        proc = background.run(err, "run", "a")
        wait_for(lambda: pending_run(service, job["id"]), timeout=20, what="the run to wait for the daemon")
        killed_at = kill(leader)

    [run] = wait_for(lambda: executions(service, job["id"]), timeout=20, what="the triggered run")
    taken = f"jobctl: no daemon leads any more (the last leader was {socket.gethostname()} pid {leader.pid}): "
    taken += f"running execution {run['id']} in this process"
    wait_for(lambda: taken in err.read_text() or proc.poll() is not None, timeout=TTL + 15, what="the run taken over")
    took = time.monotonic() - killed_at
    assert taken in err.read_text(), err.read_text()
    assert took <= TTL + TAKE_OVER_SLACK, f"taken over {took:.1f}s after the kill, lease TTL {TTL}s"

    back = daemons.start()  # a daemon that comes back while the run goes on in the command leaves it to it
    out, _ = proc.communicate(timeout=30)
    said = err.read_text()
    assert proc.returncode == 0, said
    assert out == "done\n"
    assert ran.read_text() == "once\n", "run exactly once"
    [final] = executions(service, job["id"])
    assert final["status"] == "success" and final["instanceId"] not in (leader_instance, None), final
    warning, taken_line = said.splitlines()
    found = SILENT_LEADER.fullmatch(warning)
    assert found is not None and int(found["pid"]) == leader.pid, said
    assert taken_line == taken
    assert back.alive() and "orphaned execution " + run["id"] not in back.log()


def test_run_through_the_api_ends_with_exit_5_when_the_daemon_is_killed(
    service: Service, daemons: DaemonFactory, background: Background, tmp_path: Path, store_url: str
) -> None:
    """Through ``--api`` the command runs nothing itself: a daemon that has gone ends it with the
    client's error, naming the run it leaves, instead of a wait."""
    if not store_url.startswith("sqlite"):
        pytest.skip("the client's behaviour, independent of the store: checked on SQLite")
    daemons.config_path = write_config(tmp_path / "ttl.toml", lease_ttl_seconds=TTL, max_concurrent_runs=1)
    job = shell_job(service, "a", "echo ran", scheduleConfig={"hours": 1})
    daemon = daemons.start(api=True)
    store = open_store(store_url)
    try:
        secret, _ = create_token(store, f"op-{uuid.uuid4().hex[:6]}", "operator")
    finally:
        store.close()
    keep_busy(service, "busy")
    err = tmp_path / "run.err"
    proc = background.run(err, "--api", f"http://127.0.0.1:{daemon.port}", "--token", secret, "run", "a")
    run = wait_for(lambda: pending_run(service, job["id"]), timeout=20, what="the run to wait for the daemon")
    kill(daemon)
    out, _ = proc.communicate(timeout=20)
    said = err.read_text()
    assert (proc.returncode, out) == (5, ""), said
    left, error = said.splitlines()
    assert left == (
        f"jobctl: execution {run['id']} was not followed to its end (see jobctl executions show {run['id']} once a "
        "daemon answers)"
    )
    assert error.startswith(f"jobctl: cannot reach the jobctl API at http://127.0.0.1:{daemon.port}: "), said
    assert [e["status"] for e in executions(service, job["id"])] == ["pending"], "left to the daemons"


SILENT_RUNNER = re.compile(
    r"jobctl: warning: the daemon running execution (?P<id>\S+) \((?P<host>\S+) pid (?P<pid>\d+)\) has not "
    r"heartbeated for (?P<silent>\d+)s: its outcome is unknown; a daemon that leads records it failed \(abandoned\)"
)
WARN_SLACK = 2.5
"""Beyond two missed heartbeats (2.4 s at TTL 6): the command looks once a second, on a loaded machine."""


def test_run_says_once_when_the_daemon_running_its_run_is_killed_and_waits_for_the_record(
    service: Service, daemons: DaemonFactory, background: Background, tmp_path: Path
) -> None:
    """The daemon that started the run is killed: the command used to wait silently until a
    daemon led again and recorded the run abandoned. Now it says so once, two missed heartbeats
    later, goes on waiting, and ends with the abandoned run's outcome; it never runs it again."""
    daemons.config_path = write_config(tmp_path / "ttl.toml", lease_ttl_seconds=TTL)
    job = shell_job(service, "a", "echo started; sleep 60", scheduleConfig={"hours": 1})
    leader = daemons.start()
    wait_for(lambda: service.get_status()["leaderInstance"], timeout=10, what="a leader")
    err = tmp_path / "run.err"
    proc = background.run(err, "run", "a")
    [run] = wait_for(
        lambda: [e for e in executions(service, job["id"]) if e["status"] == "running"], timeout=20, what="the run"
    )
    killed_at = kill(leader)

    wait_for(lambda: SILENT_RUNNER.search(err.read_text()) or proc.poll() is not None, timeout=TTL + 10,
             what="the warning")  # fmt: skip
    took = time.monotonic() - killed_at
    found = SILENT_RUNNER.search(err.read_text())
    assert found is not None, err.read_text()
    assert (found["id"], found["host"], int(found["pid"])) == (run["id"], socket.gethostname(), leader.pid)
    assert took <= TTL * 2 / 5 + WARN_SLACK, f"warned {took:.1f}s after the kill, lease TTL {TTL}s"
    time.sleep(1.5)
    assert proc.poll() is None, "it waits for the record"

    daemons.start()  # leads once the dead leader's lease ends, and records the run abandoned
    proc.communicate(timeout=TTL + 30)
    said = err.read_text()
    abandoned = f"abandoned: the daemon running it ({socket.gethostname()} pid {leader.pid}) stopped heartbeating"
    assert proc.returncode == 1, said  # its output may not have reached the store before the kill
    warning, failed = said.splitlines()
    assert SILENT_RUNNER.fullmatch(warning), said
    assert failed == f"jobctl: run failed: {abandoned}; outcome unknown"
    [final] = executions(service, job["id"])
    assert (final["id"], final["status"]) == (run["id"], "failed"), "run once, recorded abandoned"
