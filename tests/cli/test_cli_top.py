"""``jobctl top``: the live view in a real terminal (a pty), the one-shot snapshot into a pipe,
its JSON, and what it shows of runs going on, failures and missed ranges."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobctl.cli.top_view import overview_lines
from jobctl.models import ExecutionStatus, TriggeredBy
from jobctl.service import Service
from jobctl.service.overview import overview
from jobctl.store import open_store
from jobctl.store.writes import NewExecution
from tests.conftest import ADMIN, TEST_ZONE


def _job(service: Service, name: str, **fields: object) -> str:
    body = {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
            "taskArgs": {"command": "true"}, **fields}  # fmt: skip
    return str(service.create_job(body)["id"])


@pytest.fixture
def local(tmp_path: Path) -> tuple[str, Service]:
    url = f"sqlite:///{tmp_path / 'jobctl.db'}"
    return url, Service(open_store(url), ADMIN, default_timezone=TEST_ZONE)


def _env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "jobctl.toml"
    config.write_text(f'[scheduler]\ntimezone = "{TEST_ZONE}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_")}
    return {**env, "JOBCTL_CONFIG": str(config), "TZ": "UTC", "PYTHONPATH": str(Path(__file__).parents[2])}


class Terminal:
    """``jobctl ARGS`` with stdin, stdout and stderr on one pseudo-terminal, as a person runs it."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.fd, child = pty.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.proc = subprocess.Popen([sys.executable, "-m", "jobctl", *args], stdin=child, stdout=child, stderr=child,
                                     env={**env, "TERM": "xterm"}, start_new_session=True)  # fmt: skip
        os.close(child)
        self.screen = b""

    def wait_for(self, text: str, timeout: float = 15, *, fresh: bool = True) -> None:
        """Read the terminal until ``text`` was drawn: since this call (``fresh``), or ever."""
        seen = len(self.screen) if fresh else 0
        deadline = time.monotonic() + timeout
        while text.encode() not in self.screen[seen:]:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never drawn; the screen got: {self.screen[seen:][-2000:]!r}"
            if select.select([self.fd], [], [], left)[0]:
                self.screen += os.read(self.fd, 65536)

    def drain(self) -> None:
        """Read what is left once the program ended."""
        while select.select([self.fd], [], [], 0.5)[0]:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # EIO: every writer closed the terminal
                return
            if not chunk:
                return
            self.screen += chunk

    def press(self, key: bytes) -> None:
        os.write(self.fd, key)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self.fd)


def test_top_draws_in_a_terminal_refreshes_and_quits_on_q(local: tuple[str, Service], tmp_path: Path) -> None:
    url, service = local
    _job(service, "alpha-job")
    terminal = Terminal(_env(tmp_path), "--db", url, "top", "--interval", "0.2")
    try:
        for drawn in ("NEXT SLOTS", "alpha-job", "q: quit"):
            terminal.wait_for(drawn, fresh=False)
        terminal.wait_for("\x1b[1;", timeout=15)  # redrawn: the clock on the first line moves on
        _job(service, "bravo-job")  # another process changes the store: the next refresh shows it
        terminal.wait_for("bravo-job", timeout=15)
        terminal.press(b"q")
        assert terminal.proc.wait(timeout=5) == 0
        terminal.drain()
        assert b"\x1b[?1049l" in terminal.screen or b"\x1b[?47l" in terminal.screen, "the screen was restored"
    finally:
        terminal.close()


def test_top_into_a_pipe_prints_one_snapshot(local: tuple[str, Service], tmp_path: Path) -> None:
    url, service = local
    _job(service, "alpha-job")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "jobctl", "--db", url, "top"], capture_output=True, text=True,
                            env=_env(tmp_path), timeout=30)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 10
    lines = result.stdout.splitlines()
    assert lines[1] == "scheduler: NO LEADER: jobs are not being scheduled"
    for title in ("INSTANCES (0)", "RUNNING NOW (0)", "NEXT SLOTS", "RECENT FAILURES", "MISSED RANGES"):
        assert title in lines
    assert any(line.startswith("  alpha-job") and "in 59m" in line for line in lines), result.stdout
    assert "\x1b" not in result.stdout, "nothing but text into a pipe"


def test_top_json_is_the_overview(local: tuple[str, Service], tmp_path: Path) -> None:
    url, service = local
    _job(service, "alpha-job")
    result = subprocess.run([sys.executable, "-m", "jobctl", "--db", url, "top", "--json"], capture_output=True,
                            text=True, env=_env(tmp_path), timeout=30)  # fmt: skip
    data = json.loads(result.stdout)
    assert set(data) == {"generatedAt", "status", "running", "upcoming", "recentFailures", "missed"}
    assert [slot["jobName"] for slot in data["upcoming"]] == ["alpha-job"]


@pytest.mark.parametrize("interval", ["0", "0.1", "-1", "soon", "3601"])
def test_top_refuses_a_bad_interval(local: tuple[str, Service], tmp_path: Path, interval: str) -> None:
    url, _ = local
    result = subprocess.run([sys.executable, "-m", "jobctl", "--db", url, "top", "--interval", interval],
                            capture_output=True, text=True, env=_env(tmp_path), timeout=30)  # fmt: skip
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "--interval" in result.stderr


def test_overview_shows_runs_going_on_failures_and_missed_ranges(local: tuple[str, Service]) -> None:
    _, service = local
    store = service.store
    now = datetime.now(UTC).replace(microsecond=0)
    busy, broken, sleepy = _job(service, "busy"), _job(service, "broken"), _job(service, "sleepy")
    store.executions.insert(
        NewExecution(
            job_id=busy,
            status=ExecutionStatus.RUNNING,
            created_at=now,
            triggered_by=TriggeredBy.MANUAL,
            started_at=now - timedelta(seconds=3725),
        )
    )
    store.executions.insert(
        NewExecution(
            job_id=broken,
            status=ExecutionStatus.FAILED,
            created_at=now,
            triggered_by=TriggeredBy.SCHEDULER,
            scheduled_for=now,
            completed_at=now,
            error_message="exit code 3 \x1b[2J\nstderr tail",
        )
    )
    missed = NewExecution(job_id=sleepy, status=ExecutionStatus.MISSED, triggered_by=TriggeredBy.SCHEDULER,
                          created_at=now, scheduled_for=now - timedelta(hours=5), completed_at=now,
                          error_message="no daemon was leading")  # fmt: skip
    store.executions.insert(missed)
    store.db.execute("UPDATE executions SET missed_count = 5, missed_until = :until WHERE id = :id",
                     {"until": now - timedelta(hours=1), "id": missed.id})  # fmt: skip
    service.set_job_status(sleepy, {"isPaused": True})
    data = overview(store, now)
    assert [run["jobName"] for run in data["running"]] == ["busy"]
    assert [slot["jobName"] for slot in data["upcoming"]] == ["busy", "broken"], "a paused job has no slot"
    [failure] = data["recentFailures"]
    assert (failure["jobName"], failure["status"]) == ("broken", "failed")
    [gap] = data["missed"]
    assert (gap["slots"], gap["reason"]) == (5, "no daemon was leading")
    text = "\n".join(overview_lines(data))
    assert "\x1b" not in text and "exit code 3 \\x1b[2J" in text, "text from the store is shown escaped"
    assert "1:02:05" in text, "how long the run has been going, from the server's time"
    assert "stderr tail" not in text, "one line of the error"
    [missed_line] = [line for line in text.splitlines() if line.startswith("  sleepy")]
    assert missed_line.split()[-5:] == ["5", "no", "daemon", "was", "leading"]
