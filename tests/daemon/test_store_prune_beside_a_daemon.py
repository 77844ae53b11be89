"""``jobctl store prune`` beside a real leading daemon: it sees the daemon and keeps to what a
scheduler can live with (short batches, a log copied into the file every few batches, free
pages given back step by step, no rewrite of the file under the daemon's feet)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from jobctl.store import open_store
from tests.daemon.helpers import DaemonFactory, write_config
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
