"""``jobctl run`` and ``jobctl executions tail -f``, as a user runs them, with and without a daemon."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, executions, parse, shell_job, wait_for


def jobctl(store_url: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobctl", "--db", store_url, *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    "command,timeout,code,status",
    [
        ("echo out; echo err >&2; exit 0", None, 0, "success"),
        ("echo partial; exit 3", None, 3, "failed"),
        ("sleep 30", 1, 124, "timeout"),
    ],
    ids=["success", "exit-3", "timeout"],
)
def test_run_without_a_daemon_runs_in_the_foreground(
    service: Service, store_url: str, command: str, timeout: int | None, code: int, status: str
) -> None:
    job = shell_job(service, "fg", command, scheduleConfig={"hours": 1}, timeoutSeconds=timeout)
    result = jobctl(store_url, "run", "fg")
    assert result.returncode == code, result.stderr
    [run] = executions(service, job["id"])
    assert run["status"] == status and run["triggeredBy"] == "manual"
    assert service.get_execution_log(run["id"])["data"] == result.stdout, "streamed exactly the recorded output"
    if status == "success":
        assert result.stdout == "out\nerr\n" or sorted(result.stdout.splitlines()) == ["err", "out"]
        assert result.stderr == ""
    else:
        assert result.stderr.startswith(f"jobctl: run {status}:") and len(result.stderr.splitlines()) == 1
    assert service.get_status()["instances"] == [], "the foreground run left the instance list"


def test_run_with_a_daemon_is_run_by_the_daemon(service: Service, daemons: DaemonFactory, store_url: str) -> None:
    shell_job(service, "via-daemon", "echo from daemon; exit 5", scheduleConfig={"hours": 1})
    daemon = daemons.start()
    wait_for(lambda: service.get_status()["isRunning"], timeout=5, what="a leader")
    result = jobctl(store_url, "run", "via-daemon")
    assert result.returncode == 5
    assert result.stdout == "from daemon\n"
    [run] = service.list_executions()["executions"]
    assert run["instanceId"] == service.get_status()["leaderInstance"]["id"]
    assert daemon.alive()


def test_executions_tail_follows_new_runs_live(service: Service, daemons: DaemonFactory, store_url: str) -> None:
    job = shell_job(
        service, "chatty", "echo start-$JOBCTL_EXECUTION_ID; sleep 0.6; echo end", scheduleConfig={"hours": 1}
    )
    daemons.start()
    tail = subprocess.Popen(
        [sys.executable, "-m", "jobctl", "--db", store_url, "executions", "tail", "chatty", "-f"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)
        execution_id = service.trigger_job(job["id"])["executionId"]
        wait_for(lambda: service.get_execution(execution_id)["status"] == "success", timeout=10, what="the run")
        time.sleep(1.0)
    finally:
        os.kill(tail.pid, signal.SIGINT)
        out, err = tail.communicate(timeout=10)
    assert f"start-{execution_id}\nend\n" in out
    assert f"==> {execution_id[:8]} chatty (manual) started " in err and "<== success in " in err
    snapshot = jobctl(store_url, "executions", "tail", execution_id)
    assert snapshot.stdout == f"start-{execution_id}\nend\n"


def test_tail_follow_of_a_busy_job_starts_at_its_latest_runs(
    service: Service, daemons: DaemonFactory, store_url: str
) -> None:
    """``tail JOB -f -n 2`` shows the two latest runs, then only runs that start later: never the
    older history again as if it were new."""
    job = shell_job(service, "busy", "echo run-$JOBCTL_EXECUTION_ID", scheduleConfig={"seconds": 1})
    daemons.start()
    wait_for(lambda: len(executions(service, job["id"])) >= 6, timeout=20, what="six runs of the busy job")
    began = datetime.now(UTC)
    tail = subprocess.Popen(
        [sys.executable, "-m", "jobctl", "--db", store_url, "executions", "tail", "busy", "-f", "-n", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(4.5)
    finally:
        os.kill(tail.pid, signal.SIGINT)
        out, err = tail.communicate(timeout=10)
    ended = datetime.now(UTC)
    shown = [line.split()[1] for line in err.splitlines() if line.startswith("==> ")]
    runs = {run["id"][:8]: run for run in executions(service, job["id"]) if run["startedAt"]}
    assert len(shown) == len(set(shown)), f"a run was shown twice: {err}"
    older = [short for short in shown if parse(runs[short]["startedAt"]) < began]
    assert len(older) <= 2, f"replayed {len(older)} runs that started before tail -f:\n{err}"
    assert shown == sorted(shown, key=lambda short: runs[short]["startedAt"]), "in the order they started"
    window = [short for short, run in runs.items()
              if began + timedelta(seconds=2) < parse(run["startedAt"]) < ended - timedelta(seconds=1.5)]  # fmt: skip
    assert window and set(window) <= set(shown), f"runs that started while following were missed:\n{err}"
    for short in shown:
        assert f"run-{runs[short]['id']}" in out
