"""``jobctl run`` of a ``celery_task`` job that the command runs itself (no daemon leads): it sends
the task with the config's ``[celery]`` settings, as a daemon would, to a real broker and a real
worker. It used to fail every such run with "celery_task needs [celery] broker_url in the
daemon's config", whatever the config said."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.celery.helpers import CeleryEnv, task_state
from tests.daemon.helpers import ROOT, executions, wait_for

pytest.importorskip("celery", reason="the jobctl[celery] extra is not installed")
pytestmark = pytest.mark.slow

LEASE_TTL = 6
"""The killed leader's lease, after which ``jobctl run`` runs the waiting run itself."""


def jobctl(env: CeleryEnv, config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``jobctl ARGS`` on the test's store with ``config``; its output as text."""
    variables = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
    variables.update({"JOBCTL_DB": env.store_url, "JOBCTL_CONFIG": str(config), "PYTHONPATH": str(ROOT)})
    return subprocess.run(
        [sys.executable, "-m", "jobctl", *args], capture_output=True, text=True, env=variables, timeout=timeout
    )


def test_run_without_a_daemon_sends_the_task_with_the_configs_celery_settings(env: CeleryEnv) -> None:
    job = env.job("adder", "add", taskArgs={"a": 2, "b": 3})
    config = env.config("jobctl.toml")
    ran = jobctl(env, config, "run", "adder")
    assert ran.returncode == 0, ran.stderr
    [run] = executions(env.service, job["id"])
    assert run["status"] == "success" and run["result"] == {"value": 5}, run
    assert run["errorMessage"] is None and run["triggeredBy"] == "manual"
    assert task_state(run["celeryTaskId"]) == "SUCCESS"
    assert f"tests.celery.tasks.add[{run['celeryTaskId']}] succeeded" in env.worker.log()
    assert env.service.get_status()["instances"] == [], "the command left the instance list"


def test_run_without_a_daemon_of_a_raising_task_says_its_exception_on_one_line(env: CeleryEnv) -> None:
    job = env.job("boom", "boom")
    ran = jobctl(env, env.config("jobctl.toml"), "run", "boom")
    assert ran.returncode == 1, ran.stderr
    assert ran.stderr == "jobctl: run failed: ValueError: boom from the worker\n"
    [run] = executions(env.service, job["id"])
    first, *rest = run["errorMessage"].splitlines()
    assert first == "ValueError: boom from the worker"
    assert rest[0] == "Traceback (most recent call last):", "the traceback's tail, below, cut at a line"
    assert rest[-1] == "ValueError: boom from the worker"
    assert run["celeryTaskId"] and task_state(run["celeryTaskId"]) == "FAILURE"


def test_run_takes_over_a_celery_run_once_the_killed_leaders_lease_ends(env: CeleryEnv) -> None:
    job = env.job("adder", "add", taskArgs={"a": 20, "b": 1})
    leader = env.start_daemon(lease_ttl_seconds=LEASE_TTL)
    wait_for(lambda: env.service.get_status()["leaderInstance"], timeout=10, what="a leader")
    leader.signal(signal.SIGKILL)
    leader.proc.wait(timeout=10)
    time.sleep(1)
    ran = jobctl(env, env.factories[0].config_path, "run", "adder", timeout=LEASE_TTL + 40)
    assert ran.returncode == 0, ran.stderr
    [run] = executions(env.service, job["id"])
    taken = f"jobctl: no daemon leads any more (the last leader was {socket.gethostname()} pid {leader.pid}): "
    assert taken + f"running execution {run['id']} in this process" in ran.stderr, ran.stderr
    assert run["status"] == "success" and run["result"] == {"value": 21}, run
    assert task_state(run["celeryTaskId"]) == "SUCCESS"
