"""The watchdog of a daemon killed with SIGKILL: TERM, grace, KILL for every group it was told of."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from jobctl.executors.process import KILL_GRACE_SECONDS
from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, executions, shell_job, wait_for, write_config


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_job_ignoring_sigterm_dies_with_a_daemon_killed_with_sigkill(
    service: Service, daemons: DaemonFactory, tmp_path: Path
) -> None:
    pid_file = tmp_path / "job.pid"
    job = shell_job(service, "stubborn", f"trap '' TERM; echo $$ > {pid_file}; sleep 600", scheduleConfig={"hours": 1})
    daemon = daemons.start()
    service.trigger_job(job["id"])
    wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), timeout=15, what="the job to start")
    pgid = int(pid_file.read_text())
    time.sleep(0.3)  # a reactor round: the watchdog has been told of the group
    daemon.signal(signal.SIGKILL)
    daemon.proc.wait(timeout=10)
    try:
        time.sleep(1.0)
        assert group_exists(pgid), "the job ignores SIGTERM: only the SIGKILL after the grace ends it"
        wait_for(lambda: not group_exists(pgid), timeout=KILL_GRACE_SECONDS + 3, what="the group to be killed")
    finally:
        if group_exists(pgid):
            os.killpg(pgid, signal.SIGKILL)


def test_a_foreground_run_killed_with_sigkill_takes_its_job_with_it(
    service: Service, daemons: DaemonFactory, tmp_path: Path
) -> None:
    """``jobctl run`` with no daemon leading runs the job itself. Killed with SIGKILL, it left the
    job running (its parent then init), while a daemon later recorded the run abandoned by "the
    daemon running it" and a next run could start beside the orphan. Its run's group is guarded
    by a watchdog as a daemon's are, and the record names what ran it."""
    pid_file = tmp_path / "job.pid"
    job = shell_job(service, "stubborn", f"trap '' TERM; echo $$ > {pid_file}; sleep 600", scheduleConfig={"hours": 1})
    daemons.config_path = write_config(tmp_path / "ttl.toml", lease_ttl_seconds=2, kill_grace_seconds=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
    env.update({"JOBCTL_DB": daemons.store_url, "JOBCTL_CONFIG": str(daemons.config_path)})
    runner = subprocess.Popen(
        [sys.executable, "-m", "jobctl", "run", "stubborn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=env,
    )  # fmt: skip
    pgid = 0
    try:
        wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), timeout=20, what="the job to start")
        pgid = int(pid_file.read_text())
        time.sleep(0.3)  # the runner's reactor has told the watchdog of the group
        runner.kill()
        runner.wait(timeout=10)
        time.sleep(0.5)
        assert group_exists(pgid), "the job ignores SIGTERM: only the SIGKILL after the grace ends it"
        wait_for(lambda: not group_exists(pgid), timeout=1 + 3, what="the group to be killed")
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=10)
        if pgid and group_exists(pgid):
            os.killpg(pgid, signal.SIGKILL)
    daemons.start()
    [run] = wait_for(
        lambda: [e for e in executions(service, job["id"]) if e["status"] == "failed"], timeout=15,
        what="the leader to record the run abandoned",
    )  # fmt: skip
    who = f"the jobctl run process ({socket.gethostname()} pid {runner.pid}) running it"
    assert run["errorMessage"] == f"abandoned: {who} stopped heartbeating; outcome unknown", run
