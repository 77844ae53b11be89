"""Deleting a job whose run is active: refused, or with force stopped and recorded first (real daemon, real store).

The run is a real ``sleep 600`` in its own process group; the CLI is a real subprocess, on the
store or through the daemon's API (``--api``). See docs/deleting-jobs.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from jobctl.errors import ExecutionGone, NotFound
from jobctl.service import Service
from jobctl.service.job_delete import STOP_WAIT_SECONDS
from jobctl.service.tokens import create_token
from jobctl.store import Store
from tests.conftest import Cli
from tests.daemon.helpers import DaemonFactory, DaemonProcess, executions, group_alive, wait_for


def start_sleeper(service: Service, daemons: DaemonFactory, tmp_path: Path, *, trap_term: bool = False) -> tuple[
    DaemonProcess, dict[str, Any], str, int
]:  # fmt: skip
    """A daemon running ``sleep 600`` for job ``sleeper``: (daemon, job, execution id, process group)."""
    pidfile = tmp_path / "sleeper.pid"
    trap = "trap '' TERM; " if trap_term else ""
    job = service.create_job({
        "name": "sleeper", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
        "taskArgs": {"command": f"{trap}echo $$ > {pidfile}; sleep 600"},
    })  # fmt: skip
    daemon = daemons.start(api=True)
    execution_id = service.trigger_job(job["id"])["executionId"]
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=10, what="the run to start")
    pgid = int(pidfile.read_text())
    assert service.get_execution(execution_id)["status"] == "running"
    assert group_alive(pgid)
    return daemon, job, execution_id, pgid


@pytest.fixture(params=["local", "remote"])
def jobctl(request: pytest.FixtureRequest, cli: Cli, store: Store) -> Any:
    """The CLI on the store, or through the daemon's API with an admin token (``--api``)."""

    def call(daemon: DaemonProcess, *args: str) -> Any:
        if request.param == "local":
            return cli(*args)
        secret, _ = create_token(store, f"admin-{time.monotonic_ns()}", "admin")
        return cli("--api", f"http://127.0.0.1:{daemon.port}", "--token", secret, *args)

    call.mode = request.param  # type: ignore[attr-defined]
    return call


def test_delete_of_a_running_job_is_refused_then_forced_stops_records_and_deletes(
    service: Service, daemons: DaemonFactory, tmp_path: Path, jobctl: Any
) -> None:
    daemon, job, execution_id, pgid = start_sleeper(service, daemons, tmp_path)

    refused = jobctl(daemon, "jobs", "delete", "sleeper")
    assert refused.code == 4, refused
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert f"{execution_id} (running)" in refused.stderr and "--force" in refused.stderr
    assert group_alive(pgid), "a refused delete leaves the run alone"
    assert service.get_job(job["id"])["name"] == "sleeper"
    assert service.get_execution(execution_id)["status"] == "running"

    begun = time.monotonic()
    forced = jobctl(daemon, "jobs", "delete", "sleeper", "--force")
    took = time.monotonic() - begun
    assert forced.code == 0, forced
    assert took < STOP_WAIT_SECONDS, "the daemon confirmed the stop (no waiting for the fallback)"
    wait_for(lambda: not group_alive(pgid), timeout=3, what="the process group to be gone")
    with pytest.raises(NotFound):
        service.get_job(job["id"])
    with pytest.raises(NotFound):  # its history goes with the job, as for any delete
        service.get_execution(execution_id)
    who = "local:" if jobctl.mode == "local" else "admin-"
    with pytest.raises(ExecutionGone) as gone:  # but the run it ended is told, for whoever follows it
        service.get_execution(execution_id)
    assert gone.value.record["status"] == "failed" and gone.value.record["jobName"] == "sleeper"
    assert gone.value.record["errorMessage"].startswith(f"stopped: job 'sleeper' deleted by {who}")
    for command in ("show", "tail"):
        shown = jobctl(daemon, "executions", command, execution_id)
        assert shown.code == 3 and shown.stderr.count("\n") == 1, shown
        told = f"execution '{execution_id}' was deleted with its job 'sleeper'; it had ended failed: stopped: job "
        assert told in shown.stderr, shown.stderr
    log = daemon.log()
    assert f"stopping execution {execution_id}: stopped: job 'sleeper' deleted by {who}" in log
    assert f"run finished: job sleeper, execution {execution_id}, failed" in log


def test_a_forced_delete_kills_a_run_that_ignores_sigterm_after_the_grace(
    service: Service, daemons: DaemonFactory, tmp_path: Path
) -> None:
    daemon, job, execution_id, pgid = start_sleeper(service, daemons, tmp_path, trap_term=True)
    begun = time.monotonic()
    service.delete_job(job["id"], force=True)
    took = time.monotonic() - begun
    assert 4.5 <= took < STOP_WAIT_SECONDS, took  # TERM ignored: SIGKILL after the 5 s grace
    wait_for(lambda: not group_alive(pgid), timeout=3, what="the process group to be gone")
    with pytest.raises(NotFound):
        service.get_job(job["id"])
    assert f"run finished: job sleeper, execution {execution_id}, failed" in daemon.log()


def test_a_run_whose_job_vanished_behind_the_daemons_back_is_killed(
    service: Service, store: Store, daemons: DaemonFactory, tmp_path: Path
) -> None:
    """However a job goes (an old jobctl, a hand-written DELETE), its runs must not live on unseen."""
    daemon, job, execution_id, pgid = start_sleeper(service, daemons, tmp_path)
    with store.transaction():
        store.jobs.delete(job["id"])  # the execution goes with it (ON DELETE CASCADE)
        store.cluster.bump_generation()
    wait_for(lambda: not group_alive(pgid), timeout=5, what="the orphaned run's process group to be killed")
    assert f"stopping execution {execution_id}: stopped: its execution no longer exists" in daemon.log()


LOOP = "for i in $(seq 1 60); do echo $i; sleep 1; done"
STOPPED = "jobctl: run failed: stopped: job 'longrun3' deleted by tester (killed by SIGTERM)"


def is_running(service: Service, job_id: str) -> bool:
    runs = executions(service, job_id)
    return bool(runs) and runs[0]["status"] == "running"


def _read_lines(process: subprocess.Popen[str]) -> tuple[list[str], threading.Thread]:
    """The lines ``process`` prints, gathered as they come by a thread of their own: a test can
    wait for the first before it acts, whatever the machine's load."""
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        lines.extend(iter(process.stdout.readline, ""))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return lines, reader


@pytest.mark.parametrize("mode", ["daemon", "daemon-api", "foreground"])
def test_jobctl_run_whose_job_is_force_deleted_says_the_stop_and_exits_1_every_time(
    service: Service, store: Store, store_url: str, daemons: DaemonFactory, mode: str
) -> None:
    """The follower reads its run every 0.25 s; the record of the stop lived some 50 ms before the
    delete took it: most tries said "no execution '...'" (exit 3), the rest the stop (exit 1).
    Now the delete keeps the run's last record, so every try ends the same way, as a run
    cancelled by someone else does (exit 1). A few tries each, as the old answer depended on
    when the follower looked."""
    where = ["--db", store_url]
    if mode != "foreground":
        daemon = daemons.start(api=True)
        if mode == "daemon-api":
            secret, _ = create_token(store, "runner", "operator")
            where = ["--api", f"http://127.0.0.1:{daemon.port}", "--token", secret]
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_")}
    for attempt in range(3):
        job = service.create_job({
            "name": "longrun3", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"days": 1},
            "taskArgs": {"command": LOOP},
        })  # fmt: skip
        follower = subprocess.Popen(
            [sys.executable, "-m", "jobctl", *where, "run", "longrun3"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        printed, reader = _read_lines(follower)
        try:
            wait_for(partial(is_running, service, job["id"]), timeout=15, what="the run to start")
            wait_for(partial(len, printed), timeout=15, what="the follower to print the run's first line")
            time.sleep(0.3 * attempt)  # the delete at another moment of the follower's reads
            service.delete_job(job["id"], force=True)
            follower.wait(timeout=30)
            assert follower.stderr is not None
            err = follower.stderr.read()
            reader.join(timeout=10)
        finally:
            if follower.poll() is None:
                follower.kill()
                follower.wait()
        out = "".join(printed)
        assert (follower.returncode, err.splitlines()[-1]) == (1, STOPPED), (attempt, err)
        assert "Traceback" not in err and out.startswith("1\n"), (out, err)
