"""Real ``jobctl daemon`` processes on a real store, and helpers to wait for what they do."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jobctl.service import Service

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DaemonProcess:
    proc: subprocess.Popen[bytes]
    log_path: Path
    port: int | None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.proc.pid, sig)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait; a daemon still there after ``timeout`` is made to print every
        thread's stack (``PYTHONFAULTHANDLER`` is set for it) into the failure's message."""
        self.signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGABRT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(timeout=10)
            raise AssertionError(
                f"the daemon did not stop within {timeout}s; its log:\n{self.log()[-20000:]}"
            ) from None


@dataclass
class DaemonFactory:
    """Starts daemons on one store with one config; stops all of them at the end."""

    store_url: str
    config_path: Path
    workdir: Path
    started: list[DaemonProcess] = field(default_factory=list)

    def start(
        self,
        *,
        api: bool = False,
        extra_env: dict[str, str] | None = None,
        cwd: Path = ROOT,
        python_flags: tuple[str, ...] = (),
        user: str | None = None,
        python: str = sys.executable,
        config_option: bool = True,
    ) -> DaemonProcess:
        """``config_option=False``: no ``--config``, as the system service starts it; the daemon
        then reads the config's default places (``extra_env`` may point ``XDG_CONFIG_HOME`` at one)."""
        port = free_port() if api else None
        args = [python, *python_flags, "-m", "jobctl", "--db", self.store_url]
        args += ["--config", str(self.config_path), "daemon"] if config_option else ["daemon"]
        args += ["--host", "127.0.0.1", "--port", str(port)] if api else ["--no-api"]
        if user is not None:  # a daemon that is not root (the test runs as root)
            args = ["runuser", "-u", user, "--", *args]
        log_path = self.workdir / f"daemon-{len(self.started)}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
        env["PYTHONPATH"] = str(ROOT)
        env["PYTHONFAULTHANDLER"] = "1"  # SIGABRT prints every thread's stack: see DaemonProcess.stop
        env.update(extra_env or {})
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(cwd))
        daemon = DaemonProcess(proc, log_path, port)
        self.started.append(daemon)
        ready = "API listening on" if api else "started (leader"  # the API starts after the scheduler
        wait_for(lambda: ready in daemon.log() or not daemon.alive(), timeout=20, what="daemon start")
        assert daemon.alive(), daemon.log()
        return daemon

    def stop_all(self) -> None:
        for daemon in self.started:
            if daemon.alive():
                daemon.signal(signal.SIGKILL if daemon.proc.returncode is not None else signal.SIGTERM)
                try:
                    daemon.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    daemon.signal(signal.SIGKILL)
                    daemon.proc.wait(timeout=10)


def write_config(path: Path, *, misfire_grace_seconds: float = 1, **daemon_settings: Any) -> Path:
    lines = ["[scheduler]", 'timezone = "UTC"', f"misfire_grace_seconds = {misfire_grace_seconds:g}", "[daemon]"]
    settings = {"lease_ttl_seconds": 15, "shutdown_grace_seconds": 5, **daemon_settings}
    lines += [f"{key} = {value!r}" if isinstance(value, str) else f"{key} = {value}" for key, value in settings.items()]
    path.write_text("\n".join(lines).replace("'", '"') + "\n")
    return path


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def unique_sleep() -> str:
    """A duration for ``sleep`` (13 to 16 minutes) that names one test's processes for ``pgrep -f``:
    a fixed-length random fraction, so no other test's marker contains it, not even when the
    same test runs beside itself (another parameter, another worktree)."""
    return f"{800 + secrets.randbelow(200)}.{secrets.randbelow(10**9):09d}"


def executions(service: Service, job_id: str) -> list[dict[str, Any]]:
    """All executions of a job, oldest first."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        data = service.list_executions(job_id=job_id, page=page, per_page=100)
        found.extend(data["executions"])
        if len(found) >= data["total"] or not data["executions"]:
            return list(reversed(found))
        page += 1


def parse(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value)


def shell_job(service: Service, name: str, command: str, **fields: Any) -> dict[str, Any]:
    body = {
        "name": name,
        "taskFunctionId": 1,
        "jobTypeId": 1,
        "scheduleConfig": {"seconds": 1},
        "taskArgs": {"command": command},
        **fields,
    }
    return service.create_job(body)


def cli(factory: DaemonFactory, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m jobctl ARGS`` on the factory's store and config (``token`` as ``$JOBCTL_TOKEN``),
    with no other ``JOBCTL_`` setting of the calling shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
    env.update({"JOBCTL_DB": factory.store_url, "JOBCTL_CONFIG": str(factory.config_path)})
    if token is not None:
        env["JOBCTL_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "jobctl", *args], capture_output=True, text=True, env=env, timeout=120)


def with_default_action(signum: int) -> Callable[[], None]:
    """A ``preexec_fn`` giving ``signum`` its default action in the child: a test run under
    ``nohup`` (SIGHUP ignored) would otherwise start ``jobctl run`` with the signal ignored, which
    it keeps ignored as a command started so must."""

    def reset() -> None:
        signal.signal(signum, signal.SIG_DFL)

    return reset


def group_alive(pgid: int) -> bool:
    """Whether any process of the process group ``pgid`` is still there."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
