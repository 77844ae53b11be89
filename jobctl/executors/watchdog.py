"""A tiny guardian process: kills the daemon's running process groups if the daemon dies.

The daemon starts it once with a pipe on its stdin and writes ``+PGID`` / ``-PGID`` lines as runs
start and end. When the pipe closes without ``bye`` (the daemon was killed, even with SIGKILL),
every group still listed gets SIGTERM, then SIGKILL after a grace period. Run as
``python -m jobctl.executors.watchdog GRACE_SECONDS``.
"""

from __future__ import annotations

import os
import signal
import sys
import time


def _signal_groups(groups: set[int], sig: signal.Signals) -> set[int]:
    alive = set()
    for pgid in groups:
        try:
            os.killpg(pgid, sig)
            alive.add(pgid)
        except (ProcessLookupError, PermissionError):
            pass
    return alive


def main(argv: list[str]) -> int:
    grace = float(argv[1]) if len(argv) > 1 else 5.0
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    groups: set[int] = set()
    for line in sys.stdin:
        command = line.strip()
        if command == "bye":
            return 0
        if command[:1] in "+-" and command[1:].isdigit():
            (groups.add if command[0] == "+" else groups.discard)(int(command[1:]))
    alive = _signal_groups(groups, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = _signal_groups(alive, signal.Signals(0))
    _signal_groups(alive, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
