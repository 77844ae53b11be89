"""A daemon that fails to start has done nothing; one that fails later stops as SIGTERM stops it.

The API's address is bound before the daemon may take the lease: a port in use used to be found
after the scheduler had taken the lease and started runs, which were then killed unrecorded,
with the lease held for its TTL by a process that no longer existed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobctl.service import Service
from tests.daemon.helpers import ROOT, DaemonFactory, executions, shell_job, wait_for


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another process's socket listens on."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield int(busy.getsockname()[1])


def daemon_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
    return {**env, "PYTHONPATH": str(ROOT)}


def test_a_daemon_that_cannot_listen_runs_nothing_and_holds_no_lease(
    service: Service, daemons: DaemonFactory, busy_port: int, tmp_path: Path
) -> None:
    ran = tmp_path / "ran.txt"
    job = shell_job(service, "longp", f"echo started >> {ran}; sleep 30")  # a slot every second, and:
    triggered = service.trigger_job(job["id"])["executionId"]
    command = [sys.executable, "-m", "jobctl", "--db", daemons.store_url, "--config", str(daemons.config_path)]
    command += ["daemon", "--host", "127.0.0.1", "--port", str(busy_port)]
    failed = subprocess.run(command, capture_output=True, text=True, env=daemon_env(), timeout=60)

    assert failed.returncode == 2
    assert failed.stderr.splitlines() == [f"jobctl: cannot listen on 127.0.0.1:{busy_port}: Address already in use"]
    assert not ran.exists()
    assert [(e["id"], e["status"]) for e in executions(service, job["id"])] == [(triggered, "pending")]
    status = service.get_status()
    assert (status["isRunning"], status["instances"]) == (False, []), "it never joined the cluster"

    standby = daemons.start()  # starts leading at its first heartbeat: no lease left behind
    assert "started (leader: True)" in standby.log(), standby.log()
    wait_for(lambda: service.get_execution(triggered)["status"] == "running", timeout=10, what="the triggered run")


FAILING_ON_RELOAD = """
import sys
from jobctl.config import load_config
from jobctl.daemon.logs import configure_logging
from jobctl.daemon.process import Daemon
from jobctl.errors import StoreError
from jobctl.store import open_store

class FailingOnReload(Daemon):
    def _reload(self) -> None:
        raise StoreError("the store failed during a reload")

configure_logging("text")
FailingOnReload(open_store(sys.argv[1]), load_config(sys.argv[2]), listener=None, config_path=sys.argv[2]).run()
"""


def test_a_failure_after_the_start_stops_the_daemon_as_sigterm_does(
    service: Service, daemons: DaemonFactory, tmp_path: Path
) -> None:
    """Whatever fails once the scheduler runs (here: SIGHUP's reload) goes through SIGTERM's
    shutdown: the lease is handed over, the running run gets the grace period, then is stopped
    and recorded, and the instance is marked stopped."""
    config = daemons.config_path
    config.write_text(config.read_text().replace("shutdown_grace_seconds = 5", "shutdown_grace_seconds = 1"))
    started = tmp_path / "started.txt"
    job = shell_job(service, "longp", f"echo started >> {started}; sleep 30", scheduleConfig={"hours": 1})
    execution_id = service.trigger_job(job["id"])["executionId"]
    script = textwrap.dedent(FAILING_ON_RELOAD)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, daemons.store_url, str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=daemon_env(), cwd=ROOT,
    )  # fmt: skip
    try:
        wait_for(started.exists, timeout=30, what="the triggered run to start")
        proc.send_signal(signal.SIGHUP)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, output
    assert "the store failed during a reload" in output and "shutting down: handing over the lease" in output
    run = service.get_execution(execution_id)
    assert run["status"] != "running" and run["completedAt"] is not None, run
    status = service.get_status()
    assert (status["isRunning"], status["instances"]) == (False, []), "lease released, instance marked stopped"


def test_the_lease_is_not_held_back_by_the_api_server_s_start(daemons: DaemonFactory) -> None:
    """The daemon leads before its API serves: the app's start (0.5-1.5 s of imports) used to come
    first, and a ``jobs trigger`` made meanwhile warned that no daemon was running."""
    daemon = daemons.start(api=True)
    lines = daemon.log().splitlines()
    led = next(n for n, line in enumerate(lines) if "became leader" in line)
    serving = next(n for n, line in enumerate(lines) if "API listening on" in line)
    assert led < serving, daemon.log()
    assert _answers(f"http://127.0.0.1:{daemon.port}/healthz")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@pytest.mark.parametrize("port", ["0", "70000"])
def test_a_port_out_of_range_is_named_with_the_value_given(daemons: DaemonFactory, port: str) -> None:
    command = [sys.executable, "-m", "jobctl", "--db", daemons.store_url, "--config", str(daemons.config_path)]
    failed = subprocess.run([*command, "daemon", "--port", port], capture_output=True, text=True, env=daemon_env())
    assert (failed.returncode, failed.stderr) == (2, f"jobctl: --port must be between 1 and 65535, not {port}\n")
