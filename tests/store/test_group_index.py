"""``ix_executions_group_status`` holds only the runs of a concurrency group (migration 0026): runs
without a group, most of them, cost retention nothing there, and the group questions still read
the index on both stores."""

from __future__ import annotations

from datetime import timedelta

from jobctl.models import ConcurrencyGroup
from jobctl.store import Store
from jobctl.store.groups import GROUP_RUNNING_SQL, GROUP_USAGE_SQL
from tests.store.helpers import NOW, add_executions, add_job


def _index_definition(store: Store) -> str:
    if store.db.is_sqlite:
        sql = "SELECT sql FROM sqlite_master WHERE name = 'ix_executions_group_status'"
    else:
        sql = (
            "SELECT indexdef FROM pg_indexes"
            " WHERE indexname = 'ix_executions_group_status' AND schemaname = current_schema()"
        )
    return str(store.db.scalar(sql))


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
