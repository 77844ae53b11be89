"""Migration 0026: ``ix_executions_group_status`` holds only the runs of a concurrency group, and
``ix_executions_job_active`` only pending and running runs (in place of the job/status/completion
index). The finished runs retention deletes are in neither, and the questions of each still read
its index on both stores."""

from __future__ import annotations

from datetime import timedelta

from jobctl.models import ConcurrencyGroup
from jobctl.store import Store
from jobctl.store.executions import ACTIVE_SQL
from jobctl.store.groups import GROUP_RUNNING_SQL, GROUP_USAGE_SQL
from tests.store.helpers import NOW, add_executions, add_job


def _index_definition(store: Store, name: str = "ix_executions_group_status") -> str:
    if store.db.is_sqlite:
        sql = "SELECT sql FROM sqlite_master WHERE name = :name"
    else:
        sql = "SELECT indexdef FROM pg_indexes WHERE indexname = :name AND schemaname = current_schema()"
    return str(store.db.scalar(sql, {"name": name}))


def _plan(store: Store, sql: str, params: dict[str, object]) -> str:
    if store.db.is_sqlite:
        return " | ".join(row["detail"] for row in store.db.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params))
    with store.db.transaction():  # a test table does not look like a million runs to the statistics
        store.db.execute("SET LOCAL enable_seqscan = off")
        return " | ".join(row["QUERY PLAN"] for row in store.db.fetch_all(f"EXPLAIN {sql}", params))


def _set_group(store: Store, ids: list[str], group: str, status: str) -> None:
    for execution_id in ids:
        store.db.execute(
            "UPDATE executions SET concurrency_group = :group, status = :status WHERE id = :id",
            {"group": group, "status": status, "id": execution_id},
        )


def test_the_index_holds_only_runs_of_a_group(store: Store) -> None:
    definition = _index_definition(store)
    assert "concurrency_group IS NOT NULL" in definition, definition
    if store.db.is_sqlite:  # SQLite can count the entries of the index itself
        job = add_job(store.db, "grouped")
        grouped = add_executions(store.db, job, [timedelta(minutes=n) for n in range(1, 4)])
        add_executions(store.db, job, [timedelta(minutes=n) for n in range(10, 17)])
        _set_group(store, grouped, "db", "running")
        entries = store.db.scalar(
            "SELECT COUNT(*) FROM executions INDEXED BY ix_executions_group_status WHERE concurrency_group IS NOT NULL"
        )
        assert entries == 3


def test_the_group_questions_read_the_index_and_count_right(store: Store) -> None:
    store.groups.sync([ConcurrencyGroup(name="db", limit=2), ConcurrencyGroup(name="web", limit=1)], now=NOW)
    job = add_job(store.db, "grouped")
    running = add_executions(store.db, job, [timedelta(minutes=n) for n in range(1, 3)])
    waiting = add_executions(store.db, job, [timedelta(minutes=n) for n in range(3, 6)])
    done = add_executions(store.db, job, [timedelta(minutes=n) for n in range(6, 8)])
    add_executions(store.db, job, [timedelta(minutes=n) for n in range(8, 20)])  # no group
    _set_group(store, running, "db", "running")
    _set_group(store, waiting, "db", "pending")
    _set_group(store, done, "web", "success")

    assert store.groups.running("db") == 2
    assert store.groups.running("web") == 0
    assert store.groups.running_by_group() == {"db": 2}
    assert [(u.name, u.running, u.waiting) for u in store.groups.usage()] == [("db", 2, 3), ("web", 0, 0)]

    params = {"name": "db", "running": "running", "pending": "pending"}
    for sql in (GROUP_RUNNING_SQL, GROUP_USAGE_SQL):
        plan = _plan(store, sql, params)
        assert "ix_executions_group_status" in plan, plan


def test_the_active_index_holds_only_pending_and_running_runs(store: Store) -> None:
    definition = _index_definition(store, "ix_executions_job_active")
    assert "pending" in definition and "running" in definition, definition
    assert _index_definition(store, "ix_executions_job_status_completed") == "None"
    if store.db.is_sqlite:
        job = add_job(store.db, "busy")
        add_executions(store.db, job, [timedelta(minutes=1)], status="running")
        add_executions(store.db, job, [timedelta(minutes=2), timedelta(minutes=3)], status="pending")
        add_executions(store.db, job, [timedelta(minutes=n) for n in range(4, 14)])
        entries = store.db.scalar(
            f"SELECT COUNT(*) FROM executions INDEXED BY ix_executions_job_active WHERE {ACTIVE_SQL}"
        )
        assert entries == 3


def test_a_jobs_active_runs_are_read_from_the_active_index_and_are_right(store: Store) -> None:
    busy, idle = add_job(store.db, "busy"), add_job(store.db, "idle")
    running = add_executions(store.db, busy, [timedelta(minutes=3)], status="running")
    waiting = add_executions(store.db, busy, [timedelta(minutes=1), timedelta(minutes=2)], status="pending")
    add_executions(store.db, busy, [timedelta(minutes=n) for n in range(4, 24)])
    add_executions(store.db, idle, [timedelta(minutes=n) for n in range(1, 11)], status="failed")

    assert store.executions.count_active(busy) == 3 and store.executions.count_active(idle) == 0
    assert store.executions.active_counts([busy, idle]) == {busy: 3}
    assert [e.id for e in store.executions.active_of_job(busy)] == running + waiting[::-1]
    assert {job: [e.id for e in found] for job, found in store.executions.active_of_jobs([busy, idle]).items()} == {
        busy: running + waiting[::-1]
    }
    assert [e.id for e in store.executions.request_stop(busy, "stopped")] == running
    skipped = store.executions.skip_waiting(busy, now=NOW, retry_reason="r", other_reason="o")
    assert skipped == 2 and store.executions.count_active(busy) == 1

    if not store.db.is_sqlite:  # statistics, as autovacuum keeps them: without any, two indexes of
        store.db.execute("ANALYZE executions")  # the same estimated cost were chosen by creation order
    params = {"job_id": busy, "j0": busy, "j1": idle, "running": "running", "pending": "pending"}
    for sql in (
        f"SELECT COUNT(*) FROM executions WHERE job_id = :job_id AND {ACTIVE_SQL}",
        f"SELECT * FROM executions WHERE {ACTIVE_SQL} AND job_id IN (:j0, :j1) ORDER BY created_at, id",
        f"SELECT * FROM executions WHERE job_id = :job_id AND {ACTIVE_SQL} AND status = :running",
        f"UPDATE executions SET pending_reason = NULL WHERE job_id = :job_id AND {ACTIVE_SQL} AND status = :pending",
    ):
        plan = _plan(store, sql, params)
        assert "ix_executions_job_active" in plan, plan


def test_a_jobs_last_success_outlives_the_run_that_set_it(store: Store) -> None:
    """Expecting a success within a time reads the last success from ``job_run_stats``: retention
    removing the run does not make the job look as if it never succeeded."""
    job = add_job(store.db, "nightly")
    store.db.execute(
        "UPDATE jobs SET expect_success_within_seconds = 86400, is_enabled = :yes WHERE id = :id",
        {"yes": True, "id": job},
    )
    add_executions(store.db, job, [timedelta(days=3)])
    add_executions(store.db, job, [timedelta(days=1)], status="failed")
    store.db.execute("DELETE FROM executions WHERE job_id = :id AND status = 'success'", {"id": job})

    [(found, last_success)] = store.job_health.expecting_success()
    assert found.id == job
    assert last_success == NOW - timedelta(days=3)
