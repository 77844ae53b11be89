"""``jobctl run`` with no daemon leading sends its run's notifications itself before it exits,
exactly once, and leaves a failed one pending for a daemon to retry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from jobctl.store import open_store
from tests.daemon.helpers import free_port
from tests.notify.helpers import SECRET, HttpReceiver


def _cli(tmp_path: Path, port: int) -> Any:
    config = tmp_path / "jobctl.toml"
    config.write_text(
        f'[[notifiers]]\nname = "hook"\ntype = "webhook"\nurl = "http://127.0.0.1:{port}/{{job_name}}/{{event}}"\n'
        f'secret = "{SECRET}"\ntimeout = 2\n'
    )
    db = f"sqlite:///{tmp_path / 'jobctl.db'}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    env.update({"JOBCTL_DB": db, "JOBCTL_CONFIG": str(config)})

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "jobctl", *args], capture_output=True, text=True, env=env,
                              timeout=60)  # fmt: skip

    return cli, db


def test_a_foreground_run_sends_its_failure_and_start_once(tmp_path: Path) -> None:
    receiver = HttpReceiver().start()
    try:
        cli, db = _cli(tmp_path, receiver.port)
        created = cli("jobs", "create", "backup", "--command", "echo copying; exit 3", "--every", "1h",
                      "--notify", "hook:start,failure", "--json")  # fmt: skip
        assert created.returncode == 0, created.stderr
        run = cli("run", "backup")
        assert run.returncode == 3 and "copying" in run.stdout
        assert "notification" not in run.stderr, run.stderr
        got = sorted((r.path, r.json()["event"], r.signature_ok) for r in receiver.received)
        assert got == [("/backup/failure", "failure", True), ("/backup/start", "start", True)]
        failure = next(r.json() for r in receiver.received if r.path == "/backup/failure")
        assert failure["execution"]["exitCode"] == 3 and "copying" in failure["outputTail"]
        listed = json.loads(cli("notifications", "list", "--json").stdout)["notifications"]
        assert sorted((d["event"], d["status"], d["attempts"]) for d in listed) == [
            ("failure", "sent", 1), ("start", "sent", 1)
        ]  # fmt: skip
    finally:
        receiver.stop()
    store = open_store(db)
    try:
        assert (
            store.deliveries.claim_of_execution(
                failure["execution"]["id"], notifier="hook", now=_now(), until=_now(), instance_id="x"
            )
            == []
        )  # nothing left for a daemon to send again
    finally:
        store.close()


def test_a_failed_send_is_said_and_left_pending_for_a_daemon(tmp_path: Path) -> None:
    port = free_port()  # nobody listens
    cli, _db = _cli(tmp_path, port)
    assert cli("jobs", "create", "nightly", "--command", "true", "--every", "1h",
               "--notify", "hook:success").returncode == 0  # fmt: skip
    run = cli("run", "nightly")
    assert run.returncode == 0
    [line] = [line for line in run.stderr.splitlines() if "notification" in line]
    assert line.startswith("jobctl: success notification to hook failed (a daemon will retry it): ")
    assert "Traceback" not in run.stderr and SECRET not in run.stderr
    [delivery] = json.loads(cli("notifications", "list", "--json").stdout)["notifications"]
    assert (delivery["event"], delivery["status"], delivery["attempts"]) == ("success", "pending", 1)
    assert delivery["lastError"]


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
