"""``jobctl run`` and ``jobctl executions tail -f``, as a user runs them, with and without a daemon."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, executions, shell_job, wait_for


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
    assert f"==> execution {execution_id}" in err and "<== success" in err
    snapshot = jobctl(store_url, "executions", "tail", execution_id)
    assert snapshot.stdout == f"start-{execution_id}\nend\n"
