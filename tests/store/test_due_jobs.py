"""The scheduler's two questions to ``jobs`` on every tick: which jobs are due, and when to look
again. Both must stay a range of one index however many jobs there are (migration 0025)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from jobctl.store import Store
from jobctl.store.jobs import DUE_SQL, EARLIEST_NEXT_RUN_SQL
from jobctl.store.writes import NextSlot
from tests.test_store import job_values

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def add(store: Store, name: str, *, due_in: timedelta | None, enabled: bool = True, paused: bool = False) -> str:
    new = job_values(name, is_enabled=enabled, is_paused=paused)
    at = None if due_in is None else NOW + due_in
    return store.jobs.insert(dataclasses.replace(new, next=NextSlot(slot=at, run_time=at))).id


def test_due_jobs_are_the_enabled_unpaused_ones_whose_time_has_come_earliest_first(store: Store) -> None:
    late = add(store, "late", due_in=timedelta(minutes=-5))
    now = add(store, "now", due_in=timedelta(0))
    later = add(store, "later", due_in=timedelta(minutes=-1))
    add(store, "future", due_in=timedelta(minutes=1))
    add(store, "disabled", due_in=timedelta(minutes=-10), enabled=False)
    add(store, "paused", due_in=timedelta(minutes=-10), paused=True)
    add(store, "never", due_in=None)

    assert [job.id for job in store.jobs.due(NOW, limit=10)] == [late, later, now]
    assert [job.id for job in store.jobs.due(NOW, limit=2)] == [late, later]
    assert store.jobs.earliest_next_run_time() == NOW - timedelta(minutes=5)


def test_no_enabled_job_with_a_next_run_means_nothing_to_wait_for(store: Store) -> None:
    add(store, "disabled", due_in=timedelta(minutes=-10), enabled=False)
    add(store, "never", due_in=None)
    assert store.jobs.due(NOW, limit=10) == []
    assert store.jobs.earliest_next_run_time() is None


def test_both_are_a_range_of_the_due_index_with_no_sort(store: Store) -> None:
    """SQLite keeps no statistics: given an index on ``is_enabled`` alone it read every enabled
    job and sorted them (120 ms and 79 ms per tick at 100,000 jobs). Postgres plans from its
    statistics, which a test table of 50 rows does not resemble; with sequential scans ruled out
    it must find the same index (docs/scale-query-plans.md)."""
    for index in range(50):
        add(store, f"job-{index}", due_in=timedelta(minutes=index - 25))
    params = {"now": NOW, "yes": True, "no": False, "limit": 200}
    for sql in (DUE_SQL, EARLIEST_NEXT_RUN_SQL):
        if store.db.is_sqlite:
            plan = " | ".join(row["detail"] for row in store.db.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params))
        else:
            with store.db.transaction():
                store.db.execute("SET LOCAL enable_seqscan = off")
                plan = " | ".join(row["QUERY PLAN"] for row in store.db.fetch_all(f"EXPLAIN {sql}", params))
        assert "ix_jobs_due" in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
