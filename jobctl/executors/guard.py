"""The daemon's side of the watchdog: tells it which process groups are running."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Sequence

log = logging.getLogger(__name__)


class GroupGuard:
    """Keeps the watchdog informed; if the daemon dies, the watchdog kills what is listed."""

    def __init__(self, kill_grace: float) -> None:
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "jobctl.executors.watchdog", str(kill_grace)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )

    def __call__(self, started: Sequence[int], ended: Sequence[int]) -> None:
        """One write for a batch of changes: the watchdog wakes once per batch, not twice per run."""
        lines = [f"+{pgid}" for pgid in started] + [f"-{pgid}" for pgid in ended]
        if lines:
            self._send("\n".join(lines))

    def close(self) -> None:
        """Stop the watchdog cleanly (the daemon ended its runs itself)."""
        self._send("bye")
        with self._lock:
            if self._proc.stdin:
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()

    def _send(self, line: str) -> None:
        with self._lock:
            stdin = self._proc.stdin
            if stdin is None or stdin.closed:
                return
            try:
                stdin.write(f"{line}\n".encode())
                stdin.flush()
            except (BrokenPipeError, ValueError):
                log.warning("the run watchdog is gone; runs may outlive a crashed daemon")
