"""Cancelling running runs for real: a daemon runs ``sleep``, another daemon or the CLI cancels.

Two daemons share one store per backend (module-scoped, to keep the suite fast): the first
leads and runs everything, the second is a standby serving the API, so a cancel through the
API reaches a process that is not the one running the run. ``[daemon] kill_grace_seconds`` is 1.
Ctrl-C on ``jobctl run`` is a real SIGINT to a real CLI process. See docs/cancelling-runs.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.service.tokens import create_token
from jobctl.store import Store, open_store
from tests.conftest import TEST_ZONE, Cli
from tests.daemon.helpers import DaemonFactory, DaemonProcess, executions, group_alive, wait_for, write_config

KILL_GRACE = 1


@dataclass
class Cluster:
    store: Store
    service: Service
    leader: DaemonProcess
    standby: DaemonProcess
    cli: Cli
    store_url: str

    def remote(self, *args: str, role: str = "operator", name: str | None = None) -> Any:
        token_name = name or f"{role}-{uuid.uuid4().hex[:6]}"
        secret, _ = create_token(self.store, token_name, role)
        return self.cli("--api", f"http://127.0.0.1:{self.standby.port}", "--token", secret, *args)


@pytest.fixture(scope="module")
def cluster(module_store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("cancel")
    config = write_config(workdir / "jobctl.toml", kill_grace_seconds=KILL_GRACE)
    factory = DaemonFactory(module_store_url, config, workdir)
    store = open_store(module_store_url)
    service = Service(store, Caller(user_id="tester", role=Role.ADMIN), default_timezone=TEST_ZONE)
    try:
        leader = factory.start()
        wait_for(lambda: service.get_status()["isRunning"], timeout=10, what="a leader")
        standby = factory.start(api=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
        env.update({"JOBCTL_DB": module_store_url, "JOBCTL_CONFIG": str(config), "COLUMNS": "200"})
        yield Cluster(store, service, leader, standby, Cli(env), module_store_url)
    finally:
        factory.stop_all()
        store.close()


@pytest.fixture
def cli_behaviour(module_store_url: str) -> None:
    """What a test checks is the CLI's, the same on either store: run it on SQLite only."""
    if not module_store_url.startswith("sqlite"):
        pytest.skip("the CLI's behaviour, independent of the store: checked on SQLite")


def sleeper(cluster: Cluster, tmp_path: Path, *, trap_term: bool = False, **fields: Any) -> tuple[dict[str, Any], Path]:
    """A job whose run writes its process group id to a file, then sleeps."""
    pidfile = tmp_path / "run.pid"
    trap = "trap '' TERM; " if trap_term else ""
    job = cluster.service.create_job({
        "name": f"sleeper-{uuid.uuid4().hex[:6]}", "taskFunctionId": 1, "jobTypeId": 1,
        "scheduleConfig": {"hours": 1}, "taskArgs": {"command": f"{trap}echo $$ > {pidfile}; sleep 600"}, **fields,
    })  # fmt: skip
    return job, pidfile


def started(cluster: Cluster, pidfile: Path) -> int:
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=10, what="the run to start")
    pgid = int(pidfile.read_text())
    assert group_alive(pgid)
    return pgid


def test_a_cancel_through_another_daemon_stops_the_run_records_who_and_does_not_retry(
    cluster: Cluster, tmp_path: Path
) -> None:
    job, pidfile = sleeper(cluster, tmp_path, retryCount=2, retryDelaySeconds=0)
    execution_id = cluster.service.trigger_job(job["id"])["executionId"]
    pgid = started(cluster, pidfile)
    leader = cluster.service.get_status()["leaderInstance"]
    assert leader is not None and cluster.service.get_execution(execution_id)["instanceId"] == leader["id"]
    begun = time.monotonic()
    result = cluster.remote("executions", "cancel", execution_id[:8], name=f"ops-{execution_id[:6]}")
    took = time.monotonic() - begun
    assert result.code == 0, result
    assert result.stdout.startswith(f"Cancelled execution {execution_id}: cancelled by ops-{execution_id[:6]}")
    assert took < KILL_GRACE + 3, "the running daemon confirmed the stop (no fallback)"
    wait_for(lambda: not group_alive(pgid), timeout=2, what="the rest of the process group to go")
    final = cluster.service.get_execution(execution_id)
    assert final["status"] == "cancelled" and final["cancelledBy"] == f"ops-{execution_id[:6]}"
    assert final["errorMessage"].startswith(f"cancelled by ops-{execution_id[:6]} (")  # how the process ended
    log = cluster.leader.log()
    assert f"stopping execution {execution_id}: cancelled by ops-" in log
    assert f"execution {execution_id}, cancelled" in log
    assert execution_id not in cluster.standby.log(), "the standby did not run it"
    time.sleep(1.0)  # a retry (delay 0) would have been queued and started by now
    assert [e["attempt"] for e in executions(cluster.service, job["id"])] == [1]
    assert cluster.service.get_job(job["id"])["lastStatus"] == "cancelled"


def test_the_local_cli_cancel_kills_a_run_that_ignores_sigterm_after_the_kill_grace(
    cluster: Cluster, tmp_path: Path, cli_behaviour: None
) -> None:
    job, pidfile = sleeper(cluster, tmp_path, trap_term=True)
    execution_id = cluster.service.trigger_job(job["id"])["executionId"]
    pgid = started(cluster, pidfile)
    begun = time.monotonic()
    result = cluster.cli("executions", "cancel", execution_id, "--json")
    took = time.monotonic() - begun
    assert result.code == 0, result
    assert KILL_GRACE * 0.9 <= took < KILL_GRACE + 3, took  # TERM ignored: KILL after the grace
    wait_for(lambda: not group_alive(pgid), timeout=2, what="the process group to go")
    import json

    answer = json.loads(result.stdout)
    assert answer["status"] == "cancelled" and answer["cancelledBy"].startswith("local:")
    assert answer == cluster.service.get_execution(execution_id)


def test_cancelling_an_ended_run_is_409_and_a_viewer_may_not_cancel(
    cluster: Cluster, tmp_path: Path, cli_behaviour: None
) -> None:
    job, pidfile = sleeper(cluster, tmp_path)
    execution_id = cluster.service.trigger_job(job["id"])["executionId"]
    pgid = started(cluster, pidfile)
    refused = cluster.remote("executions", "cancel", execution_id, role="viewer")
    assert refused.code == 5 and refused.stderr.count("\n") == 1, refused
    assert group_alive(pgid), "a refused cancel leaves the run alone"
    assert cluster.cli("executions", "cancel", execution_id).code == 0
    again = cluster.cli("executions", "cancel", execution_id)  # the API's 409: tests/remote
    assert again.code == 4, again
    assert again.stderr.count("\n") == 1 and "already ended (cancelled)" in again.stderr


def test_a_cancel_that_stopped_nothing_is_exit_4(cluster: Cluster, tmp_path: Path, cli_behaviour: None) -> None:
    """A run that ends ``success`` although asked to stop (here: it exits 0 on SIGTERM; as well
    one that succeeded just before its daemon saw the request) keeps its success, and the
    command said "ended success before it could be stopped" with exit 0, the code of a cancel
    that worked. Nothing was cancelled: exit 4, as for a run that had already ended."""
    pidfile = tmp_path / "run.pid"
    job = cluster.service.create_job({
        "name": f"graceful-{uuid.uuid4().hex[:6]}", "taskFunctionId": 1, "jobTypeId": 1,
        "scheduleConfig": {"hours": 1},
        "taskArgs": {"command": f"trap 'exit 0' TERM; echo $$ > {pidfile}; sleep 600 & wait"},
    })  # fmt: skip
    execution_id = cluster.service.trigger_job(job["id"])["executionId"]
    started(cluster, pidfile)
    result = cluster.cli("executions", "cancel", execution_id)
    assert result.code == 4, result
    assert result.stdout == ""
    assert result.stderr == (
        f"jobctl: execution {execution_id} ended success before it could be stopped; nothing was cancelled\n"
    )
    as_json = cluster.cli("executions", "cancel", execution_id, "--json")
    assert as_json.code == 4 and "already ended (success)" in as_json.stderr, as_json


def run_in_background(cluster: Cluster, job_name: str, store_url: str | None = None) -> subprocess.Popen[str]:
    env = dict(cluster.cli.env) if store_url is None else {**cluster.cli.env, "JOBCTL_DB": store_url}
    return subprocess.Popen([sys.executable, "-m", "jobctl", "run", job_name], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip


def test_ctrl_c_on_run_cancels_the_run_the_daemon_runs_and_exits_130(
    cluster: Cluster, tmp_path: Path, cli_behaviour: None
) -> None:
    job, pidfile = sleeper(cluster, tmp_path)
    proc = run_in_background(cluster, job["name"])
    pgid = started(cluster, pidfile)
    [run] = executions(cluster.service, job["id"])
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert f"cancelling execution {run['id']}" in err and f"execution {run['id']} cancelled" in err
    assert "Traceback" not in err
    wait_for(lambda: not group_alive(pgid), timeout=2, what="the process group to go")
    final = cluster.service.get_execution(run["id"])
    assert final["status"] == "cancelled" and final["cancelledBy"].startswith("local:")


def test_ctrl_c_on_run_in_remote_mode_cancels_through_the_api(
    cluster: Cluster, tmp_path: Path, cli_behaviour: None
) -> None:
    job, pidfile = sleeper(cluster, tmp_path)
    secret, _ = create_token(cluster.store, f"ctrl-c-{uuid.uuid4().hex[:6]}", "operator")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobctl", "--api", f"http://127.0.0.1:{cluster.standby.port}", "--token", secret,
         "run", job["name"]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.cli.env,
    )  # fmt: skip
    pgid = started(cluster, pidfile)
    [run] = executions(cluster.service, job["id"])
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert f"execution {run['id']} cancelled" in err and "Traceback" not in err
    wait_for(lambda: not group_alive(pgid), timeout=2, what="the process group to go")
    assert cluster.service.get_execution(run["id"])["cancelledBy"].startswith("ctrl-c-")


def test_a_second_ctrl_c_leaves_at_once_and_the_run_goes_on(
    cluster: Cluster, tmp_path: Path, cli_behaviour: None
) -> None:
    job, pidfile = sleeper(cluster, tmp_path, trap_term=True)  # its stop takes the whole kill grace
    proc = run_in_background(cluster, job["name"])
    pgid = started(cluster, pidfile)
    [run] = executions(cluster.service, job["id"])
    os.kill(proc.pid, signal.SIGINT)
    wait_for(lambda: cluster.service.get_execution(run["id"])["cancelledBy"], timeout=5, what="the cancel request")
    os.kill(proc.pid, signal.SIGINT)
    begun = time.monotonic()
    _, err = proc.communicate(timeout=15)
    assert time.monotonic() - begun < 0.5 * KILL_GRACE, "left without waiting for the stop"
    assert proc.returncode == 130, err
    assert f"leaving at once; execution {run['id']} goes on" in err and "Traceback" not in err
    assert cluster.service.get_execution(run["id"])["status"] == "running"
    wait_for(lambda: not group_alive(pgid), timeout=KILL_GRACE + 3, what="the daemon to finish the stop")
    wait_for(lambda: cluster.service.get_execution(run["id"])["status"] == "cancelled", timeout=3, what="the record")


def test_ctrl_c_on_a_foreground_run_cancels_it(sqlite_url: str, tmp_path: Path) -> None:
    """No daemon: ``jobctl run`` runs the job itself, and its own runner stops it on Ctrl-C."""
    store = open_store(sqlite_url)
    try:
        service = Service(store, Caller(user_id="tester", role=Role.ADMIN), default_timezone=TEST_ZONE)
        pidfile = tmp_path / "run.pid"
        job = service.create_job({"name": "fg", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
                                  "taskArgs": {"command": f"echo started; echo $$ > {pidfile}; sleep 600"}},
                                 )  # fmt: skip
        config = write_config(tmp_path / "jobctl.toml", kill_grace_seconds=KILL_GRACE)
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
        env.update({"JOBCTL_DB": sqlite_url, "JOBCTL_CONFIG": str(config)})
        proc = subprocess.Popen([sys.executable, "-m", "jobctl", "run", "fg"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
        wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=10, what="the run to start")
        pgid = int(pidfile.read_text())
        os.kill(proc.pid, signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            raise AssertionError(f"hung; stderr: {err!r}; runs: {executions(service, job['id'])}") from None
        assert proc.returncode == 130, err
        [run] = executions(service, job["id"])
        assert run["status"] == "cancelled" and run["cancelledBy"].startswith("local:"), run
        assert f"cancelling execution {run['id']}" in err and "Traceback" not in err
        assert service.get_execution_log(run["id"])["data"] == "started\n", "its output until then is kept"
        wait_for(lambda: not group_alive(pgid), timeout=2, what="the process group to go")
        assert service.get_status()["instances"] == [], "the foreground run left the instance list"
    finally:
        store.close()
