"""The daemon as a process: config reload on SIGHUP, JSON logs, clear errors at start-up."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, wait_for

TASK = """
[[task_functions]]
name = "{name}"
handler_type = "command"
handler_path = "true"
"""


def test_sighup_reloads_the_config_and_syncs_task_functions(service: Service, daemons: DaemonFactory) -> None:
    daemons.config_path.write_text(daemons.config_path.read_text() + TASK.format(name="first"))
    daemon = daemons.start()
    names = lambda: {tf["name"]: tf["isActive"] for tf in service.list_task_functions()["taskFunctions"]}  # noqa: E731
    assert names() == {"shell": True, "first": True}
    daemons.config_path.write_text(daemons.config_path.read_text().replace('"first"', '"second"'))
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: names() == {"shell": True, "first": False, "second": True}, timeout=5, what="the reload")
    daemons.config_path.write_text("this is [not toml")
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: "config reload failed" in daemon.log(), timeout=5, what="the failed reload to be logged")
    assert daemon.alive(), "a bad config edit must not stop a running daemon"


def test_sighup_applies_history_settings_and_logs_them(daemons: DaemonFactory) -> None:
    """[history] is read by the leader's pruner at every pass: a reload changes it, and the log
    says what is now kept, so an operator can see that it took."""
    daemon = daemons.start()
    daemons.config_path.write_text(
        daemons.config_path.read_text() + "\n[history]\nkeep_days = 7\nkeep_per_job = 3\naudit_keep_days = 30\n"
    )
    daemon.signal(signal.SIGHUP)
    wanted = "[history] keep_days = 7, keep_per_job = 3, output_keep_days = 30, audit_keep_days = 30"
    wait_for(lambda: wanted in daemon.log(), timeout=5, what="the reload's log line")


def test_json_logs_are_one_object_per_line(store_url: str, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobctl", "--db", store_url, "daemon", "--no-api", "--log-format", "json"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = json.loads(proc.stderr.readline())
    proc.send_signal(signal.SIGTERM)
    rest = proc.stderr.read()
    assert proc.wait(timeout=30) == 0
    records = [first, *(json.loads(line) for line in rest.splitlines())]
    assert {"time", "level", "logger", "message"} <= set(first)
    assert records[-1]["message"] == "stopped"


def test_a_port_in_use_is_one_clear_line(store_url: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "jobctl", "--db", store_url, "daemon", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("jobctl:")]
    assert errors == [f"jobctl: cannot listen on 127.0.0.1:{port}: Address already in use"]
    assert "Traceback" not in result.stderr


def test_the_daemon_refuses_api_mode(store_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jobctl", "--api", "http://127.0.0.1:9", "daemon"], capture_output=True, text=True
    )
    assert result.returncode == 2 and result.stderr.startswith(
        "jobctl: jobctl daemon works on the store, not through the API"
    )
