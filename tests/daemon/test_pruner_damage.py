"""A real daemon whose pruner meets a SQLite store with damaged pages: the pruner stops and says
so once, the scheduler goes on running jobs (docs/retention.md, "When a pruner fails")."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from jobctl.service import Service
from jobctl.store import open_store
from tests.conftest import ADMIN
from tests.daemon.helpers import DaemonFactory, shell_job, wait_for, write_config
from tests.store.helpers import add_executions, add_job
from tests.store.test_store_damage import damage_page, leaf_pages, runs_in_the_file

EXPIRED = 3000


def test_a_daemon_whose_pruner_meets_damage_logs_it_once_and_goes_on_scheduling(tmp_path: Path) -> None:
    path = tmp_path / "jobctl.db"
    url = f"sqlite:///{path}"
    store = open_store(url)
    try:
        add_executions(store.db, add_job(store.db, "old"), [timedelta(days=100, seconds=n) for n in range(EXPIRED)])
        job = shell_job(Service(store, ADMIN, default_timezone="UTC"), "tick", "echo tick")
        store.db.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    # The oldest runs' page of the index the pruner reads them by; the scheduler's new runs go at its other end.
    damage_page(path, leaf_pages(path, "ix_executions_created_id")[0])
    daemons = DaemonFactory(url, write_config(tmp_path / "jobctl.toml"), tmp_path)
    try:
        daemon = daemons.start()
        stopped = "pruning history stopped: "
        wait_for(lambda: stopped in daemon.log(), timeout=20, what="the pruner to meet the damage")
        runs_then = _runs_of(url, job["id"])
        time.sleep(3)
        assert daemon.alive()
        assert _runs_of(url, job["id"]) >= runs_then + 2, daemon.log()
        log = daemon.log()
    finally:
        daemons.stop_all()

    [line] = [line for line in log.splitlines() if "pruning history" in line]
    assert stopped in line and "ERROR" in line, line
    assert f"store {path} is not a usable SQLite database (database disk image is malformed)" in line
    assert "the daemon prunes no more until it is restarted: run jobctl store check" in line
    assert runs_in_the_file(path) >= EXPIRED, "no expired run was removed"


def _runs_of(url: str, job_id: str) -> int:
    store = open_store(url, create=False)
    try:
        return int(store.db.scalar("SELECT COUNT(*) FROM executions WHERE job_id = :job", {"job": job_id}))
    finally:
        store.close()
