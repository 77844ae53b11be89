"""A column added by a newer jobctl's upgrade does not stop a running Postgres daemon.

Statements run prepared, and Postgres refuses to run a prepared ``SELECT *`` or ``RETURNING *``
again once its table gained a column ("cached plan must not change result type"). A daemon
whose connection kept such statements failed every tick after a rolling upgrade, for good,
while it held the lease, so no other daemon took over. The column is added here by hand, as a
later migration would add it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from jobctl.errors import StoreUnavailable
from jobctl.service import Service
from jobctl.store import open_store
from jobctl.store.database import Database
from jobctl.store.url import parse_store_url
from tests.conftest import ADMIN, TEST_ZONE
from tests.daemon.helpers import DaemonFactory, executions, shell_job, wait_for, write_config


def add_a_column(pg_url: str, table: str) -> None:
    """``ALTER TABLE ... ADD COLUMN`` on a connection of its own, as an upgrading jobctl would."""
    with psycopg.connect(**(parse_store_url(pg_url).pg_conninfo or {}), autocommit=True) as other:
        other.execute(f"ALTER TABLE {table} ADD COLUMN added_later INTEGER")


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    opened = Database(parse_store_url(pg_url), single=True)
    opened.execute("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)")
    opened.execute("INSERT INTO things VALUES (1, 'one')")
    yield opened
    opened.close()


def test_a_statement_of_its_own_is_prepared_again_at_once(db: Database, pg_url: str) -> None:
    for _ in range(3):
        assert db.fetch_all("SELECT * FROM things") == [{"id": 1, "name": "one"}]
    add_a_column(pg_url, "things")
    assert db.fetch_all("SELECT * FROM things") == [{"id": 1, "name": "one", "added_later": None}]
    assert db.fetch_all("SELECT * FROM things") == [{"id": 1, "name": "one", "added_later": None}]


def test_a_transaction_fails_once_as_an_outage_and_then_works(db: Database, pg_url: str) -> None:
    """Inside a transaction the statement cannot be run again (the transaction is aborted): the
    caller sees an outage, which it retries, and the retry runs on statements prepared afresh."""
    db.fetch_all("SELECT * FROM things WHERE id = :id", {"id": 1})
    add_a_column(pg_url, "things")
    with pytest.raises(StoreUnavailable, match="cached plan must not change result type"), db.transaction():
        db.fetch_all("SELECT * FROM things WHERE id = :id", {"id": 1})
    with db.transaction():
        assert db.fetch_all("SELECT * FROM things WHERE id = :id", {"id": 1}) == [
            {"id": 1, "name": "one", "added_later": None}
        ]


def test_a_leading_daemon_goes_on_running_jobs_after_a_column_is_added(pg_url: str, tmp_path: Path) -> None:
    store = open_store(pg_url)
    daemons = DaemonFactory(pg_url, write_config(tmp_path / "jobctl.toml"), tmp_path)
    try:
        service = Service(store, ADMIN, default_timezone=TEST_ZONE)
        job = shell_job(service, "every-second", "true", scheduleConfig={"seconds": 1})
        daemon = daemons.start()
        wait_for(lambda: len(executions(service, job["id"])) >= 3, timeout=20, what="three runs")
        for table in ("executions", "jobs", "leases", "lease_terms", "scheduler_instances", "job_run_stats"):
            add_a_column(pg_url, table)
        store.close()  # what follows reads on statements prepared after the change
        store = open_store(pg_url)
        service = Service(store, ADMIN, default_timezone=TEST_ZONE)
        before = len(executions(service, job["id"]))
        wait_for(
            lambda: len(executions(service, job["id"])) >= before + 4,
            timeout=20,
            what="four more runs after the columns were added",
        )
        assert daemon.alive()
        assert service.get_status()["leaderInstance"]["id"] in {i["id"] for i in service.get_status()["instances"]}
        failures = [line for line in daemon.log().splitlines() if "cached plan" in line]
        assert len(failures) <= 4, "each kind of transaction fails once, then runs on fresh statements:\n" + "\n".join(
            failures
        )
    finally:
        daemons.stop_all()
        store.close()
