"""Starting a child process in its own process group, and keeping what its output says.

The group matters: ``sh -c 'sleep 100 & sleep 100'`` leaves grandchildren that a kill of the
direct child would miss, so timeouts and shutdown signal the whole group
(:mod:`jobctl.executors.reactor` follows the children).

Children are started with ``posix_spawnp`` rather than ``subprocess.Popen``: the same
``vfork``-style start in the C library without Popen's Python-level bookkeeping (file objects,
an error pipe read back under the interpreter lock), which is most of the cost of a spawn when
a burst of runs is due at once. It is called through ``ctypes`` (:mod:`jobctl.executors.native_spawn`)
where it can be, because ``os.posix_spawnp`` holds the interpreter lock until the child has
executed its program, and every other thread of the daemon waits that long.
"""

from __future__ import annotations

import codecs
import functools
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from jobctl.executors import native_spawn
from jobctl.executors.outcome import OutputSink
from jobctl.models import KILL_GRACE_SECONDS as KILL_GRACE_SECONDS  # the default; [daemon] kill_grace_seconds

ORPHAN_DRAIN_SECONDS = 0.5
"""After the main process exits, how long to keep reading output that its leftover children
still write; then the rest of its process group is killed (a run ends with its main process)."""

STDERR_TAIL_CHARS = 2000
READ_SIZE = 65536

RESET_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)
"""Signals Python ignores in the daemon that a child must get back at their defaults (as Popen's
``restore_signals`` does): a shell pipeline in a job relies on SIGPIPE."""


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


GroupListener = Callable[[Sequence[int], Sequence[int]], None]
"""Told ``(started, ended)``: process groups that started and groups that are gone, in batches."""


@dataclass(frozen=True, kw_only=True)
class SpawnedProcess:
    """A running child: its pid (also its process group id) and the read ends of its output pipes."""

    pid: int
    stdout: int
    stderr: int
    started_at: datetime
    started_monotonic: float


def spawn(argv: Sequence[str], *, env: Mapping[str, str], stdin: bytes | None = None) -> SpawnedProcess | ProcessResult:
    """Start ``argv`` (looked up on PATH) in a new process group, stdin from /dev/null or, when
    ``stdin`` is given, from an in-memory file holding it (read from its start; it never blocks
    the daemon the way a pipe that the child does not read would).

    Returns a :class:`ProcessResult` with ``spawn_error`` when it cannot start. Every descriptor
    of the daemon is opened close-on-exec (Python's default, and the daemon marks inherited
    ones at start-up), so the child gets only these three.
    """
    started_at = datetime.now(UTC)
    started_monotonic = time.monotonic()
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    stdin_fd = _devnull() if stdin is None else _memory_file(stdin)
    try:
        if native_spawn.available(RESET_SIGNALS):
            pid = native_spawn.spawnp(argv, env, (stdin_fd, out_write, err_write), RESET_SIGNALS)
        else:
            pid = os.posix_spawnp(
                argv[0],
                list(argv),
                dict(env),
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, stdin_fd, 0),
                    (os.POSIX_SPAWN_DUP2, out_write, 1),
                    (os.POSIX_SPAWN_DUP2, err_write, 2),
                ],
                setpgroup=0,
                setsigdef=RESET_SIGNALS,
                setsigmask=(),
            )
    except OSError as exc:
        os.close(out_read)
        os.close(err_read)
        return spawn_failure(started_at, f"cannot start {argv[0]!r}: {exc.strerror or exc}")
    finally:
        os.close(out_write)
        os.close(err_write)
        if stdin is not None:
            os.close(stdin_fd)
    return SpawnedProcess(
        pid=pid, stdout=out_read, stderr=err_read, started_at=started_at, started_monotonic=started_monotonic
    )


def _memory_file(data: bytes) -> int:
    """A close-on-exec in-memory file holding ``data``, positioned at its start."""
    fd = os.memfd_create("jobctl-stdin", os.MFD_CLOEXEC)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def spawn_failure(at: datetime, message: str) -> ProcessResult:
    """The result of a run that never got a process."""
    return ProcessResult(
        exit_code=None,
        signal_name=None,
        timed_out=False,
        started_at=at,
        completed_at=datetime.now(UTC),
        last_stdout_line="",
        stderr_tail="",
        spawn_error=message,
    )


def close_inherited_descriptors() -> None:
    """Make every open descriptor above stderr close-on-exec.

    ``posix_spawn`` does not close descriptors the way Popen's ``close_fds`` does; Python opens
    its own close-on-exec, but the daemon may have inherited others (a socket from its parent,
    a shell redirection) that no job should see.
    """
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return
    for name in names:
        fd = int(name)
        if fd <= 2:
            continue
        try:
            os.set_inheritable(fd, False)
        except OSError:
            pass  # closed meanwhile (the listing's own descriptor)


DESCRIPTORS_PER_RUN = 3
"""A running child holds two pipe read ends and a pidfd in the daemon."""


def reserve_descriptors(runs: int) -> None:
    """Make room for ``runs`` children's descriptors now, once.

    Linux grows a process's descriptor table by doubling it, and with threads running each growth
    waits for an RCU grace period (several milliseconds here): the first batch of 100 runs due at
    once started 20-30 ms later than the next ones. Growing it at start-up costs that once. The
    soft ``RLIMIT_NOFILE`` is raised towards the hard one if it would not fit (as systemd's
    ``LimitNOFILE`` would), so many concurrent runs do not fail with "too many open files".
    """
    import fcntl
    import resource

    needed = DESCRIPTORS_PER_RUN * runs + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    top = needed - 1 if soft == resource.RLIM_INFINITY else min(needed, soft) - 1
    try:
        fcntl.fcntl(top, fcntl.F_GETFD)
        return  # already open: the table is at least that large
    except OSError:
        pass
    try:
        os.dup2(_devnull(), top, inheritable=False)
        os.close(top)
    except OSError:
        pass


class OutputCapture:
    """Decodes a child's output as it arrives, passing it on and keeping what the outcome needs:
    the last non-empty stdout line (a JSON result) and the tail of stderr (the error message)."""

    def __init__(self, sink: OutputSink) -> None:
        self.sink = sink
        # surrogateescape: a byte that is not UTF-8 stays one character, so the output writer can
        # count the bytes it drops exactly; the store turns it into U+FFFD (docs/output-encoding.md)
        self.decoders = {
            "out": codecs.getincrementaldecoder("utf-8")("surrogateescape"),
            "err": codecs.getincrementaldecoder("utf-8")("surrogateescape"),
        }
        self.stdout_lines: deque[str] = deque(maxlen=2)
        self.stdout_partial = ""
        self.stderr_text = ""

    def feed(self, stream: str, chunk: bytes) -> None:
        """Take bytes read from ``stream`` ("out" or "err")."""
        self._feed(stream, self.decoders[stream].decode(chunk))

    def finish(self) -> None:
        """The pipes are closed: flush what the decoders held back."""
        for stream in ("out", "err"):
            self._feed(stream, self.decoders[stream].decode(b"", final=True))
        if self.stdout_partial.strip():
            self.stdout_lines.append(self.stdout_partial)
            self.stdout_partial = ""

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

    def last_stdout_line(self) -> str:
        return self.stdout_lines[-1] if self.stdout_lines else ""

    def stderr_tail(self) -> str:
        return self.stderr_text


def kill_group(pgid: int, sig: signal.Signals) -> None:
    """Signal a whole process group; one that is gone already is fine."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@functools.cache
def _devnull() -> int:
    """One read-only /dev/null descriptor for every child's stdin."""
    return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
