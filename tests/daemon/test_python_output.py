"""A Python callable's ``print()`` output while its run goes on: read live, and kept when the run
is timed out or cancelled. The callable's interpreter writes to a pipe, and Python buffers a
pipe's stdout in blocks, so it came only at exit: ``GET /executions/{id}/log`` gave "" for the
whole run, and a timeout or a cancel (SIGTERM, SIGKILL) lost it. The interpreter now runs with
``-u`` (docs/python-isolation.md)."""

from __future__ import annotations

import time

from jobctl.service import Service
from jobctl.store import Store
from tests.daemon.helpers import ROOT, DaemonFactory, executions, wait_for
from tests.daemon.test_python_outcomes import jobctl_run, python_job


def test_a_callables_print_is_read_while_it_runs_and_kept_when_it_is_cancelled(
    store: Store, service: Service, daemons: DaemonFactory
) -> None:
    job = python_job(store, service, "working", "prints_then_sleeps", seconds=60)
    daemons.start(extra_env={"PYTHONPATH": str(ROOT)})
    execution_id = service.trigger_job(job["id"])["executionId"]
    wait_for(lambda: service.get_execution(execution_id)["status"] == "running", timeout=10, what="the run to start")
    started = time.monotonic()
    wait_for(lambda: service.get_execution_log(execution_id)["data"], timeout=5, what="the print to be readable")
    assert time.monotonic() - started < 3, "readable within the store's flush interval, not at the end"
    assert service.get_execution_log(execution_id)["data"] == "started\n"
    run = service.cancel_execution(execution_id)
    assert run["status"] == "cancelled", run
    assert service.get_execution_log(execution_id)["data"] == "started\n", "kept after the cancel"


def test_a_callables_print_is_kept_when_it_times_out(store: Store, service: Service, store_url: str) -> None:
    job = python_job(store, service, "slow", "prints_then_sleeps", seconds=60)
    service.update_job(job["id"], {"timeoutSeconds": 1})
    result = jobctl_run(store_url, "slow")
    assert result.returncode == 124, result.stderr
    assert result.stdout == "started\n", "printed by jobctl run as it came"
    [run] = executions(service, job["id"])
    assert run["status"] == "timeout" and service.get_execution_log(run["id"])["data"] == "started\n"
