"""``jobctl daemon`` on a store it can never use as configured exits 78, which the systemd unit
does not restart; on a store it cannot reach right now it exits 1, which the unit restarts.

Real files and a real daemon process each time. Before, every refusal but a newer schema was
exit 1, and ``contrib/jobctl.service`` (``Restart=on-failure``, ``RestartPreventExitStatus=2
78``) started the daemon again every 2 s forever on an empty file or another program's database.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from jobctl.store.database import Database
from jobctl.store.url import parse_store_url

Daemon = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def start_daemon(tmp_path: Path) -> Daemon:
    """Runs ``jobctl daemon --no-api`` on a store URL until it exits (it should at once)."""
    config = tmp_path / "jobctl.toml"
    config.write_text('[scheduler]\ntimezone = "UTC"\n')
    base = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}

    def start(url: str, **env: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "jobctl", "--config", str(config), "--db", url, "daemon", "--no-api"]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, env={**base, **env})

    return start


def _empty(path: Path) -> None:
    path.touch()


def _foreign_database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, title TEXT)")
    conn.close()


def _database_without_tables(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 3")  # writes the header: a SQLite file with no table
    conn.close()


def _text(path: Path) -> None:
    path.write_text("[store]\nurl = 'this is a config, not a store'\n")


def _directory(path: Path) -> None:
    path.mkdir()


def _named_pipe(path: Path) -> None:
    os.mkfifo(path)


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (_empty, "is an empty file but is not a jobctl store"),
        (_foreign_database, "holds tables but is not a jobctl store"),
        (_database_without_tables, "is a SQLite database without jobctl's tables"),
        (_text, "is not a usable SQLite database (file is not a database)"),
        (_directory, "is a directory, not a SQLite file"),
        (_named_pipe, "is a named pipe, not a SQLite file"),
    ],
    ids=["empty-file", "foreign-database", "no-tables", "not-sqlite", "directory", "named-pipe"],
)
def test_a_file_that_is_no_jobctl_store_is_refused_with_78(
    start_daemon: Daemon, tmp_path: Path, make: Callable[[Path], None], said: str
) -> None:
    path = tmp_path / "jobctl.db"
    make(path)
    before = sorted(os.listdir(tmp_path))
    refused = start_daemon(f"sqlite:///{path}")
    assert refused.returncode == 78, refused
    assert refused.stderr.startswith(f"jobctl: store {path} {said}"), refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert sorted(os.listdir(tmp_path)) == before, "the file is left as it was, with nothing beside it"


def test_a_device_is_refused_with_78(start_daemon: Daemon) -> None:
    refused = start_daemon("sqlite:////dev/null")
    assert (refused.returncode, refused.stderr) == (
        78,
        "jobctl: store /dev/null is a character device, not a SQLite file; give the path of a jobctl store "
        "(check --db)\n",
    )


def test_a_postgres_schema_of_another_application_is_refused_with_78(start_daemon: Daemon, pg_url: str) -> None:
    db = Database(parse_store_url(pg_url))  # the test's own schema: another program's table in it
    try:
        db.execute("CREATE TABLE jobs (id integer PRIMARY KEY, title text)")
    finally:
        db.close()
    refused = start_daemon(pg_url)
    assert refused.returncode == 78, refused
    assert refused.stderr.endswith(" holds tables but is not a jobctl store\n"), refused.stderr


def test_a_missing_postgres_driver_is_refused_with_78(start_daemon: Daemon, tmp_path: Path) -> None:
    """Installing the driver is a person's job: a restart every 2 s cannot find it."""
    hidden = tmp_path / "hidden" / "psycopg"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text('raise ImportError("No module named psycopg")\n')
    refused = start_daemon("postgresql+psycopg://jobctl@127.0.0.1:1/jobctl", PYTHONPATH=str(hidden.parent))
    assert (refused.returncode, refused.stderr) == (
        78,
        "jobctl: the Postgres driver is not installed: No module named psycopg\n",
    )


def test_a_store_that_cannot_be_reached_stays_exit_1_to_be_restarted(start_daemon: Daemon, tmp_path: Path) -> None:
    """Postgres down (nothing listens on port 1) or a folder that cannot be made now: waiting may help."""
    down = start_daemon("postgresql+psycopg://postgres@127.0.0.1:1/test")
    assert down.returncode == 1 and "Connection refused" in down.stderr, down
    (tmp_path / "not-a-folder").write_text("")
    blocked = start_daemon(f"sqlite:///{tmp_path / 'not-a-folder' / 'jobctl.db'}")
    assert blocked.returncode == 1 and "cannot create store" in blocked.stderr, blocked


def test_other_commands_keep_exit_1_for_the_same_refusal(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    config = tmp_path / "jobctl.toml"
    config.write_text('[scheduler]\ntimezone = "UTC"\n')
    listed = subprocess.run(
        [sys.executable, "-m", "jobctl", "--config", str(config), "--db", f"sqlite:///{path}", "jobs", "list"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert listed.returncode == 1 and "is not a jobctl store" in listed.stderr, listed
