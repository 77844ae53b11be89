"""Driving the real ``jobctl`` subprocess: outcomes, checks, a one-store CLI and a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from jobctl.cli.jobs_cmds import NO_DAEMON


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


@dataclass
class OneStoreCli:
    """``python -m jobctl`` on a SQLite store of its own, for checks that do not depend on the backend."""

    env: dict[str, str]

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Outcome:
        proc = subprocess.run([sys.executable, "-m", "jobctl", *args], input=input, capture_output=True, text=True,
                              env={**self.env, **(env or {})}, timeout=60)  # fmt: skip
        return Outcome(proc.returncode, proc.stdout, proc.stderr)


NO_DAEMON_WARNING = f"jobctl: warning: {NO_DAEMON}\n"
"""What ``jobs create`` and ``jobs trigger`` say on stores no daemon runs on (most tests here)."""


def check_ok(result: Any) -> Any:
    """A successful call: exit 0 and nothing on stderr (notes go to a terminal only) but, at most,
    the warning that no daemon runs on the test's store."""
    assert result.code == 0, f"exit {result.code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert result.stderr in ("", NO_DAEMON_WARNING), result.stderr
    return result


def check_error(result: Any, code: int, *fragments: str) -> str:
    """A failed call: the exit code, exactly one line on stderr, no traceback, nothing on stdout."""
    assert result.code == code, (
        f"expected exit {code}, got {result.code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    )
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{result.stderr}"
    assert result.stdout == "", result.stdout
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def in_terminal(env: dict[str, str], *args: str, columns: int = 80, timeout: float = 60) -> Outcome:
    """``python -m jobctl ARGS`` with stdout on a pseudo-terminal ``columns`` wide, as a person sees it.

    stderr stays a pipe, so what a terminal shows and what goes to stderr are told apart.
    Output line ends come back as ``\\n`` (the terminal's own ``\\r\\n`` translation undone).
    """
    import fcntl
    import pty
    import struct
    import termios

    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    full_env = {**env, "COLUMNS": str(columns), "TERM": "xterm-256color"}
    for name in ("NO_COLOR", "FORCE_COLOR", "LINES"):
        full_env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "jobctl", *args], stdin=subprocess.DEVNULL, stdout=child_fd,
                            stderr=subprocess.PIPE, env=full_env)  # fmt: skip
    os.close(child_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main_fd)
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=timeout)
    return Outcome(proc.returncode, b"".join(chunks).decode().replace("\r\n", "\n"), stderr)


def _no_daemon_warning() -> str:
    from jobctl.cli.jobs_cmds import NO_DAEMON

    return f"jobctl: warning: {NO_DAEMON}"


def but_the_no_daemon_warning(stderr: str) -> str:
    """``stderr`` without the warning that no daemon runs, which a command that created or changed
    jobs adds when no daemon leads (docs/no-daemon-warning.md): what a test about another line checks."""
    return "".join(line for line in stderr.splitlines(keepends=True) if line.rstrip("\n") != _no_daemon_warning())
