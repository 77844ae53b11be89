"""A child process in its own process group: output captured live, killed whole on timeout.

The group matters: ``sh -c 'sleep 100 & sleep 100'`` leaves grandchildren that a kill of the
direct child would miss. On timeout the whole group gets SIGTERM, then SIGKILL after a grace.
"""

from __future__ import annotations

import codecs
import os
import selectors
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from jobctl.executors.outcome import OutputSink

KILL_GRACE_SECONDS = 5.0
"""Time between SIGTERM and SIGKILL of a timed-out process group."""

ORPHAN_DRAIN_SECONDS = 0.5
"""After the main process exits, how long to keep reading output that its leftover children
still write; then the rest of its process group is killed (a run ends with its main process)."""

STDERR_TAIL_CHARS = 2000
READ_SIZE = 65536


@dataclass(frozen=True, kw_only=True)
class ProcessResult:
    """How a child ended and the bits of its output the outcome rules need."""

    exit_code: int | None
    signal_name: str | None
    timed_out: bool
    started_at: datetime
    completed_at: datetime
    last_stdout_line: str
    stderr_tail: str
    spawn_error: str | None = None


GroupListener = Callable[[int, bool], None]
"""Told ``(pgid, True)`` when a group starts and ``(pgid, False)`` when it is gone."""


def run_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float | None,
    sink: OutputSink,
    on_group: GroupListener | None = None,
    stop_requested: Callable[[], bool] | None = None,
    kill_grace: float = KILL_GRACE_SECONDS,
) -> ProcessResult:
    """Run ``argv`` to the end (or its timeout), streaming output to ``sink``.

    ``stop_requested`` lets the daemon end a run early (shutdown); it is treated like a timeout
    except that ``timed_out`` stays False.
    """
    started_at = datetime.now(UTC)
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            process_group=0,
            close_fds=True,
        )
    except OSError as exc:
        now = datetime.now(UTC)
        return ProcessResult(
            exit_code=None,
            signal_name=None,
            timed_out=False,
            started_at=started_at,
            completed_at=now,
            last_stdout_line="",
            stderr_tail="",
            spawn_error=f"cannot start {argv[0]!r}: {exc.strerror or exc}",
        )
    if on_group:
        on_group(proc.pid, True)
    try:
        capture = _Capture(sink)
        timed_out = capture.pump(proc, timeout, stop_requested, kill_grace)
    finally:
        _kill_group(proc.pid, signal.SIGKILL)
        if on_group:
            on_group(proc.pid, False)
    code = proc.returncode
    return ProcessResult(
        exit_code=code if code is not None and code >= 0 else None,
        signal_name=signal.Signals(-code).name if code is not None and code < 0 else None,
        timed_out=timed_out,
        started_at=started_at,
        completed_at=datetime.now(UTC),
        last_stdout_line=capture.last_stdout_line(),
        stderr_tail=capture.stderr_tail(),
    )


class _Capture:
    """Reads both pipes until EOF, decoding incrementally, keeping what the outcome needs."""

    def __init__(self, sink: OutputSink) -> None:
        self.sink = sink
        self.decoders = {
            "out": codecs.getincrementaldecoder("utf-8")("replace"),
            "err": codecs.getincrementaldecoder("utf-8")("replace"),
        }
        self.stdout_lines: deque[str] = deque(maxlen=2)
        self.stdout_partial = ""
        self.stderr_text = ""

    def pump(
        self,
        proc: subprocess.Popen[bytes],
        timeout: float | None,
        stop_requested: Callable[[], bool] | None,
        kill_grace: float,
    ) -> bool:
        """Copy output until the pipes close and the child exits; True if the timeout hit."""
        assert proc.stdout is not None and proc.stderr is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ, "out")
        selector.register(proc.stderr, selectors.EVENT_READ, "err")
        timed_out, terminated_at, exited_at = False, None, None
        while selector.get_map():
            for key, _ in selector.select(timeout=0.2):
                chunk = os.read(key.fd, READ_SIZE)
                if chunk:
                    self._feed(key.data, self.decoders[key.data].decode(chunk))
                else:
                    selector.unregister(key.fileobj)
            now = time.monotonic()
            stop = stop_requested is not None and stop_requested()
            if terminated_at is None and ((deadline is not None and now >= deadline) or stop):
                timed_out = not stop
                terminated_at = now
                _kill_group(proc.pid, signal.SIGTERM)
            elif terminated_at is not None and now - terminated_at >= kill_grace:
                _kill_group(proc.pid, signal.SIGKILL)
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and (terminated_at is not None or now - exited_at >= ORPHAN_DRAIN_SECONDS):
                break
        selector.close()
        proc.stdout.close()
        proc.stderr.close()
        self._finish()
        proc.wait()
        return timed_out

    def _feed(self, stream: str, text: str) -> None:
        if not text:
            return
        self.sink(text)
        if stream == "out":
            self._track_stdout(text)
        else:
            self.stderr_text = (self.stderr_text + text)[-STDERR_TAIL_CHARS:]

    def _track_stdout(self, text: str) -> None:
        combined = self.stdout_partial + text
        *complete, self.stdout_partial = combined.split("\n")
        self.stdout_partial = self.stdout_partial[-READ_SIZE:]
        for line in complete:
            if line.strip():
                self.stdout_lines.append(line)

    def _finish(self) -> None:
        for stream in ("out", "err"):
            self._feed(stream, self.decoders[stream].decode(b"", final=True))
        if self.stdout_partial.strip():
            self.stdout_lines.append(self.stdout_partial)
            self.stdout_partial = ""

    def last_stdout_line(self) -> str:
        return self.stdout_lines[-1] if self.stdout_lines else ""

    def stderr_tail(self) -> str:
        return self.stderr_text


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
