"""The process reactor with real children: output, exits, timeouts, leftovers, shutdown."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from jobctl.executors.process import ProcessResult, SpawnedProcess, spawn
from jobctl.executors.reactor import ProcessReactor


class Ends:
    """Collects what the reactor reports: each child's result and the group updates."""

    def __init__(self) -> None:
        self.results: dict[int, ProcessResult] = {}
        self.output: dict[int, list[str]] = {}
        self.started: Counter[int] = Counter()
        self.ended: Counter[int] = Counter()
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)

    def groups(self, started: Sequence[int], ended: Sequence[int]) -> None:
        with self.lock:
            self.started.update(started)
            self.ended.update(ended)

    def follow(self, reactor: ProcessReactor, argv: list[str], timeout: float | None = None) -> int:
        spawned = spawn(argv, env=dict(os.environ))
        assert isinstance(spawned, SpawnedProcess), spawned
        pid = spawned.pid
        self.output[pid] = []

        def done(result: ProcessResult) -> None:
            with self.lock:
                self.results[pid] = result
                self.done.notify_all()

        reactor.follow(spawned, timeout=timeout, sink=self.output[pid].append, on_done=done)
        return pid

    def wait(self, count: int, timeout: float = 30) -> None:
        with self.lock:
            assert self.done.wait_for(lambda: len(self.results) >= count, timeout), self.results


@pytest.fixture
def ends() -> Ends:
    return Ends()


@pytest.fixture
def reactor(ends: Ends) -> Iterator[ProcessReactor]:
    reactor = ProcessReactor(on_group=ends.groups, kill_grace=1.0)
    yield reactor
    reactor.stop_all()
    reactor.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_many_children_at_once_each_end_is_reported_once(reactor: ProcessReactor, ends: Ends) -> None:
    pids = [
        ends.follow(reactor, ["/bin/sh", "-c", f"echo out-{n}; echo err-{n} >&2; exit {n % 3}"]) for n in range(150)
    ]
    ends.wait(150)
    for n, pid in enumerate(pids):
        result = ends.results[pid]
        assert result.exit_code == n % 3 and not result.timed_out and result.spawn_error is None
        assert result.last_stdout_line == f"out-{n}" and result.stderr_tail == f"err-{n}\n"
        assert sorted("".join(ends.output[pid]).splitlines()) == sorted([f"out-{n}", f"err-{n}"])
        assert result.started_at <= result.completed_at
    time.sleep(0.1)  # the last group updates go out at the end of the reactor's round
    assert ends.started == Counter(pids) and ends.ended == Counter(pids), "each group reported started and ended once"


def test_timeout_kills_a_child_that_closed_its_pipes(reactor: ProcessReactor, ends: Ends, tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    pid = ends.follow(reactor, ["/bin/sh", "-c", f"exec >/dev/null 2>&1; echo $$ > {marker}; sleep 100"], timeout=1.0)
    begin = time.monotonic()
    ends.wait(1)
    result = ends.results[pid]
    assert result.timed_out and result.signal_name == "SIGTERM"
    assert 0.9 <= time.monotonic() - begin < 5
    assert not alive(pid)


def test_leftover_children_end_with_the_run(reactor: ProcessReactor, ends: Ends, tmp_path: Path) -> None:
    marker = tmp_path / "grandchild"
    pid = ends.follow(reactor, ["/bin/sh", "-c", f"sleep 100 & echo $! > {marker}; echo main done"])
    begin = time.monotonic()
    ends.wait(1)
    assert ends.results[pid].exit_code == 0 and ends.results[pid].last_stdout_line == "main done"
    assert time.monotonic() - begin < 3, "the run ends shortly after its main process"
    grandchild = int(marker.read_text())
    deadline = time.monotonic() + 3
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild), "the grandchild holding the pipes was killed with the group"


def test_a_child_ignoring_sigterm_is_killed_after_the_grace(reactor: ProcessReactor, ends: Ends) -> None:
    pid = ends.follow(reactor, ["/bin/sh", "-c", "trap '' TERM; sleep 100 & wait"], timeout=0.5)
    begin = time.monotonic()
    ends.wait(1)
    assert ends.results[pid].timed_out
    assert 1.4 <= time.monotonic() - begin < 5, "SIGKILL follows SIGTERM after the 1 s grace"


def test_stop_all_terminates_running_children_not_as_timeouts(reactor: ProcessReactor, ends: Ends) -> None:
    pids = [ends.follow(reactor, ["sleep", "100"]) for _ in range(3)]
    time.sleep(0.2)
    reactor.stop_all()
    ends.wait(3, timeout=10)
    for pid in pids:
        assert ends.results[pid].signal_name == "SIGTERM" and not ends.results[pid].timed_out


def test_children_get_default_sigpipe_and_no_daemon_descriptors(
    reactor: ProcessReactor, ends: Ends, tmp_path: Path
) -> None:
    leaked = os.open(tmp_path / "inheritable", os.O_CREAT | os.O_RDWR)
    os.set_inheritable(leaked, True)
    try:
        from jobctl.executors.process import close_inherited_descriptors

        close_inherited_descriptors()
        pipe = ends.follow(reactor, ["/bin/sh", "-c", "yes | head -n 1"])
        fds = ends.follow(reactor, ["/bin/sh", "-c", "exec ls /proc/self/fd"])
        ends.wait(2)
    finally:
        os.close(leaked)
    assert ends.results[pipe].exit_code == 0 and ends.results[pipe].stderr_tail == "", "yes died of SIGPIPE quietly"
    listed = {int(name) for name in "".join(ends.output[fds]).split()}
    assert listed <= {0, 1, 2, 3}, f"only stdin/out/err (and ls's own) are open: {listed}"


def test_a_missing_command_is_a_spawn_error() -> None:
    result = spawn(["/nonexistent/jobctl-test-command"], env=dict(os.environ))
    assert isinstance(result, ProcessResult)
    assert result.spawn_error == "cannot start '/nonexistent/jobctl-test-command': No such file or directory"


def test_the_watchdog_kills_the_groups_of_a_daemon_killed_with_sigkill(tmp_path: Path) -> None:
    """The guard batches its updates; a group it was told about dies with the daemon."""
    import subprocess
    import sys

    script = tmp_path / "daemonlike.py"
    marker = tmp_path / "pid"
    script.write_text(
        "import os, time\n"
        "from jobctl.executors.guard import GroupGuard\n"
        "from jobctl.executors.process import spawn\n"
        "from jobctl.executors.reactor import ProcessReactor\n"
        "guard = GroupGuard(1.0)\n"
        "reactor = ProcessReactor(on_group=guard)\n"
        f"child = spawn(['sleep', '100'], env=dict(os.environ))\n"
        "reactor.follow(child, timeout=None, sink=lambda text: None, on_done=lambda result: None)\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(100)\n"
    )
    daemon = subprocess.Popen([sys.executable, str(script)], cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 10
        while not marker.exists() or not marker.read_text():
            assert time.monotonic() < deadline and daemon.poll() is None, "the child never started"
            time.sleep(0.05)
        time.sleep(0.2)  # one reactor round: the watchdog has been told
        pid = int(marker.read_text())
        assert alive(pid)
        daemon.send_signal(signal.SIGKILL)
        daemon.wait()
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(pid), "the watchdog killed the orphaned group"
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()


def test_descriptor_room_is_reserved_and_the_soft_limit_raised() -> None:
    """In a child interpreter with a low soft limit: the limit is raised towards the hard one and
    a descriptor that happens to sit at the reserved top is left alone."""
    import subprocess
    import sys

    code = (
        "import os, resource\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))\n"
        "from jobctl.executors.process import reserve_descriptors\n"
        "reserve_descriptors(200)\n"
        "keep = os.dup2(0, 3 * 200 + 64 - 1)\n"
        "reserve_descriptors(200)\n"
        "os.fstat(keep)\n"
        "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    soft, hard = (int(value) for value in done.stdout.split())
    assert soft == min(hard, 3 * 200 + 64) or hard < 664


def test_children_ending_in_the_same_round_are_each_handled_once(
    reactor: ProcessReactor, ends: Ends, caplog: pytest.LogCaptureFixture
) -> None:
    """Timed out together, 40 children's exits and pipe closes arrive in the same epoll round;
    events of a child finished earlier in that round must not touch its (closed) descriptors."""
    caplog.set_level("WARNING", logger="jobctl.executors.reactor")
    # sh waits for sleep: the shell's exit (pidfd) and the pipes' EOF (when sleep dies) race
    pids = [ends.follow(reactor, ["/bin/sh", "-c", "sleep 30; true"], timeout=0.3) for _ in range(40)]
    ends.wait(40, timeout=15)
    assert all(ends.results[pid].timed_out for pid in pids)
    assert not [record.getMessage() for record in caplog.records], "the reactor logged errors"
