"""A missed range says how the leader before stopped: cleanly, or by letting its lease run out.

Before, both read "no daemon was leading from T1 to T2" or "the leading daemon stopped before
this slot; its lease ended at T1": an operator could not tell a `systemctl stop` from a daemon
killed by the OOM killer, nor which host's daemon it was. Real daemons on one store: one leads
and is stopped (SIGTERM) or killed (SIGKILL), a second starts after its lease has ended.
"""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest

from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, cli, executions, parse, shell_job, wait_for, write_config

TTL = 2
"""The shortest lease the config takes: the second daemon can take over 2 s after a kill."""


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"], ids=["stopped", "killed"])
def test_the_missed_range_names_the_daemon_before_and_how_it_stopped(
    service: Service, daemons: DaemonFactory, tmp_path: Path, stop: str
) -> None:
    daemons.config_path = write_config(tmp_path / "ttl.toml", lease_ttl_seconds=TTL)
    job = shell_job(service, "tick", "true", misfirePolicy="skip")
    first = daemons.start()
    wait_for(lambda: any(e["status"] == "success" for e in executions(service, job["id"])), timeout=20, what="a run")
    first.signal(getattr(signal, stop))
    first.proc.wait(timeout=30)
    # The slots the first daemon dealt with, a late start's own missed range included (on a
    # loaded machine its first claim can come after the misfire grace): the gap's range is after.
    dealt_with = max(parse(e["scheduledFor"]) for e in executions(service, job["id"]) if e["scheduledFor"])
    time.sleep(TTL + 2)  # the lease has ended, and slots went by with no daemon leading
    daemons.start()
    missed = wait_for(
        lambda: [
            e for e in executions(service, job["id"])
            if e["status"] == "missed" and parse(e["scheduledFor"]) > dealt_with
        ],
        timeout=20,
        what="the missed range",
    )  # fmt: skip
    reason = missed[0]["errorMessage"]
    who = f"on {socket.gethostname()} (pid {first.pid})"
    assert who in reason, reason
    if stop == "SIGTERM":
        assert "was stopped cleanly" in reason or "was stopping at this slot; it gave its lease up at" in reason, reason
        assert "killed" not in reason, reason
    else:
        assert "killed, crashed, hung or cut off from the store" in reason, reason
        assert "last heard from at " in reason, reason
        assert "cleanly" not in reason and "gave its lease up" not in reason, reason
    assert reason.endswith("; misfire policy skip"), reason

    why = cli(daemons, "jobs", "why", "tick", "--since", "1h")
    assert why.returncode == 0, why.stderr
    assert who in why.stdout, why.stdout
