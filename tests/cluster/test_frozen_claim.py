"""A leader frozen (SIGSTOP) inside its claim transaction, on Postgres.

The claim reads the lease without locking its row, so a standby's takeover does not wait for
the frozen leader; Postgres ends the frozen session once it has been idle inside its transaction
for a fraction of the TTL, rolling its claims back; when the old leader resumes it claims
nothing. The daemons run with ``JOBCTL_TEST_CLAIM_HOLD_SECONDS`` (jobctl.scheduler.claims), which
keeps each claim transaction open a quarter of a second after its lease check, so that the test
can catch the leader there: it watches ``pg_stat_activity`` for the leader's session idle in a
transaction right after reading ``leases`` and stops the process at that moment.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from jobctl.scheduler.leadership import IDLE_TRANSACTION_FRACTION, MARGIN_FRACTION
from tests.cluster.helpers import Cluster, Node, analyse_slots, cluster_on, log_lines, utcnow
from tests.daemon.helpers import shell_job, wait_for

pytestmark = pytest.mark.slow

TTL = 5.0
HOLD_SECONDS = 0.25
"""Below the idle-in-transaction limit (TTL * MARGIN_FRACTION * IDLE_TRANSACTION_FRACTION = 0.8 s)."""
IDLE_LIMIT = TTL * MARGIN_FRACTION * IDLE_TRANSACTION_FRACTION
JOBS = 3
ATTEMPTS = 20


def claiming_sessions(cluster: Cluster, node: Node) -> list[dict[str, Any]]:
    """The node's sessions idle inside a transaction whose last statement read the lease."""
    return [
        s
        for s in cluster.backend_states(node)
        if str(s["state"]).startswith("idle in transaction") and "leases" in str(s["query"])
    ]


def freeze_mid_claim(cluster: Cluster, node: Node) -> None:
    """SIGSTOP ``node`` while it is inside a claim transaction (checked after the stop)."""
    for _ in range(ATTEMPTS):
        wait_for(lambda: claiming_sessions(cluster, node), timeout=10, what="a claim in progress", interval=0.01)
        node.daemon.signal(signal.SIGSTOP)
        if claiming_sessions(cluster, node):
            return
        node.daemon.signal(signal.SIGCONT)  # the claim ended between the look and the stop: again
    raise AssertionError(f"could not stop the leader inside a claim in {ATTEMPTS} attempts")


def test_leader_frozen_mid_claim_is_replaced_within_the_ttl(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JOBCTL_TEST_CLAIM_HOLD_SECONDS", str(HOLD_SECONDS))
    with cluster_on(pg_url, tmp_path, ttl=TTL) as cluster:
        old, _standby = cluster.start(2)
        assert cluster.wait_leader() is old
        t_from = utcnow()
        jobs = [shell_job(cluster.service, f"tick-{n}", "true")["id"] for n in range(JOBS)]
        wait_for(
            lambda: len([r for r in cluster.executions() if r["status"] == "success"]) >= 2 * JOBS,
            timeout=15,
            what="the leader to run every job",
        )

        freeze_mid_claim(cluster, old)
        t_stop = utcnow()
        ended = wait_for(
            lambda: not claiming_sessions(cluster, old) and utcnow(),
            timeout=TTL,
            what="Postgres to end the frozen claim transaction",
            interval=0.02,
        )
        taken = wait_for(
            lambda: cluster.monitor.first_holder_after(t_stop, other_than=old.instance_id),
            timeout=TTL + 5,
            what="a new leader",
            interval=0.02,
        )
        failover = (taken.at - t_stop).total_seconds()
        new = cluster.node_of(taken.holder_id)
        assert new is not None
        time.sleep(2.0)  # the new leader runs slots while the old one is still frozen
        t_cont = utcnow()
        old.daemon.signal(signal.SIGCONT)
        wait_for(lambda: log_lines(old, "no longer leader"), timeout=10, what="the old leader to notice its loss")
        time.sleep(2.0)  # both alive again: the old one must claim nothing
        t_end = utcnow()
        cluster.stop_all()

        rows = [row for row in cluster.executions() if row["job_id"] in jobs]
        report = analyse_slots([r for r in rows if r["scheduled_for"] >= t_from], dict.fromkeys(jobs, 1.0), until=t_end)
        old_after_stop = [r for r in rows if r["instance_id"] == old.instance_id and r["created_at"] > t_stop]
        by_new = [r for r in rows if r["instance_id"] == new.instance_id and r["status"] == "success"]
        with capsys.disabled():
            print(
                f"\n[frozen mid-claim] claim transaction ended by the server {(ended - t_stop).total_seconds():.2f}s "
                f"after the stop (limit {IDLE_LIMIT:.2f}s); new leader {failover:.2f}s after the stop "
                f"(TTL {TTL:g}s); {report.runs} runs, {len(by_new)} by the new leader, duplicates "
                f"{len(report.duplicates)}; resumed at {t_cont:%H:%M:%S.%f}"
            )
        assert failover <= TTL + 1.0, f"a standby led only {failover:.2f}s after the leader froze mid-claim"
        assert (ended - t_stop).total_seconds() < TTL / 2, "the frozen transaction outlived half the TTL"
        assert not report.duplicates, report.duplicates
        assert not old_after_stop, f"the frozen leader's claim committed after all: {old_after_stop}"
        assert by_new, "the new leader ran nothing"
        assert cluster.monitor.holder() in (None, new.instance_id)
        assert "Traceback" not in old.log() + new.log(), (old.log() + new.log())[-4000:]
