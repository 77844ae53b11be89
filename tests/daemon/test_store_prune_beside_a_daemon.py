"""``jobctl store prune`` beside a real leading daemon: it sees the daemon and keeps to what a
scheduler can live with (short batches, a log copied into the file every few batches, free
pages given back step by step, no rewrite of the file under the daemon's feet)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jobctl.service import Service
from jobctl.store import open_store
from jobctl.store.database import to_utc
from tests.conftest import ADMIN
from tests.daemon.helpers import DaemonFactory, shell_job, write_config
from tests.store.helpers import add_executions, add_job, ids_of

ROWS = 3000
REMOVED = {"expiredExecutions": ROWS, "excessExecutions": 0, "outputs": 0, "auditEntries": 0, "deliveries": 0}


def seeded_store(path: Path) -> tuple[str, list[str]]:
    """A SQLite store of expired runs with 3 KB of output each, and 50 recent runs kept."""
    url = f"sqlite:///{path}"
    store = open_store(url)
    try:
        job = add_job(store.db, "j")
        kept = add_executions(store.db, job, [timedelta(days=n) for n in range(1, 51)], output="kept\n")
        add_executions(store.db, job, [timedelta(days=100, seconds=n) for n in range(ROWS)], output="z" * 3000 + "\n")
        store.db.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    return url, kept


def store_prune_output(url: str, config: Path, *options: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_")}
    done = subprocess.run(
        [sys.executable, "-m", "jobctl", "--db", url, "--config", str(config), "store", "prune", *options],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def store_prune(url: str, config: Path) -> dict[str, object]:
    report: dict[str, object] = json.loads(store_prune_output(url, config, "--json"))
    return report


def test_store_prune_sees_a_leading_daemon_and_does_not_rewrite_the_file(tmp_path: Path) -> None:
    prune_config = tmp_path / "prune.toml"
    prune_config.write_text("[history]\nkeep_days = 90\noutput_keep_days = 90\n")
    # The daemon keeps everything itself, so what goes is what the command removed.
    daemon_config = write_config(tmp_path / "daemon.toml")
    daemon_config.write_text(daemon_config.read_text() + "[history]\nkeep_days = 3650\noutput_keep_days = 3650\n")

    alone_url, _ = seeded_store(tmp_path / "alone.db")
    alone = store_prune(alone_url, prune_config)
    assert alone["removed"] == REMOVED and alone["rewritten"] is True and alone["daemonLed"] is False

    led_url, kept = seeded_store(tmp_path / "led.db")
    daemons = DaemonFactory(led_url, daemon_config, tmp_path)
    try:
        daemon = daemons.start()
        assert "started (leader" in daemon.log()
        led = store_prune(led_url, prune_config)
        again = store_prune_output(led_url, prune_config)  # nothing left: the table for people says why it was short
        assert daemon.alive()
    finally:
        daemons.stop_all()

    assert led["removed"] == REMOVED and led["rewritten"] is False and led["daemonLed"] is True
    assert again.startswith("removed 0 rows") and "a daemon leads on this store: batches were kept short" in again
    assert isinstance(led["pagesReleased"], int) and led["pagesReleased"] > 0  # given back step by step
    store = open_store(led_url)
    try:
        assert ids_of(store) == set(kept)
        assert int(store.db.scalar("PRAGMA freelist_count")) == 0
        assert store.db.scalar("PRAGMA integrity_check") == "ok"
    finally:
        store.close()


FILLER_ROWS = 60_000
"""Rows of about a page each, nine in ten deleted beside the daemon: some 54,000 free pages
among live ones, freed from the end of the file first. SQLite looks each page it releases up on
the free list, so in that order the release takes seconds, as after a large prune."""


def test_giving_many_pages_back_beside_a_daemon_never_holds_its_scheduler_back(tmp_path: Path) -> None:
    """``store prune`` releasing tens of thousands of free pages while a daemon leads: the steps
    leave the write lock free between them, so a job due every second misses no slot and the
    daemon keeps its lease. Before, the steps ran back to back: the scheduler's writes could not
    get in, and its slots waited until the release ended (its ticks failed, `store ... is busy`,
    when that took longer than the busy timeout)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)
    try:
        job = shell_job(Service(store, ADMIN, default_timezone="UTC"), "every-second", "true")
        store.db.execute("CREATE TABLE filler (k INTEGER PRIMARY KEY, data BLOB)")
        store.db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)"
            " INSERT INTO filler SELECT i, randomblob(3000) FROM n",
            {"rows": FILLER_ROWS},
        )
        store.db.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    config = write_config(tmp_path / "daemon.toml")
    daemons = DaemonFactory(url, config, tmp_path)
    try:
        daemon = daemons.start()
        time.sleep(2.5)  # past the leader's first pruning pass, which would release the pages itself
        store = open_store(url)
        try:  # in short transactions, beside the daemon
            for top in range(FILLER_ROWS, 0, -1000):
                store.db.execute("DELETE FROM filler WHERE k > :low AND k <= :top AND k % 10 != 0",
                                 {"low": top - 1000, "top": top})  # fmt: skip
            freed = int(store.db.scalar("PRAGMA freelist_count"))
        finally:
            store.close()
        started = datetime.now(UTC)
        report = store_prune(url, config)
        ended = datetime.now(UTC)
        time.sleep(1.5)  # the slot due as the prune ended is recorded
        assert daemon.alive()
        log = daemon.log()
    finally:
        daemons.stop_all()

    assert report["daemonLed"] is True and report["rewritten"] is False, report
    assert isinstance(report["pagesReleased"], int) and report["pagesReleased"] >= freed * 0.9, (report, freed)
    assert "scheduler tick failed" not in log and "no longer leader" not in log, log[-3000:]
    store = open_store(url)
    try:
        runs = store.db.fetch_all(
            "SELECT status, scheduled_for, missed_until, started_at FROM executions WHERE job_id = :job",
            {"job": job["id"]},
        )
    finally:
        store.close()
    missed = [run for run in runs if run["status"] == "missed" and to_utc(run["missed_until"]) >= started]
    assert missed == [], (missed, started, report["seconds"])
    slots = [run for run in runs if run["status"] != "missed" and started <= to_utc(run["scheduled_for"]) <= ended]
    assert len(slots) >= (ended - started).total_seconds() - 1, (len(slots), report["seconds"])
    late = [to_utc(run["started_at"]) - to_utc(run["scheduled_for"]) for run in slots]
    assert all(lateness < timedelta(seconds=1) for lateness in late), (late, report["seconds"])
