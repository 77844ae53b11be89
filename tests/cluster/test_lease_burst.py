"""A leader keeps its lease through a burst of 1,000 runs: same term, renewed on time, no loss;
and it renews even while every pooled connection is taken.

A real daemon with a 3 s TTL (renewals every 0.6 s, self-fencing 2.4 s after the last one)
runs 1,000 one-shot ``true`` jobs due at one instant. Its lease renewals go through a
connection of their own (Postgres) or queue on the process's writer lock (SQLite), never behind
the burst's claims and outcome writes in the pool. A monitor samples the lease row every 50 ms;
the daemon's log must not say the leadership was lost.
"""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobctl.scheduler.leadership import Leadership
from jobctl.store import open_store
from jobctl.store.database import PG_POOL_MAX
from tests.cluster.helpers import LeaseMonitor, admin_service
from tests.daemon.helpers import DaemonFactory, wait_for, write_config

pytestmark = pytest.mark.slow

TTL = 3.0
RUNS = 1000
SECONDS_PER_JOB = {"sqlite": 0.004, "postgres": 0.012}
"""Generous time to create one job through the service on a loaded machine."""


def test_leader_keeps_its_lease_through_a_burst_of_runs(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = "sqlite" if store_url.startswith("sqlite") else "postgres"
    store = open_store(store_url)
    factory = DaemonFactory(store_url, write_config(tmp_path / "jobctl.toml", lease_ttl_seconds=TTL), tmp_path)
    monitor = LeaseMonitor(store_url).start()
    try:
        daemon = factory.start()
        wait_for(lambda: monitor.holder(), timeout=10, what="the daemon to lead")
        due = datetime.now(UTC) + timedelta(seconds=2 + RUNS * SECONDS_PER_JOB[backend])
        service = admin_service(store)
        for n in range(RUNS):
            service.create_job(
                {
                    "name": f"burst-{n:04d}",
                    "taskFunctionId": 1,
                    "jobTypeId": 3,
                    "scheduleConfig": {"run_date": due.isoformat()},
                    "taskArgs": {"command": "true"},
                }
            )
        assert datetime.now(UTC) < due, "seeding took longer than planned: raise SECONDS_PER_JOB"

        def finished() -> int:
            return int(store.db.scalar("SELECT COUNT(*) FROM executions WHERE status = 'success'") or 0)

        wait_for(lambda: finished() >= RUNS, timeout=120, what=f"{RUNS} successful runs", interval=0.2)
        done = datetime.now(UTC)
        wait_for(lambda: any(s.at > done + timedelta(seconds=TTL) for s in monitor.history()), timeout=10, what="time")
        monitor.stop()
        log = daemon.log()
        factory.stop_all()
        history = [s for s in monitor.history() if s.at >= due - timedelta(seconds=1)]
        terms = monitor.terms()
        renewals = sorted({s.expires_at - timedelta(seconds=TTL) for s in history if s.expires_at is not None})
        longest = max((b - a).total_seconds() for a, b in itertools.pairwise(renewals))
        per_job = store.db.fetch_all("SELECT job_id, COUNT(*) AS n FROM executions GROUP BY job_id")
    finally:
        monitor.stop()
        factory.stop_all()
        store.close()
    with capsys.disabled():
        print(
            f"\n[lease through a burst, {backend}] {RUNS} runs recorded {(done - due).total_seconds():.2f}s after "
            f"the due moment; terms seen {[(t[1]) for t in terms]}; longest gap between renewals "
            f"{longest:.2f}s (every {TTL / 5:.1f}s planned, self-fencing after {TTL * 0.8:.1f}s)"
        )
    assert len(terms) == 1, f"the leadership changed hands during the burst: {terms}"
    assert all(s.expires_at is not None and s.expires_at > s.at for s in history), "the lease lapsed"
    assert longest < TTL * 0.8, f"a renewal came {longest:.2f}s after the previous one: the leader fenced itself"
    assert log.count("became leader") == 1, log[-3000:]
    assert "no longer leader" not in log and "lease lost" not in log, log[-3000:]
    assert len(per_job) == RUNS and all(int(row["n"]) == 1 for row in per_job)


def test_renewal_does_not_wait_for_a_pooled_connection(pg_url: str) -> None:
    """Every pooled connection busy in a transaction (as during a burst of outcome writes): the
    heartbeat and the renewal still go through at once, on the lease's own connection."""
    store = open_store(pg_url)
    leadership = Leadership(store, ttl_seconds=TTL)
    release = threading.Event()
    holding = threading.Barrier(PG_POOL_MAX + 1)

    def occupy() -> None:
        with store.transaction():
            store.db.fetch_one("SELECT 1 AS one")
            holding.wait()
            release.wait(30)

    threads = [threading.Thread(target=occupy, daemon=True) for _ in range(PG_POOL_MAX)]
    try:
        leadership.register()
        assert leadership.beat()
        first = leadership.cluster.lease()
        for thread in threads:
            thread.start()
        holding.wait(timeout=20)
        started = time.monotonic()
        assert leadership.beat(), "the renewal failed while the pool was busy"
        took = time.monotonic() - started
        renewed = leadership.cluster.lease()
        assert (renewed.holder_id, renewed.term) == (first.holder_id, first.term)
        assert renewed.expires_at is not None and first.expires_at is not None
        assert renewed.expires_at > first.expires_at
        assert took < 1.0, f"the renewal waited {took:.2f}s"
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=10)
        leadership.mark_stopped()
        store.close()
