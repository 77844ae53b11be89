"""An existing file given as the SQLite store must be a jobctl store; a missing one becomes one.

Refused files are left exactly as they were: same bytes, same modification time, nothing new
beside them.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from jobctl.errors import StoreError
from jobctl.store import JobFilter, open_store


def _empty(path: Path) -> None:
    path.touch()


def _text(path: Path) -> None:
    path.write_text("these are my notes, not a database\n" * 200)


def _foreign_tables(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.close()


def _no_tables(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")  # a valid SQLite file that holds no table at all
    conn.close()


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (_empty, "is an empty file but is not a jobctl store"),
        (_text, "is not a usable SQLite database"),
        (_foreign_tables, "holds tables but is not a jobctl store"),
        (_no_tables, "without jobctl's tables but is not a jobctl store"),
    ],
    ids=["empty-file", "not-sqlite", "sqlite-with-other-tables", "sqlite-without-tables"],
)
def test_an_existing_file_that_is_not_a_store_is_refused_and_untouched(
    make: Callable[[Path], None], fragment: str, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "mine.db"
    make(path)
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    before = (path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(folder)))
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite:///{path}")
    assert fragment in caught.value.message and str(path) in caught.value.message
    for args in (["jobs", "list"], ["jobs", "create", "x", "--every", "1m", "--command", "true"], ["status"]):
        result = jobctl(f"sqlite:///{path}", *args)
        assert result.returncode == 1, result
        assert result.stderr.count("\n") == 1 and fragment in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
    assert (path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(folder))) == before


def test_a_path_that_does_not_exist_becomes_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "jobctl.db"
    created = jobctl(f"sqlite:///{path}", "jobs", "create", "first", "--every", "1m", "--command", "true")
    assert created.returncode == 0, created.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not [name for name in os.listdir(path.parent) if name.endswith(".new")], "no scratch file left"
    store = open_store(f"sqlite:///{path}")
    try:
        assert [job.name for job in store.jobs.list(JobFilter(), limit=5, offset=0)] == ["first"]
    finally:
        store.close()


def test_processes_creating_one_new_store_at_once_all_share_it(tmp_path: Path) -> None:
    """Nobody sees a half-made store: each of several processes racing to create it succeeds."""
    url = f"sqlite:///{tmp_path / 'raced.db'}"
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda n: jobctl(url, "jobs", "create", f"j{n}", "--every", "1m", "--command",
                                                 "true"), range(6)))  # fmt: skip
    assert [result.returncode for result in results] == [0] * 6, [result.stderr for result in results]
    store = open_store(url)
    try:
        assert store.jobs.counts(JobFilter()).total == 6
    finally:
        store.close()
    assert sorted(name for name in os.listdir(tmp_path) if not name.startswith("raced.db")) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can create a file for another user")
def test_root_creating_a_store_in_another_users_folder_gives_it_to_that_user(tmp_path: Path) -> None:
    """As when root runs ``jobctl`` before the system service's first start: the store lands in
    the service's folder, and the service (its owner) must be able to open and write it."""
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    os.chown(folder, 4242, 4343)
    path = folder / "jobctl.db"
    result = jobctl(f"sqlite:///{path}", "jobs", "create", "first", "--every", "1m", "--command", "true")
    assert result.returncode == 0, result.stderr
    owned = {name: ((folder / name).stat().st_uid, (folder / name).stat().st_gid) for name in os.listdir(folder)}
    assert owned and set(owned.values()) == {(4242, 4343)}, owned


def jobctl(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    env.update({"JOBCTL_DB": url, "JOBCTL_CONFIG": os.devnull})
    return subprocess.run([sys.executable, "-m", "jobctl", *args], capture_output=True, text=True, env=env,
                          timeout=60)  # fmt: skip
