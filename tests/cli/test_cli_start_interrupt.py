"""A Ctrl-C while jobctl starts ends it quietly, as it ends ``cat``: no traceback.

SIGINT became ``KeyboardInterrupt`` during the import of the command's modules (the first
0.1-0.2 s), which Python reported with a traceback of the import machinery. Signals are sent
at a spread of moments from the start, so some land during the imports on any machine.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

DELAYS = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.1, 0.15, 0.25)
BEFORE_JOBCTL = "Fatal Python error: init_import_site"
"""What Python prints for a SIGINT that lands while it imports ``site``, before it runs any of
jobctl: out of jobctl's reach, and left out of the count."""


def test_ctrl_c_at_any_moment_of_the_start_prints_no_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobctl.db'}"
    ended = []
    for delay in DELAYS:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jobctl", "--db", url, "jobs", "list"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
        if stderr.startswith(BEFORE_JOBCTL):
            continue  # the interpreter's own start, before any module of jobctl
        assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, (delay, stderr)
        ended.append(proc.returncode)
    assert set(ended) <= {0, 130, -signal.SIGINT}, ended
    assert -signal.SIGINT in ended, "no signal landed while jobctl's modules were imported"


def test_a_sigint_ignored_from_the_start_stays_ignored(tmp_path: Path) -> None:
    """A command started with SIGINT ignored (``cmd &`` in a shell without job control) is not
    made interruptible by the start-up's handling."""
    url = f"sqlite:///{tmp_path / 'jobctl.db'}"
    code = (
        "import signal, subprocess, sys\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        f"proc = subprocess.Popen([sys.executable, '-m', 'jobctl', '--db', {url!r}, 'jobs', 'list'])\n"
        "import time; time.sleep(0.05); proc.send_signal(signal.SIGINT)\n"
        "sys.exit(proc.wait())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
