"""A tiny guardian process: kills the daemon's running process groups if the daemon dies.

The daemon starts it once with a pipe on its stdin and writes ``+PGID`` / ``-PGID`` lines as runs
start and end. When the pipe closes without ``bye`` (the daemon was killed, even with SIGKILL),
every group still listed gets SIGTERM, then, after a grace period, SIGKILL: always both, so a
job that ignores SIGTERM cannot outlive the daemon. Run as
``python -m jobctl.executors.watchdog GRACE_SECONDS``.
"""

from __future__ import annotations

import os
import signal
import sys
import time

POLL_SECONDS = 0.1


def _signal_groups(groups: set[int], sig: int) -> set[int]:
    """Send ``sig`` to each group (0 only checks it exists); the groups that still exist."""
    alive = set()
    for pgid in groups:
        try:
            os.killpg(pgid, sig)
            alive.add(pgid)
        except ProcessLookupError:
            pass
        except PermissionError:  # the group id was reused by someone else's processes
            pass
    return alive


def stop_groups(groups: set[int], grace: float) -> None:
    """SIGTERM every group, wait up to ``grace`` for them to go, then SIGKILL what is left."""
    alive = _signal_groups(groups, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        alive = _signal_groups(alive, 0)
    _signal_groups(alive, signal.SIGKILL)


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
    stop_groups(groups, grace)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
