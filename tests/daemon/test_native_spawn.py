"""Children started through ``posix_spawnp`` called by ``ctypes``: what they get, and that the
interpreter lock is free while the C library starts them (the reason for the call)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobctl.executors import native_spawn, process
from jobctl.executors.process import RESET_SIGNALS, ProcessResult, SpawnedProcess, spawn


@pytest.fixture
def only_native(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``os.posix_spawnp`` fails: a child that starts all the same came through ctypes."""

    def refused(*args: object, **kwargs: object) -> int:
        raise AssertionError("os.posix_spawnp used")

    monkeypatch.setattr(os, "posix_spawnp", refused)
    yield


def run(argv: list[str], env: dict[str, str], stdin: bytes | None = None) -> tuple[SpawnedProcess, int, str, str]:
    """Spawn ``argv`` and wait for it: the child, its exit code, its stdout and stderr."""
    spawned = spawn(argv, env=env, stdin=stdin)
    assert isinstance(spawned, SpawnedProcess), spawned
    _, status = os.waitpid(spawned.pid, 0)
    out = _read_all(spawned.stdout)
    err = _read_all(spawned.stderr)
    return spawned, os.waitstatus_to_exitcode(status), out, err


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode()


def test_available_here() -> None:
    assert native_spawn.available(RESET_SIGNALS)


@pytest.mark.usefixtures("only_native")
def test_child_gets_its_group_signals_environment_and_descriptors() -> None:
    env = {"PATH": "/usr/bin:/bin", "ONLY": "this"}
    python = [sys.executable, "-I", "-c"]
    code = (
        "import os, signal, sys; "
        "print(os.getpgid(0), os.getpid()); "
        "print(sorted(k for k in os.environ if k != 'LC_CTYPE')); "
        "print(sys.stdin.read()); "
        "print(sorted(int(fd) for fd in os.listdir('/proc/self/fd'))); "
        "print('to stderr', file=sys.stderr)"
    )
    process.close_inherited_descriptors()  # as the runner does at start-up
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])  # the daemon's mask must not be inherited
    try:
        spawned, code_, out, err = run([*python, code], env, stdin=b"given input")
        _, _, status_text, _ = run(["grep", "^Sig", "/proc/self/status"], env)  # grep: Python ignores SIGPIPE itself
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGUSR1])
    assert code_ == 0, err
    lines = out.splitlines()
    pgid, pid = (int(n) for n in lines[0].split())
    assert pgid == pid == spawned.pid  # its own process group: a kill reaches its children
    assert lines[1] == "['ONLY', 'PATH']"
    assert lines[2] == "given input"
    assert lines[3] == "[0, 1, 2, 3]"  # 3: the listing's own descriptor; nothing of the daemon's
    status = dict(line.split(":\t", 1) for line in status_text.splitlines())
    assert int(status["SigBlk"], 16) == 0
    ignored = int(status["SigIgn"], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1)), "SIGPIPE stays ignored, as in the daemon"
    assert not ignored & (1 << (signal.SIGXFSZ - 1))
    assert err == "to stderr\n"


@pytest.mark.usefixtures("only_native")
def test_stdin_is_dev_null_by_default() -> None:
    _, code, out, _ = run(["sh", "-c", "cat; readlink /proc/self/fd/0"], {"PATH": "/usr/bin:/bin"})
    assert code == 0
    assert out == "/dev/null\n"


@pytest.mark.usefixtures("only_native")
def test_what_cannot_start_is_a_spawn_error(tmp_path: Path) -> None:
    result = spawn(["no-such-program-anywhere"], env={"PATH": "/usr/bin:/bin"})
    assert isinstance(result, ProcessResult)
    assert result.spawn_error is not None and "No such file or directory" in result.spawn_error
    not_executable = tmp_path / "script"
    not_executable.write_text("#!/bin/sh\n")
    not_executable.chmod(0o644)
    result = spawn([str(not_executable)], env={})
    assert isinstance(result, ProcessResult)
    assert result.spawn_error is not None and "Permission denied" in result.spawn_error


@pytest.mark.usefixtures("only_native")
@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["sh", "-c", "true\0"], {}),
        (["sh", "-c", "true"], {"A": "b\0c"}),
        (["sh", "-c", "true"], {"A=B": "c"}),
        (["sh", "-c", "true"], {"": "c"}),
    ],
    ids=["nul-in-argument", "nul-in-value", "equals-in-name", "empty-name"],
)
def test_what_cannot_be_passed_is_refused_as_os_posix_spawnp_refuses_it(argv: list[str], env: dict[str, str]) -> None:
    """Not cut at the NUL byte (a C string would end there) and run as something else."""
    with pytest.raises(ValueError):
        spawn(argv, env=env)


def test_the_interpreter_lock_is_free_while_a_child_starts(tmp_path: Path) -> None:
    """The C library's spawn is made to wait (the child's first file action opens a FIFO for
    writing, which blocks until a reader comes) and this thread is the reader: it can only come
    if the call released the interpreter lock. ``os.posix_spawnp`` holds it, and only the
    fallback reader, another process, would end the wait (after 3 s)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    fallback = subprocess.Popen(["sh", "-c", f"sleep 3; exec cat {fifo} >/dev/null"])
    lib = native_spawn._library(tuple(int(s) for s in RESET_SIGNALS))
    assert lib is not None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    actions = ctypes.create_string_buffer(native_spawn.OPAQUE_BYTES)
    assert lib.actions_init(actions) == 0
    assert libc.posix_spawn_file_actions_addopen(actions, 1, bytes(fifo), os.O_WRONLY, 0) == 0
    argv = (ctypes.c_char_p * 2)(b"/bin/true", None)
    env = (ctypes.c_char_p * 1)(None)
    pid = ctypes.c_int()
    outcome: list[int] = []
    spawner = threading.Thread(
        target=lambda: outcome.append(lib.spawnp(ctypes.byref(pid), b"/bin/true", actions, lib.attributes, argv, env))
    )
    began = time.monotonic()
    try:
        spawner.start()
        time.sleep(0.1)  # needs the lock back: with it held by the spawn, this returns after 3 s
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        spawner.join(10)
        elapsed = time.monotonic() - began
        os.close(reader)
    finally:
        lib.actions_destroy(actions)
        fallback.kill()
        fallback.wait()
    assert outcome == [0]
    os.waitpid(pid.value, 0)
    assert elapsed < 2.5, f"the spawn held the interpreter lock ({elapsed:.2f} s)"
