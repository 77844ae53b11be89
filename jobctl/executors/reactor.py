"""One thread follows every running child: its output, its exit, its timeout and its kill.

A thread per run spent most of a burst handing the interpreter lock around; one ``epoll`` over
every child's pipes and pidfd does the same work with two threads awake instead of dozens.

A run ends when its main process has exited and its pipes are closed, or 0.5 s after the exit
when leftover children still hold the pipes (they are then killed with the rest of the group).
A timeout (counted from the spawn) or a shutdown sends SIGTERM to the group, SIGKILL after the
kill grace. The process group is always killed when the run ends, and reported to the
``on_group`` listener (the watchdog) when it starts and when it is gone.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import selectors
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from jobctl.executors.outcome import OutputSink
from jobctl.executors.process import (
    KILL_GRACE_SECONDS,
    ORPHAN_DRAIN_SECONDS,
    READ_SIZE,
    GroupListener,
    OutputCapture,
    ProcessResult,
    SpawnedProcess,
    kill_group,
)

log = logging.getLogger(__name__)

IDLE_WAIT_SECONDS = 1.0
"""Longest ``epoll`` wait when no timer is near (new children wake the loop at once)."""

MAX_HOLD_SECONDS = 0.2
"""Longest the reactor waits for a batch of spawns (see :meth:`ProcessReactor.held`)."""

ProcessDone = Callable[[ProcessResult], None]
"""Told how a followed child ended; called on the reactor thread, so it must not block."""


@dataclass(eq=False)
class _Child:
    spawned: SpawnedProcess
    deadline: float | None
    capture: OutputCapture
    on_done: ProcessDone
    pidfd: int
    open_pipes: set[int] = field(default_factory=set)
    returncode: int | None = None
    exited_at: float | None = None
    terminated_at: float | None = None
    timed_out: bool = False
    killed: bool = False
    stop_asked: bool = False


class ProcessReactor:
    """Follows spawned children on one thread until each has ended."""

    def __init__(self, *, on_group: GroupListener | None = None, kill_grace: float = KILL_GRACE_SECONDS) -> None:
        self.on_group = on_group
        self.kill_grace = kill_grace
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._selector.register(self._wake_read, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._incoming: list[_Child] = []
        self._to_stop: list[SpawnedProcess] = []
        self._children: set[_Child] = set()
        self._timers: list[tuple[float, int, _Child]] = []
        self._timer_seq = itertools.count()
        self._group_changes: tuple[list[int], list[int]] = ([], [])
        self._holds = 0
        self._resume = threading.Event()
        self._resume.set()
        self._stopping = False
        self._stop_seen = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def follow(self, spawned: SpawnedProcess, *, timeout: float | None, sink: OutputSink, on_done: ProcessDone) -> None:
        """Follow ``spawned`` until it ends, then call ``on_done`` with how it ended.

        ``sink`` receives its output as it arrives, on the reactor thread (it must not block).
        """
        pidfd = os.pidfd_open(spawned.pid)  # our child, not reaped yet: it exists
        child = _Child(
            spawned=spawned,
            deadline=None if timeout is None else spawned.started_monotonic + timeout,
            capture=OutputCapture(sink),
            on_done=on_done,
            pidfd=pidfd,
        )
        with self._lock:
            if self._closed:
                raise RuntimeError("the process reactor is closed")
            self._incoming.append(child)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="reactor", daemon=True)
                self._thread.start()
            held = self._holds > 0
        if not held:
            self._wake()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Spawn a batch of children before following any of them.

        Spawning holds the interpreter lock; a reactor taking it back after every spawn, to read
        the pipes of children that already ended, made the last child of a batch of 100 start
        twice as late. While held (at most :data:`MAX_HOLD_SECONDS`), the reactor waits, and
        then takes the whole batch at once. Output waits in the pipes meanwhile.
        """
        with self._lock:
            self._holds += 1
            self._resume.clear()
        try:
            yield
        finally:
            with self._lock:
                self._holds -= 1
                if self._holds == 0:
                    self._resume.set()
            self._wake()

    def stop(self, spawned: SpawnedProcess) -> None:
        """Terminate one followed child's group: SIGTERM now, SIGKILL after the kill grace.

        A child that already ended is left alone (its group is gone; its number may be reused).
        """
        with self._lock:
            self._to_stop.append(spawned)
        self._wake()

    def stop_all(self) -> None:
        """Terminate every child, now and any followed from now on (shutdown after the grace)."""
        with self._lock:
            self._stopping = True
        self._wake()

    def close(self) -> None:
        """Stop the thread once every child has ended; call after the last ``on_done``."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake()
        if thread is not None:
            thread.join(timeout=10)
        self._selector.close()
        os.close(self._wake_read)
        os.close(self._wake_write)

    # -- the loop ---------------------------------------------------------------------------

    def _wake(self) -> None:
        try:
            os.write(self._wake_write, b"\0")
        except BlockingIOError:
            pass  # already has wake-ups pending

    def _loop(self) -> None:
        while True:
            try:
                if self._turn():
                    return
            except Exception:  # never leave every other run unfollowed
                log.exception("process reactor: unexpected error; continuing")
                time.sleep(0.1)

    def _turn(self) -> bool:
        """One round: take new children, fire due timers, wait for events; True when closed."""
        self._resume.wait(MAX_HOLD_SECONDS)
        with self._lock:
            incoming, self._incoming = self._incoming, []
            to_stop, self._to_stop = self._to_stop, []
            stopping, closed = self._stopping, self._closed
        for child in incoming:
            self._add(child)
        if to_stop:
            self._stop_children(to_stop, time.monotonic())
        self._group_changes[0].extend(child.spawned.pid for child in incoming)
        self._report_groups()
        if closed and not self._children:
            return True
        now = time.monotonic()
        if stopping and not self._stop_seen:
            self._stop_seen = True
            for child in list(self._children):
                self._check_timers(child, now)
        while self._timers and self._timers[0][0] <= now:
            _, _, child = heapq.heappop(self._timers)
            self._check_timers(child, now)
        wait = IDLE_WAIT_SECONDS if not self._timers else min(IDLE_WAIT_SECONDS, self._timers[0][0] - now)
        for key, _ in self._selector.select(max(0.0, wait)):
            if key.data is None:
                self._drain_wake_pipe()
            else:
                child, stream = key.data
                self._on_ready(child, stream, key.fd)
        self._report_groups()
        return False

    def _report_groups(self) -> None:
        """Tell the listener which groups started and ended this round, in one call: the watchdog
        learns of a new group within one round of this loop (it takes new children first)."""
        started, ended = self._group_changes
        if not (started or ended):
            return
        self._group_changes = ([], [])
        if self.on_group is None:
            return
        try:
            self.on_group(started, ended)
        except Exception:
            log.exception("could not report process groups to the watchdog")

    def _at(self, moment: float, child: _Child) -> None:
        """Look at ``child`` again at ``moment`` (a deadline, the kill after the grace, the drain)."""
        heapq.heappush(self._timers, (moment, next(self._timer_seq), child))

    def _add(self, child: _Child) -> None:
        self._children.add(child)
        if child.deadline is not None:
            self._at(child.deadline, child)
        if self._stop_seen:
            self._check_timers(child, time.monotonic())
        spawned = child.spawned
        for fd, stream in ((spawned.stdout, "out"), (spawned.stderr, "err")):
            child.open_pipes.add(fd)
            self._selector.register(fd, selectors.EVENT_READ, (child, stream))
        self._selector.register(child.pidfd, selectors.EVENT_READ, (child, "exit"))

    def _on_ready(self, child: _Child, stream: str, fd: int) -> None:
        """Handle one event; an event left over from this round for a descriptor already closed
        (a child that ended earlier in the same round) is ignored: its number may already belong
        to a pipe another thread just opened."""
        if child not in self._children:
            return
        if stream == "exit":
            if child.pidfd != fd:
                return
            self._reap(child, time.monotonic())
        else:
            if fd not in child.open_pipes:
                return
            try:
                chunk = os.read(fd, READ_SIZE)
            except OSError:
                chunk = b""
            if chunk:
                self._feed(child, stream, chunk)
            else:
                self._close_pipe(child, fd)
        self._finish_if_done(child, time.monotonic())

    def _feed(self, child: _Child, stream: str, chunk: bytes) -> None:
        try:
            child.capture.feed(stream, chunk)
        except Exception:  # a sink must never stop the loop that follows every other run
            log.exception("output of process %d could not be handled", child.spawned.pid)

    def _reap(self, child: _Child, now: float) -> None:
        """The child exited (its pidfd is readable): collect its status; -1 marks the pidfd closed."""
        self._selector.unregister(child.pidfd)
        os.close(child.pidfd)
        child.pidfd = -1
        try:
            _, status = os.waitpid(child.spawned.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:  # pragma: no cover - reaped elsewhere
            child.returncode = None
        child.exited_at = now
        if child.open_pipes:
            self._at(now + ORPHAN_DRAIN_SECONDS, child)

    def _close_pipe(self, child: _Child, fd: int) -> None:
        self._selector.unregister(fd)
        os.close(fd)
        child.open_pipes.discard(fd)

    def _stop_children(self, to_stop: list[SpawnedProcess], now: float) -> None:
        wanted = {id(spawned) for spawned in to_stop}
        for child in list(self._children):
            if id(child.spawned) in wanted:
                child.stop_asked = True
                self._check_timers(child, now)

    def _check_timers(self, child: _Child, now: float) -> None:
        if child not in self._children:
            return
        pgid = child.spawned.pid
        if child.terminated_at is None and child.exited_at is None:
            due = child.deadline is not None and now >= child.deadline
            if due or self._stop_seen or child.stop_asked:
                child.timed_out = due and not (self._stop_seen or child.stop_asked)
                child.terminated_at = now
                kill_group(pgid, signal.SIGTERM)
                self._at(now + self.kill_grace, child)
        elif (
            child.terminated_at is not None
            and child.exited_at is None
            and not child.killed
            and now - child.terminated_at >= self.kill_grace
        ):
            child.killed = True
            kill_group(pgid, signal.SIGKILL)
        self._finish_if_done(child, now)

    def _finish_if_done(self, child: _Child, now: float) -> None:
        if child not in self._children or child.exited_at is None:
            return
        if child.open_pipes:
            drained = child.terminated_at is not None or now - child.exited_at >= ORPHAN_DRAIN_SECONDS
            if not drained:
                return
            for fd in list(child.open_pipes):
                self._close_pipe(child, fd)
        self._children.discard(child)
        if len(self._timers) > 2 * len(self._children) + 64:  # drop timers of ended children
            self._timers = [entry for entry in self._timers if entry[2] in self._children]
            heapq.heapify(self._timers)
        kill_group(child.spawned.pid, signal.SIGKILL)  # whatever the main process left behind
        self._group_changes[1].append(child.spawned.pid)
        try:
            child.capture.finish()
        except Exception:
            log.exception("output of process %d could not be handled", child.spawned.pid)
        try:
            child.on_done(_result(child))
        except Exception:
            log.exception("the end of process %d could not be handed on", child.spawned.pid)

    def _drain_wake_pipe(self) -> None:
        try:
            while os.read(self._wake_read, 4096):
                pass
        except BlockingIOError:
            pass


def _result(child: _Child) -> ProcessResult:
    code = child.returncode
    return ProcessResult(
        exit_code=code if code is not None and code >= 0 else None,
        signal_name=signal.Signals(-code).name if code is not None and code < 0 else None,
        timed_out=child.timed_out,
        started_at=child.spawned.started_at,
        completed_at=datetime.now(UTC),
        last_stdout_line=child.capture.last_stdout_line(),
        stderr_tail=child.capture.stderr_tail(),
    )
