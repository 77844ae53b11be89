"""What a Python callable's run ends as when it calls ``sys.exit`` or returns what JSON cannot
hold: ``jobctl run`` as a user runs it (a real subprocess, with and without a daemon), the
callable in its own interpreter (docs/python-callables.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from jobctl.models import TaskFunctionSpec
from jobctl.service import Service
from jobctl.store import Store
from tests.daemon.helpers import ROOT, DaemonFactory, executions

SAMPLES = "tests.daemon.sample_tasks"


def python_job(store: Store, service: Service, name: str, function: str, **args: Any) -> dict[str, Any]:
    """A job calling ``tests.daemon.sample_tasks:function`` with ``args``."""
    spec = TaskFunctionSpec(
        name=name, display_name=name, description=None, handler_type="python", handler_path=f"{SAMPLES}:{function}"
    )
    task = store.catalog.upsert_task_function(spec, datetime.now(UTC))
    body = {"name": name, "taskFunctionId": task.id, "jobTypeId": 1, "scheduleConfig": {"hours": 1}, "taskArgs": args}
    return service.create_job(body)


def jobctl_run(store_url: str, job: str) -> subprocess.CompletedProcess[str]:
    """``jobctl run JOB``, with the tests' folder importable (as a daemon's PYTHONPATH would make it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "jobctl", "--db", store_url, "run", job],
        capture_output=True, text=True, timeout=60, env=env, cwd=ROOT,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "code", "status", "error"),
    [
        ({"code": 3}, 3, "failed", "exit code 3"),
        ({"code": 0}, 0, "success", None),
        ({}, 0, "success", None),
        ({"code": "no input files"}, 1, "failed", "no input files"),
    ],
    ids=["exit-3", "exit-0", "exit-none", "exit-message"],
)
def test_sys_exit_in_a_callable_ends_the_run_as_it_ends_a_script(
    store: Store, service: Service, store_url: str, args: dict[str, Any], code: int, status: str, error: str | None
) -> None:
    job = python_job(store, service, "leaves", "exits", **args)
    result = jobctl_run(store_url, "leaves")
    assert result.returncode == code, result.stderr
    [run] = executions(service, job["id"])
    assert (run["status"], run["result"], run["errorMessage"]) == (status, {"exitCode": code}, error)
    assert "Traceback" not in result.stdout + result.stderr, "sys.exit is no exception of the callable"
    if error is not None:
        assert result.stderr == f"jobctl: run failed: {error}\n"


def test_sys_exit_under_a_daemon_is_the_exit_code_of_jobctl_run(
    store: Store, service: Service, store_url: str, daemons: DaemonFactory
) -> None:
    job = python_job(store, service, "leaves", "exits", code=5)
    daemons.start(extra_env={"PYTHONPATH": str(ROOT)})
    result = jobctl_run(store_url, "leaves")
    assert result.returncode == 5, result.stderr
    [run] = executions(service, job["id"])
    assert run["instanceId"] is not None and run["result"] == {"exitCode": 5}


@pytest.mark.parametrize(
    ("function", "words"),
    [
        ("returns_a_datetime", "Object of type datetime is not JSON serializable"),
        ("returns_an_object", "Object of type object is not JSON serializable"),
        ("returns_nan", "Out of range float values are not JSON compliant"),
    ],
)
def test_a_return_value_json_cannot_hold_is_named_as_such(
    store: Store, service: Service, store_url: str, function: str, words: str
) -> None:
    """The error used to be json's words followed by the cut tail of jobctl's own runner's
    traceback, naming neither the callable nor its return value."""
    job = python_job(store, service, "returns", function)
    result = jobctl_run(store_url, "returns")
    assert result.returncode == 1, result.stderr
    [run] = executions(service, job["id"])
    wanted = f"the return value of {SAMPLES}:{function} is not JSON: {words}"
    assert (run["status"], run["errorMessage"], run["result"]) == ("failed", wanted, None)
    assert result.stderr == f"jobctl: run failed: {wanted}\n"
    assert "Traceback" not in result.stdout


@pytest.mark.parametrize("under_a_daemon", [False, True], ids=["foreground", "daemon"])
def test_the_one_line_error_of_a_raised_exception_ends_with_its_message(
    store: Store, service: Service, store_url: str, daemons: DaemonFactory, under_a_daemon: bool
) -> None:
    """The line ended in the start of the traceback: "ValueError: kaput ü: Traceback (most recent
    call last):". The traceback stays in the error, on the lines after the exception's."""
    job = python_job(store, service, "raises", "kaput")
    if under_a_daemon:
        daemons.start(extra_env={"PYTHONPATH": str(ROOT)})
    result = jobctl_run(store_url, "raises")
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[-1] == "jobctl: run failed: ValueError: kaput ü", result.stderr
    [run] = executions(service, job["id"])
    assert run["errorMessage"].startswith("ValueError: kaput ü\nTraceback (most recent call last):\n"), run
    assert run["errorMessage"].endswith("ValueError: kaput ü"), "the traceback's end"
    listing = [sys.executable, "-m", "jobctl", "--db", store_url, "executions", "list", "--job", "raises"]
    listed = subprocess.run(listing, capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
    assert listed.stdout.splitlines()[1].rstrip().endswith("ValueError: kaput ü"), listed.stdout


def test_the_traceback_below_the_error_starts_at_the_start_of_a_line(
    store: Store, service: Service, store_url: str
) -> None:
    """The error keeps the traceback's last 1,000 characters; cut there, its second line began
    mid-word ("n3.11/site-packages/jobctl/executors/..."). It now starts at a line the output has whole."""
    job = python_job(store, service, "deep", "fails_deep_down", depth=40)
    result = jobctl_run(store_url, "deep")
    assert result.returncode == 1, result.stderr
    assert result.stderr == "jobctl: run failed: ValueError: deep down\n"
    [run] = executions(service, job["id"])
    first, *tail = run["errorMessage"].splitlines()
    traceback = service.get_execution_log(run["id"])["data"].strip().splitlines()
    assert first == "ValueError: deep down" and len(traceback) > len(tail) > 3
    assert tail == traceback[-len(tail) :], "whole lines: the traceback's last ones"
    assert len("\n".join(tail)) <= 1000 < len("\n".join(traceback[-len(tail) - 1 :]))
