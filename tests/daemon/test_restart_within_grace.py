"""After a restart, a slot the new leader claims within the misfire grace runs; only the slots
later than the grace are missed.

A daemon leads a per-second cron job and is stopped; slots go by with no daemon; a second daemon
starts just after a slot and catches up. Whatever the moment of its first claim, one slot (the
latest) is less than a second late then: with ``skip`` it used to be folded into the missed range
with the late ones, so a job that was on time after a restart did not run. Real daemons, real
one-second slots, both backends (docs/missed-slots.md).
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, executions, parse, shell_job, wait_for, write_config


@pytest.mark.parametrize(
    ("policy", "grace"),
    [("skip", 1), ("run_once", 1), ("skip", 3), ("run_once", 3)],
    ids=["skip", "run_once", "skip-grace-3s", "run_once-grace-3s"],
)
def test_a_slot_within_the_grace_runs_when_a_new_leader_catches_up(
    service: Service, daemons: DaemonFactory, tmp_path: Path, policy: str, grace: int
) -> None:
    daemons.config_path = write_config(tmp_path / "grace.toml", misfire_grace_seconds=grace)
    job = shell_job(
        service, "sk", "true", jobTypeId=2, scheduleConfig={"expression": "* * * * * *"},
        misfirePolicy=policy, maxInstances=5,
    )  # fmt: skip
    first = daemons.start()
    wait_for(lambda: any(e["status"] == "success" for e in executions(service, job["id"])), timeout=20, what="a run")
    assert first.stop() == 0
    dealt_with = max(parse(e["scheduledFor"]) for e in executions(service, job["id"]) if e["scheduledFor"])
    # Slots go by with no daemon, more than the grace; the next one starts just after a slot.
    now = time.time()
    time.sleep(int(now) + grace + 2 - now + 0.05)
    daemons.start()

    def caught_up() -> tuple[dict, dict] | None:  # type: ignore[type-arg]
        rows = [e for e in executions(service, job["id"]) if parse(e["scheduledFor"]) > dealt_with]
        missed = [e for e in rows if e["status"] == "missed"]
        if not missed:
            return None
        after = parse(missed[0]["missedUntil"]) + timedelta(seconds=1)
        ran = [e for e in rows if parse(e["scheduledFor"]) == after and e["status"] != "pending"]
        return (missed[0], ran[0]) if ran else None

    missed, ran = wait_for(caught_up, timeout=20, what="the missed range and the slot after it")
    claimed_at = parse(missed["createdAt"])
    late = claimed_at - parse(missed["missedUntil"])
    assert late > timedelta(seconds=grace), (
        f"the range's last slot was {late.total_seconds():.3f}s late when the new leader claimed it, "
        f"within the misfire grace ({grace}s): it should have run; {missed}"
    )
    assert ran["status"] in ("running", "success"), ran
    assert ran["triggeredBy"] == "scheduler", ran
    assert parse(ran["createdAt"]) - parse(ran["scheduledFor"]) <= timedelta(seconds=grace), ran
    ending = "; misfire policy skip" if policy == "skip" else " (misfire policy run_once)"
    assert missed["errorMessage"].endswith(ending), missed["errorMessage"]
