"""``jobctl store check``, ``store backup`` and ``store prune`` on SQLite stores with damaged
pages, as real subprocesses: each problem a line (a finding in ``--json``), damage that stops a
check reported as a finding, a copy that fails SQLite's quick check kept with a warning (under
``--json``: in the JSON only) and exit 1, a prune refused before it writes anything; and the
leader's pruner, which stops at damage."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from jobctl.models import RetentionPolicy
from jobctl.scheduler.pruner import BackgroundPruner
from jobctl.store import open_store
from tests.conftest import Cli
from tests.scheduler.helpers import FakeClock
from tests.store.helpers import NOW, add_executions, add_job
from tests.store.test_store_cmds import one_line_error

PAGE = 4096


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    """A SQLite store with 2,000 runs: its executions table and indexes span many pages."""
    path = tmp_path / "jobctl.db"
    store = open_store(f"sqlite:///{path}")
    job = add_job(store.db, "nightly")
    add_executions(store.db, job, [timedelta(seconds=n) for n in range(2000)], output="x" * 100)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def damage_root_page(path: Path, name: str) -> int:
    """Overwrite the page header of table or index ``name``'s root page (the file still opens);
    the page's offset in the file."""
    conn = sqlite3.connect(path)
    try:
        [(root,)] = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchall()
        assert conn.execute("PRAGMA page_size").fetchone() == (PAGE,)
    finally:
        conn.close()
    with path.open("r+b") as file:
        file.seek(PAGE * (root - 1))
        file.write(b"\xff" * 8)
    return int(PAGE * (root - 1))


def lines_of_one_row(path: Path) -> list[str]:
    """What ``PRAGMA integrity_check`` says, as SQLite gives it: rows that hold several lines."""
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def test_each_problem_of_the_integrity_check_is_a_line_and_a_finding(filled: Path, bare_cli: Cli) -> None:
    damage_root_page(filled, "executions")
    [row] = lines_of_one_row(filled)
    assert row.count("\n") > 5, "SQLite put the problems in one row"
    url = f"sqlite:///{filled}"

    result = bare_cli("--db", url, "store", "check", "--json")

    assert result.code == 1 and result.stderr == "", result
    data = json.loads(result.stdout)
    assert data["ok"] is False
    integrity = [p["detail"] for p in data["problems"] if p["check"] == "integrity"]
    assert integrity[0].startswith("Page ") and "btreeInitPage() returns error code 11" in integrity[0]
    assert len(integrity) == row.count("\n"), "one finding per problem, without the '*** in database main ***' line"
    assert all("\n" not in detail and "***" not in detail for detail in integrity)
    # the foreign keys cannot be read past the damaged table: a finding, not an error
    assert {"check": "foreign keys", "detail": "not checked: database disk image is malformed"} in data["problems"]
    human = bare_cli("--db", url, "store", "check")
    assert human.code == 1 and "\\n" not in human.stdout, human
    assert human.stdout.splitlines() == [f"{p['check']}: {p['detail']}" for p in data["problems"]]


def test_damage_that_stops_the_integrity_check_is_reported_as_findings(filled: Path, bare_cli: Cli) -> None:
    damage_root_page(filled, "ix_executions_created_id")
    with pytest.raises(sqlite3.DatabaseError, match="malformed"):
        lines_of_one_row(filled)  # integrity_check itself gives up on this file

    result = bare_cli("--db", f"sqlite:///{filled}", "store", "check", "--json")

    assert result.code == 1 and result.stderr == "", result
    problems = json.loads(result.stdout)["problems"]
    details = [p["detail"] for p in problems if p["check"] == "integrity"]
    assert "btreeInitPage() returns error code 11" in details[0]  # listed by quick_check instead
    assert "Page" in details[1] and "is never used" in details[1]
    assert details[-1] == "integrity_check stopped: database disk image is malformed"


def test_pages_a_stopped_quick_check_found_are_listed_too(filled: Path, bare_cli: Cli, tmp_path: Path) -> None:
    """Five pages of zeros: both checks find them in their first row and stop at the next step,
    whose failure made Python's sqlite3 drop that row (a ``fetchall`` gives nothing but the error)."""
    with filled.open("r+b") as file:
        file.seek(PAGE * 20)
        file.write(bytes(PAGE * 5))
    conn = sqlite3.connect(filled)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="malformed"):
            conn.execute("PRAGMA quick_check").fetchall()
    finally:
        conn.close()

    result = bare_cli("--db", f"sqlite:///{filled}", "store", "check", "--json")

    assert result.code == 1 and result.stderr == "", result
    details = [p["detail"] for p in json.loads(result.stdout)["problems"] if p["check"] == "integrity"]
    pages = [detail for detail in details if detail.endswith(": btreeInitPage() returns error code 11")]
    assert len(pages) >= 3 and all(page.startswith("Page ") for page in pages), details
    assert details[-1] == "integrity_check stopped: database disk image is malformed", details
    copy = tmp_path / "copy.db"
    backup = bare_cli("--db", f"sqlite:///{filled}", "store", "backup", str(copy), "--json")
    assert backup.code == 1, backup
    quick = json.loads(backup.stdout)["quickCheck"]
    assert quick[0].startswith("Page ") and quick[0].endswith("btreeInitPage() returns error code 11"), quick
    assert quick[-1] == "database disk image is malformed", quick


def test_a_file_that_does_not_open_is_one_line_on_stderr(filled: Path, bare_cli: Cli) -> None:
    with filled.open("r+b") as file:
        file.write(b"not a sqlite file")
    result = bare_cli("--db", f"sqlite:///{filled}", "store", "check", "--json")
    one_line_error(result, 1, "is not a usable SQLite database")
    assert result.stdout == ""


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
def test_a_backup_of_a_damaged_store_is_kept_and_says_so(
    filled: Path, tmp_path: Path, bare_cli: Cli, as_json: bool
) -> None:
    at = damage_root_page(filled, "ix_executions_created_id")
    copy = tmp_path / "copy.db"

    result = bare_cli("--db", f"sqlite:///{filled}", "store", "backup", str(copy), *(["--json"] if as_json else []))

    assert result.code == 1, result
    assert copy.read_bytes()[at : at + PAGE] == filled.read_bytes()[at : at + PAGE], "the copy is kept, damage and all"
    if as_json:  # the JSON holds the quick check's problems: stderr does not say them again
        assert result.stderr == "", result.stderr
        data = json.loads(result.stdout)
        assert data["path"] == str(copy) and data["sizeBytes"] == copy.stat().st_size
        assert "btreeInitPage() returns error code 11" in data["quickCheck"][0]
        assert all("\n" not in problem for problem in data["quickCheck"])
    else:
        assert result.stdout.startswith(f"backed up to {copy} (")
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
        warning = f"jobctl: warning: the copy {copy} (and so the store) fails SQLite's quick check ("
        assert result.stderr.startswith(warning) and result.stderr.endswith("; run jobctl store check\n")


def test_a_backup_of_a_sound_store_passes_the_quick_check(filled: Path, tmp_path: Path, bare_cli: Cli) -> None:
    result = bare_cli("--db", f"sqlite:///{filled}", "store", "backup", str(tmp_path / "copy.db"), "--json")
    assert result.code == 0 and result.stderr == "", result
    assert json.loads(result.stdout)["quickCheck"] == "ok"


EXPIRED, KEPT = 3000, 1000


@pytest.fixture
def expired(tmp_path: Path) -> Path:
    """A SQLite store with 3,000 runs past keep_days (90) and 1,000 recent ones, all with output:
    a prune has something to remove, and then most of the file free (so it would rewrite it)."""
    path = tmp_path / "jobctl.db"
    store = open_store(f"sqlite:///{path}")
    job = add_job(store.db, "nightly")
    add_executions(store.db, job, [timedelta(days=100, seconds=n) for n in range(EXPIRED)], output="x" * 100)
    add_executions(store.db, job, [timedelta(days=1, seconds=n) for n in range(KEPT)], output="x" * 100)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def damage_page(path: Path, page: int) -> None:
    """Overwrite the header of page ``page`` (counted from 1, as SQLite does)."""
    with path.open("r+b") as file:
        file.seek(PAGE * (page - 1))
        file.write(b"\xff" * 8)


def leaf_pages(path: Path, name: str) -> list[int]:
    """The leaf pages of table or index ``name``'s b-tree, in key order (SQLite's ``dbstat``)."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path", (name,))
        return [page for (page,) in rows]
    finally:
        conn.close()


def runs_in_the_file(path: Path) -> int:
    """Rows of the executions table, read from the table itself (its indexes may be the damage)."""
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM executions NOT INDEXED").fetchone()[0])
    finally:
        conn.close()


DAMAGE = {
    # a table no prune reads: the prune used to remove every expired run and exit 0
    "tokens-table": lambda path: damage_root_page(path, "api_tokens"),
    # the pointer map SQLite uses to move pages about: the prune removed the runs, rewrote the file, exit 0
    "pointer-map": lambda path: damage_page(path, 2),
    # an index leaf the batches reach part-way: the prune removed a few batches, then failed
    "index-leaf": lambda path: damage_page(path, _middle(leaf_pages(path, "ix_executions_created_id"))),
}


def _middle(pages: list[int]) -> int:
    return pages[len(pages) // 2]


@pytest.mark.parametrize("where", list(DAMAGE))
def test_store_prune_refuses_a_damaged_store_and_writes_nothing(expired: Path, bare_cli: Cli, where: str) -> None:
    """Prune and dry run alike: SQLite's quick check before anything, one line naming what is
    wrong and where to go, exit 1, the file as it was to the byte."""
    DAMAGE[where](expired)
    before = expired.read_bytes()
    url = f"sqlite:///{expired}"

    for dry_run in (False, True):
        result = bare_cli("--db", url, "store", "prune", *(["--dry-run"] if dry_run else []))

        assert (result.code, result.stdout) == (1, ""), result
        assert runs_in_the_file(expired) == EXPIRED + KEPT
        assert expired.read_bytes() == before, "nothing was written into the damaged file"
        done = "store prune --dry-run counted nothing" if dry_run else "store prune removed nothing"
        one_line_error(result, 1, f"; {done}: run jobctl store check, and restore a backup (docs/store-backup.md)")
        assert result.stderr.startswith(f"jobctl: store {expired} is not a usable SQLite database ("), result.stderr
    assert bare_cli("--db", url, "store", "check").code == 1, "store check, which the message names, says so too"


def test_the_leaders_pruner_stops_at_a_damaged_store_and_says_so_once(
    expired: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A pass whose first batch meets damaged pages ends the pruner: one ERROR, no pass after it
    (each would delete what it could reach first), and the thread ends by itself."""
    damage_root_page(expired, "sqlite_autoindex_execution_output_1")  # every batch deletes output first
    store = open_store(f"sqlite:///{expired}", create=False)
    policy = RetentionPolicy(keep_days=90, keep_per_job=100_000, output_keep_days=30)
    pruner = BackgroundPruner(store, policy=lambda: policy, is_leader=lambda: True, interval_seconds=0.02,
                              clock=FakeClock(NOW))  # fmt: skip
    stop = threading.Event()
    thread = threading.Thread(target=pruner.run, args=(stop,))
    try:
        with caplog.at_level(logging.INFO, logger="jobctl.scheduler.pruner"):
            thread.start()
            thread.join(timeout=3)  # scores of passes, were it to go on
            ended_by_itself = not thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=5)
        store.close()

    assert ended_by_itself, "the pruner stopped for good"
    said = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [record.levelno for record in said] == [logging.ERROR], caplog.text
    assert said[0].getMessage() == (
        f"pruning history stopped: store {expired} is not a usable SQLite database (database disk image is "
        "malformed); the daemon prunes no more until it is restarted: run jobctl store check, and restore a backup "
        "(docs/store-backup.md)"
    )
    assert runs_in_the_file(expired) == EXPIRED + KEPT
