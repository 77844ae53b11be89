"""The watchdog of a daemon killed with SIGKILL: TERM, grace, KILL for every group it was told of."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from jobctl.executors.process import KILL_GRACE_SECONDS
from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, shell_job, wait_for


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
