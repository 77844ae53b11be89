"""Migration 0028 and ``GET /overview``'s failures: the latest failed or timed-out runs by when
they ended, read from ``ix_executions_failures``, which holds only those runs."""

from __future__ import annotations

from datetime import timedelta

from jobctl.service.overview import overview
from jobctl.store import Store
from jobctl.store.figures import FAILURES_SQL, recent_failures_sql
from tests.store.helpers import NOW, add_executions, add_job
from tests.store.test_partial_indexes import _index_definition


def _plan(store: Store, sql: str, params: dict[str, object]) -> str:
    if store.db.is_sqlite:
        return " | ".join(row["detail"] for row in store.db.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params))
    # A test table does not look like millions of runs to the statistics: with the plans a small
    # table gets ruled out, what is left shows whether the index can give the rows in order.
    with store.db.transaction():
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            store.db.execute(f"SET LOCAL {setting} = off")
        return " | ".join(row["QUERY PLAN"] for row in store.db.fetch_all(f"EXPLAIN {sql}", params))


def _ended(store: Store, execution_id: str, *, ago: timedelta) -> None:
    store.db.execute("UPDATE executions SET completed_at = :at WHERE id = :id", {"at": NOW - ago, "id": execution_id})


def test_a_long_run_that_has_just_failed_comes_before_quick_failures_that_ended_while_it_ran(store: Store) -> None:
    """``jobctl top``'s RECENT FAILURES: a 25 s run that failed a moment ago sorted by its start,
    below 20 quick failures that started (and ended) after it, and was not listed at all."""
    long_job, quick_job = add_job(store.db, "long-backup"), add_job(store.db, "quick")
    [long_run] = add_executions(store.db, long_job, [timedelta(seconds=30)], status="failed")
    _ended(store, long_run, ago=timedelta(seconds=5))  # a 25 s run
    quick = add_executions(store.db, quick_job, [timedelta(seconds=29 - n) for n in range(22)], status="failed")
    timeout = add_executions(store.db, quick_job, [timedelta(seconds=2)], status="timeout")  # ended after it
    add_executions(store.db, quick_job, [timedelta(seconds=1)])  # a success is no failure

    failures = overview(store, NOW)["recentFailures"]
    assert len(failures) == 20
    assert [f["executionId"] for f in failures[:2]] == [timeout[0], long_run], failures[:3]
    assert [f["executionId"] for f in failures[2:]] == quick[::-1][:18], "then by end, newest first"
    assert failures[1]["jobName"] == "long-backup" and failures[1]["status"] == "failed"


def test_the_failures_index_holds_only_failed_and_timed_out_runs(store: Store) -> None:
    definition = _index_definition(store, "ix_executions_failures")
    assert "failed" in definition and "timeout" in definition and "completed_at" in definition, definition
    if store.db.is_sqlite:  # SQLite can count the entries of the index itself
        job = add_job(store.db, "mixed")
        add_executions(store.db, job, [timedelta(minutes=n) for n in range(1, 4)], status="failed")
        add_executions(store.db, job, [timedelta(minutes=4)], status="timeout")
        add_executions(store.db, job, [timedelta(minutes=n) for n in range(5, 15)])
        add_executions(store.db, job, [timedelta(minutes=15)], status="skipped")
        counted = f"SELECT COUNT(*) FROM executions INDEXED BY ix_executions_failures WHERE {FAILURES_SQL}"
        entries = store.db.scalar(counted)
        assert entries == 4


def test_the_recent_failures_are_a_backward_read_of_the_index_with_no_sort(store: Store) -> None:
    job = add_job(store.db, "broken")
    add_executions(store.db, job, [timedelta(minutes=n) for n in range(1, 30)], status="failed")
    plan = _plan(store, recent_failures_sql(store.db), {"limit": 20})
    assert "ix_executions_failures" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, f"the index gives the order: {plan}"
    assert store.figures.recent_failures(limit=20)[0].job_name == "broken"
