"""A rolling upgrade on Postgres: a newer jobctl upgrades the store while a daemon of the
previous release goes on writing to it (docs/upgrading.md).

The previous release's daemon is stood in for by its transactions, written in SQL of its schema
on a connection of the test: what matters to the upgrade is which locks they hold and ask for.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import psycopg
import pytest

from jobctl.store.database import Database
from jobctl.store.schema_version import HEAD, SCHEMA_REVISIONS, upgrade
from jobctl.store.url import parse_store_url
from tests.conftest import Cli
from tests.store.helpers import add_executions, add_job

PREVIOUS_HEAD = "0023"
"""The schema head of the release before migrations 0024 to 0026, which lock ``executions``."""


def lock_waits(admin: psycopg.Connection, other_than: int) -> int:
    """Sessions of other processes waiting for a lock (a fresh snapshot of pg_stat_activity)."""
    admin.execute("SELECT pg_stat_clear_snapshot()")
    row = admin.execute(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> %s", (other_than,)
    ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("revision", [PREVIOUS_HEAD])
def test_an_upgrade_beside_an_older_daemons_transaction_waits_for_it_instead_of_deadlocking(
    pg_url: str, bare_cli: Cli, revision: str
) -> None:
    """The previous release's pruner reads a batch of runs, then deletes them, in one
    transaction. An upgrade that began in between took a SHARE lock on ``executions`` (0024),
    then asked for an ACCESS EXCLUSIVE one (0026's DROP INDEX): each waited for the other, and
    Postgres ended one of them with "deadlock detected": the upgrade (the new daemon did not
    start) when the delete waited first, else the old daemon's delete, as here."""
    assert revision in SCHEMA_REVISIONS and revision != HEAD
    db = Database(parse_store_url(pg_url))
    upgrade(db, revision)
    job = add_job(db, "old")
    doomed = add_executions(db, job, [timedelta(days=100), timedelta(days=99)])
    db.close()
    conninfo = parse_store_url(pg_url).pg_conninfo or {}
    with psycopg.connect(**conninfo) as old, psycopg.connect(autocommit=True, **conninfo) as admin:
        old.execute("SELECT id FROM executions WHERE id = ANY(%s)", (doomed,))
        upgrader = subprocess.Popen(
            [sys.executable, "-m", "jobctl", "--db", pg_url, "jobs", "list"],
            env=bare_cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 20
            while not lock_waits(admin, old.info.backend_pid):
                assert upgrader.poll() is None, upgrader.communicate()
                assert time.monotonic() < deadline, "the upgrade never waited for the old daemon's transaction"
                time.sleep(0.02)
            try:
                deleted = old.execute("DELETE FROM executions WHERE id = ANY(%s)", (doomed,)).rowcount
                old.commit()
            except psycopg.errors.DeadlockDetected as exc:
                pytest.fail(f"the old daemon's transaction was ended: {exc}")
            _, stderr = upgrader.communicate(timeout=60)
        finally:
            if upgrader.poll() is None:
                upgrader.kill()
                upgrader.wait()
        assert deleted == 2
        assert upgrader.returncode == 0, stderr
        assert "deadlock" not in stderr
        assert admin.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)


def test_a_statement_kept_waiting_past_lock_timeout_by_an_upgrade_is_an_outage_to_retry(pg_url: str) -> None:
    """An upgrade holds its table locks for as long as its migrations take (index builds on a
    big store: seconds). A daemon's statement that waits for them longer than the store's
    ``lock_timeout`` (5 s) fails with Postgres' lock_not_available, which jobctl takes for
    :class:`StoreUnavailable`: the claim is made again at the next tick and an outcome written
    again, as after a lost connection, rather than a :class:`StoreError` for the statement
    itself, which would fail the run whose outcome it was."""
    from jobctl.errors import StoreUnavailable
    from jobctl.store import open_store

    store = open_store(pg_url)
    job = add_job(store.db, "waits")
    conninfo = parse_store_url(pg_url).pg_conninfo or {}
    try:
        with psycopg.connect(**conninfo) as upgrader:
            upgrader.execute("LOCK TABLE executions IN ACCESS EXCLUSIVE MODE")  # as an upgrade does
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="lock timeout"):
                store.db.fetch_all("SELECT id FROM executions WHERE job_id = :job", {"job": job})
            assert 4.5 < time.monotonic() - started < 15, "it waited for the store's lock_timeout"
            upgrader.rollback()
        assert store.db.fetch_all("SELECT id FROM executions WHERE job_id = :job", {"job": job}) == []
    finally:
        store.close()
