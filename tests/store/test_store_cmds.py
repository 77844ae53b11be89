"""``jobctl store info|backup|check|vacuum|prune`` as real subprocesses on real stores."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from jobctl.store import Store, open_store
from jobctl.store import maintenance as m
from jobctl.store.database import Database
from jobctl.store.schema_version import HEAD, upgrade
from jobctl.store.url import parse_store_url
from tests.conftest import Cli
from tests.store.helpers import NOW, add_executions, add_job, days


def file_size(path: Path) -> int:
    return sum(os.path.getsize(f"{path}{end}") for end in ("", "-wal") if os.path.exists(f"{path}{end}"))


def one_line_error(result: object, code: int, fragment: str) -> None:
    assert result.code == code, result  # type: ignore[attr-defined]
    stderr = result.stderr  # type: ignore[attr-defined]
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert fragment in stderr, stderr


def test_info_shows_what_the_store_holds(store: Store, cli: Cli, store_url: str) -> None:
    job = add_job(store.db, "a")
    add_executions(store.db, job, days(3, 1), output="out\n")
    data = json.loads(cli("store", "info", "--json").stdout)
    assert data["backend"] == ("sqlite" if store.db.is_sqlite else "postgresql")
    assert data["schemaVersion"] == HEAD
    assert data["rowCounts"]["jobs"] == 1 and data["rowCounts"]["executions"] == 2
    assert data["rowCounts"]["execution_output"] == 2
    assert data["oldestExecution"] == (NOW - timedelta(days=3)).isoformat().replace("+00:00", "Z")
    assert data["newestExecution"] == (NOW - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert data["retention"] == {"keepDays": 90, "keepPerJob": 1000, "outputKeepDays": 30, "auditKeepDays": 365}
    assert data["sizeBytes"] > 0
    human = cli("store", "info")
    assert human.code == 0 and "rows: executions" in human.stdout


def test_info_masks_the_password_of_a_postgres_url(pg_url: str, bare_cli: Cli) -> None:
    open_store(pg_url).close()
    with_password = pg_url.replace("postgres@", "postgres:s3cret@", 1)
    result = bare_cli("--db", with_password, "store", "info", "--json")
    assert result.code == 0, result
    assert "s3cret" not in result.stdout and json.loads(result.stdout)["location"].count("***") == 1


def test_a_backup_taken_while_another_process_writes_is_a_store(sqlite_url: str, tmp_path: Path, bare_cli: Cli) -> None:
    store = open_store(sqlite_url)
    job = add_job(store.db, "busy")
    add_executions(store.db, job, [timedelta(seconds=n) for n in range(20_000)], output="o" * 200)
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        writer = open_store(sqlite_url)
        minute = 0
        while not stop.is_set():
            minute += 1
            written.append(minute)
            add_executions(writer.db, job, [timedelta(days=-30, microseconds=minute)])
            stop.wait(0.002)
        writer.close()

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        result = bare_cli("--db", sqlite_url, "store", "backup", str(tmp_path / "copy.db"), "--json")
    finally:
        stop.set()
        thread.join()
    assert result.code == 0, result
    assert len(written) > 10, "nothing was written while the backup ran"
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    assert bare_cli("--db", copy, "store", "check").code == 0
    listed = json.loads(bare_cli("--db", copy, "executions", "list", "--json", "--per-page", "1").stdout)
    assert listed["total"] >= 20_000
    assert oct((tmp_path / "copy.db").stat().st_mode & 0o777) == "0o600"
    store.close()


def test_a_backup_never_overwrites_and_needs_a_writable_folder(sqlite_url: str, tmp_path: Path, bare_cli: Cli) -> None:
    open_store(sqlite_url).close()
    taken = tmp_path / "taken.db"
    taken.write_text("keep me")
    one_line_error(bare_cli("--db", sqlite_url, "store", "backup", str(taken)), 2, "already exists")
    assert taken.read_text() == "keep me"
    one_line_error(bare_cli("--db", sqlite_url, "store", "backup", str(tmp_path)), 2, "is a directory")
    missing = tmp_path / "no" / "such" / "copy.db"
    one_line_error(
        bare_cli("--db", sqlite_url, "store", "backup", str(missing)), 2, f"folder {missing.parent} does not exist"
    )
    assert not missing.parent.exists()


def test_a_postgres_backup_is_refused_with_the_pg_dump_command(pg_url: str, bare_cli: Cli, tmp_path: Path) -> None:
    open_store(pg_url).close()
    result = bare_cli("--db", pg_url, "store", "backup", str(tmp_path / "x.db"))
    one_line_error(result, 2, "(umask 077 && pg_dump --format=custom --host=127.0.0.1")
    assert "--schema=jobctl_t_" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_check_finds_an_active_execution_without_a_live_instance(store: Store, cli: Cli) -> None:
    job = add_job(store.db, "j")
    add_executions(store.db, job, days(1, 2))
    assert cli("store", "check").code == 0
    [orphan] = add_executions(store.db, job, days(0.5), status="running", instance_id="gone-instance")
    result = cli("store", "check", "--json")
    assert result.code == 1, result
    problems = json.loads(result.stdout)["problems"]
    assert [p["check"] for p in problems] == ["active execution without a live instance"]
    assert orphan in problems[0]["detail"]
    # what it is and what becomes of it: the state a crash or a backup taken mid-run leaves, not damage
    assert problems[0]["detail"] == (
        f"execution {orphan} is running on instance gone-instance, which the store does not know: "
        "the next daemon to lead records it failed (abandoned) when it starts"
    )
    human = cli("store", "check")
    assert human.code == 1 and orphan in human.stdout


def _store_of_an_earlier_release(path: Path) -> tuple[str, Database]:
    """A SQLite store made as an earlier release made it: no incremental auto-vacuum."""
    path.touch()
    url = f"sqlite:///{path}"
    db = Database(parse_store_url(url))
    upgrade(db, HEAD)
    return url, db


def test_vacuum_gives_space_back_and_switches_an_old_file_to_incremental(tmp_path: Path, bare_cli: Cli) -> None:
    path = tmp_path / "old.db"
    url, db = _store_of_an_earlier_release(path)
    job = add_job(db, "j")
    add_executions(db, job, [timedelta(seconds=n) for n in range(3000)], output="x" * 2000)
    db.execute("DELETE FROM execution_output")
    db.close()
    assert sqlite3.connect(path).execute("PRAGMA auto_vacuum").fetchone() == (0,)

    result = bare_cli("--db", url, "store", "vacuum", "--json")

    assert result.code == 0, result
    data = json.loads(result.stdout)
    assert data["freedBytes"] > 5_000_000 and data["sizeAfterBytes"] < data["sizeBeforeBytes"]
    assert data["logFreedBytes"] == 0, "no log was left beside the file"
    assert sqlite3.connect(path).execute("PRAGMA auto_vacuum").fetchone() == (2,)


def test_vacuum_says_which_part_of_what_it_gave_back_was_the_log(sqlite_url: str, bare_cli: Cli) -> None:
    """Beside another connection (a daemon's) the write-ahead log holds the latest writes; the
    vacuum empties it, and says that was all it gave back on a store with nothing to compact."""
    store = open_store(sqlite_url)
    add_executions(store.db, add_job(store.db, "j"), [timedelta(seconds=n) for n in range(200)], output="z" * 500)
    path = store.url.sqlite_path
    assert path is not None
    bare_cli("--db", sqlite_url, "store", "vacuum")  # compacted: nothing left for the next one
    holder = sqlite3.connect(path)  # keeps the log from being removed when the writer closes
    holder.execute("SELECT count(*) FROM jobs").fetchone()
    try:
        add_executions(store.db, add_job(store.db, "k"), [timedelta(seconds=n) for n in range(50)])
        log = Path(f"{path}-wal").stat().st_size
        assert log > 0
        result = bare_cli("--db", sqlite_url, "store", "vacuum", "--json")
        assert result.code == 0, result
        data = json.loads(result.stdout)
        assert data["logFreedBytes"] == data["freedBytes"] > 0, data
        add_executions(store.db, add_job(store.db, "l"), [timedelta(seconds=n) for n in range(50)])
        text = bare_cli("--db", sqlite_url, "store", "vacuum")
        assert text.code == 0, text
        assert "(all of it the write-ahead log, emptied; a running daemon fills it again)" in text.stdout, text
    finally:
        holder.close()
        store.close()


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_a_vacuum_beside_an_open_read_transaction_says_the_file_shrinks_once_it_ends(
    sqlite_url: str, bare_cli: Cli, as_json: bool
) -> None:
    """Another connection holds a read transaction throughout: the rewrite is done, but its pages
    stay in the write-ahead log, which cannot be copied into the file while that reader may need
    the old pages. Before, the vacuum waited 10 s and said "nothing to give back: 4.9 MiB ->
    8.5 MiB" (exit 0, freedBytes 0). Now it says the log was not copied, why, what the file
    becomes once it is, and what to do; and that is what the file becomes."""
    store = open_store(sqlite_url)
    add_executions(store.db, add_job(store.db, "j"), [timedelta(seconds=n) for n in range(2000)], output="x" * 2000)
    store.db.execute("DELETE FROM execution_output")
    store.db.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM executions").fetchone()
    try:
        result = bare_cli("--db", sqlite_url, "store", "vacuum", *(["--json"] if as_json else []))
    finally:
        reader.execute("COMMIT")
        reader.close()

    assert result.code == 0, result
    assert "the store was rewritten, but its write-ahead log could not be copied into the file: another connection" in (
        result.stderr
    ), result
    assert "run jobctl store vacuum again then" in result.stderr and result.stderr.count("\n") == 1, result
    if as_json:
        data = json.loads(result.stdout)
        assert data["logCopied"] is False and data["freedBytes"] == 0, data
        once = data["sizeOnceLogCopiedBytes"]
        assert once < data["sizeBeforeBytes"] / 2 < data["sizeAfterBytes"], data
    else:
        assert result.stdout.startswith("rewrote the file: ") and " for now, " in result.stdout, result
        assert "once its write-ahead log is copied into it" in result.stdout and "nothing" not in result.stdout
    again = bare_cli("--db", sqlite_url, "store", "vacuum", "--json")  # the reader is gone: the log goes in
    assert again.code == 0 and json.loads(again.stdout)["logCopied"] is True, again
    if as_json:
        assert path.stat().st_size == once


def test_ctrl_c_stops_a_vacuum_at_once_and_leaves_the_store_as_it_was(tmp_path: Path, bare_cli: Cli) -> None:
    """Before, Ctrl-C waited for the rewrite to end, then exited 130 saying nothing, the file
    rewritten all the same. Now SQLite is told to stop: the rewrite is rolled back at once."""
    path = tmp_path / "old.db"
    url, db = _store_of_an_earlier_release(path)  # no incremental vacuum: the vacuum would switch it
    db.use_wal()  # as any command leaves it: the command's first write lock is the rewrite's
    db.execute("CREATE TABLE filler (data BLOB)")
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)"
        " INSERT INTO filler SELECT randomblob(3000) FROM n"
    )
    db.execute("DELETE FROM filler WHERE rowid % 4 = 0")
    db.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")
    before = (int(db.scalar("PRAGMA page_count")), int(db.scalar("PRAGMA freelist_count")))
    db.close()
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)

    proc = subprocess.Popen([sys.executable, "-m", "jobctl", "--db", url, "store", "vacuum", "--json"],
                            env=bare_cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None and not _write_locked(probe):
        time.sleep(0.005)  # until the rewrite has begun (it holds the write lock throughout)
    probe.close()
    began = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - began

    assert proc.returncode == 130, (proc.returncode, out, err)
    assert out == ""
    assert err == "jobctl: interrupted: the vacuum was stopped before it was done; the store is as it was\n"
    assert took < 1.0, took
    conn = sqlite3.connect(path)
    try:
        assert (
            conn.execute("PRAGMA page_count").fetchone()[0],
            conn.execute("PRAGMA freelist_count").fetchone()[0],
        ) == before
        assert conn.execute("PRAGMA auto_vacuum").fetchone() == (0,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


def _write_locked(conn: sqlite3.Connection) -> bool:
    """Whether another connection holds the store's write lock (``conn`` waits for nothing)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    conn.execute("ROLLBACK")
    return False


def test_a_prune_shrinks_the_sqlite_file(sqlite_url: str, bare_cli: Cli) -> None:
    store = open_store(sqlite_url)
    job = add_job(store.db, "j")
    add_executions(store.db, job, [timedelta(days=100, seconds=n) for n in range(4000)], output="y" * 2000)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = store.url.sqlite_path
    assert path is not None
    before = file_size(path)
    store.close()

    result = bare_cli("--db", sqlite_url, "store", "prune", "--json")

    assert result.code == 0, result
    data = json.loads(result.stdout)
    assert data["removed"]["expiredExecutions"] == 4000 and data["pagesReleased"] > 1000
    assert data["rewritten"] is True  # no daemon leads and almost all of the file was free
    assert data["daemonLed"] is False
    assert file_size(path) < before / 2


def test_a_prune_of_a_file_that_cannot_give_pages_back_says_how_to_make_it(tmp_path: Path, bare_cli: Cli) -> None:
    """A store made by an earlier release has no incremental vacuum: its freed pages stay in the
    file. Before, ``store prune`` said nothing of it, and the file simply did not shrink."""
    path = tmp_path / "old.db"
    url, db = _store_of_an_earlier_release(path)
    job = add_job(db, "j")
    add_executions(db, job, [timedelta(days=100, seconds=n) for n in range(1000)], output="x" * 2000)
    db.close()

    result = bare_cli("--db", url, "store", "prune")

    assert result.code == 0, result
    assert result.stdout.startswith("removed 1000 rows"), result
    assert (
        "the file keeps its size: this store was made without incremental vacuum; run `jobctl store vacuum`"
        " once (docs/sqlite-space.md)\n"
    ) in result.stdout, result
    assert bare_cli("--db", url, "store", "vacuum").code == 0
    again = bare_cli("--db", url, "store", "prune")
    assert again.code == 0 and "store vacuum" not in again.stdout, again


@pytest.mark.parametrize("dry", [True, False], ids=["dry-run", "prune"])
def test_prune_says_what_it_removed(store: Store, cli: Cli, dry: bool) -> None:
    job = add_job(store.db, "j")
    add_executions(store.db, job, [timedelta(days=100 + n) for n in range(7)])
    result = cli("store", "prune", *(["--dry-run"] if dry else []))
    assert result.code == 0, result
    assert result.stdout.startswith(f"{'would remove' if dry else 'removed'} 7 rows (7 executions past keep_days")
    assert "a daemon leads" not in result.stdout
    remaining = int(store.db.scalar("SELECT COUNT(*) FROM executions"))
    assert remaining == (7 if dry else 0)
    recorded = store.db.fetch_all("SELECT actor, details FROM audit_log WHERE action = 'store.pruned'")
    assert len(recorded) == (0 if dry else 1)
    if not dry:
        assert recorded[0]["actor"].startswith("local:")
        assert json.loads(recorded[0]["details"])["removed"]["expiredExecutions"] == 7
        audit_table = cli("audit")
        assert "removed: expiredExecutions 7, excessExecutions 0" in audit_table.stdout, audit_table
        assert "{'" not in audit_table.stdout  # no Python repr


def test_store_commands_refuse_the_api(bare_cli: Cli) -> None:
    result = bare_cli("--api", "http://127.0.0.1:9", "store", "info")
    one_line_error(result, 2, "works on the store, not through the API")


def test_info_and_vacuum_leave_other_applications_tables_alone(store: Store, cli: Cli) -> None:
    """A Postgres schema may be shared with other applications (docs/sqlite-store-file.md): their
    tables are not jobctl's to count, size or vacuum. Only jobctl's own tables are."""
    if store.db.is_sqlite:
        made = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        made = "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
    assert {row["name"] for row in store.db.fetch_all(made)} - {"alembic_version"} == set(m.TABLES)
    store.db.execute("CREATE TABLE billing_invoices (id INTEGER PRIMARY KEY, amount TEXT)")
    store.db.execute_many(
        "INSERT INTO billing_invoices (id, amount) VALUES (:id, 'x')", [{"id": n} for n in range(500)]
    )
    data = json.loads(cli("store", "info", "--json").stdout)
    assert sorted(data["rowCounts"]) == sorted(m.TABLES)
    assert "billing_invoices" not in cli("store", "info").stdout
    if store.db.is_sqlite:
        return
    own = sum(int(store.db.scalar("SELECT pg_total_relation_size(:t)", {"t": table})) for table in m.TABLES)
    assert data["sizeBytes"] == own
    assert cli("store", "vacuum").code == 0
    vacuumed = "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relid = CAST(:t AS regclass)"
    assert store.db.scalar(vacuumed, {"t": "jobs"}) is True
    assert store.db.scalar(vacuumed, {"t": "billing_invoices"}) is False


STORE_COMMANDS = {"prune": [], "info": [], "backup": ["{folder}/copy.db"], "check": [], "vacuum": []}
"""Every ``jobctl store`` command, with the arguments it needs."""
BROKEN_CONFIGS = {
    "setting": (
        "[history]\nkeep_days = 36501\n",
        "[history] keep_days must be between 1 and 36500 days (100 years), not 36501",
    ),
    "toml": ("[history\nkeep_days = 30\n", "is not valid TOML: "),
}
"""A config file with a setting out of range, and one that is not TOML, with what each is said to be."""


def test_every_store_command_is_checked_for_a_broken_config() -> None:
    import typer

    from jobctl.cli.store_cmds import app

    assert set(typer.main.get_command(app).commands) == set(STORE_COMMANDS)  # type: ignore[attr-defined]


@pytest.mark.parametrize("broken", list(BROKEN_CONFIGS))
@pytest.mark.parametrize("command", list(STORE_COMMANDS))
def test_a_broken_config_is_exit_2_for_every_store_command(
    sqlite_url: str, bare_cli: Cli, tmp_path: Path, command: str, broken: str
) -> None:
    """``store backup`` and ``store vacuum`` given ``--db`` read no setting, and ran on (exit 0)
    with a config file that every other command refuses: exit 2 with its one line, for every
    store command, and the store and its folder as they were."""
    store = open_store(sqlite_url)
    add_executions(store.db, add_job(store.db, "j"), days(400, 1))
    store.close()
    text, fragment = BROKEN_CONFIGS[broken]
    config = tmp_path / "broken.toml"
    config.write_text(text)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    args = [arg.format(folder=tmp_path) for arg in STORE_COMMANDS[command]]
    result = bare_cli("--db", sqlite_url, "store", command, *args, env={"JOBCTL_CONFIG": str(config)})
    one_line_error(result, 2, fragment)
    assert result.stderr.startswith(f"jobctl: config file {config}") and result.stdout == "", result
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


VACUUMING = """
    SELECT DISTINCT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
    WHERE a.state = 'active' AND a.query LIKE 'VACUUM%' AND l.relation = CAST('execution_output' AS regclass)
"""
"""The server's sessions vacuuming this schema's ``execution_output`` (other tests' schemas have theirs)."""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_a_stop_cancels_a_postgres_vacuum_on_the_server(pg_url: str, bare_cli: Cli, signum: int, code: int) -> None:
    """Ctrl-C and SIGTERM end ``store vacuum`` on Postgres as on SQLite: at once, with the same
    first words, exit 130 or 143, and the server's VACUUM cancelled. Before, Ctrl-C exited 130
    saying nothing, and SIGTERM ended the command while the server went on vacuuming."""
    store = open_store(pg_url)
    try:
        [run] = add_executions(store.db, add_job(store.db, "j"), days(1))
        store.db.execute(
            "INSERT INTO execution_output (execution_id, start_offset, data)"
            " SELECT :run, n, repeat('x', 200) FROM generate_series(1, 1000000) AS n",
            {"run": run},
        )
        store.db.execute("DELETE FROM execution_output WHERE start_offset % 2 = 0")  # half a million dead rows
        probe = open_store(pg_url)
        command = [sys.executable, "-m", "jobctl", "--db", pg_url, "store", "vacuum", "--json"]
        proc = subprocess.Popen(command, env=bare_cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not probe.db.fetch_all(VACUUMING):
            time.sleep(0.01)  # until the server vacuums the big table (the first two are small)
        server = probe.db.fetch_all(VACUUMING)
        assert server and proc.poll() is None, "the vacuum of execution_output takes a while"
        time.sleep(0.3)
        began = time.monotonic()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
        took = time.monotonic() - began

        assert proc.returncode == code, (proc.returncode, out, err)
        assert out == ""
        assert err == (
            "jobctl: interrupted: the vacuum was stopped before it was done; Postgres cancelled the VACUUM under way, "
            "and the tables it had not done keep their dead rows for the next vacuum (or autovacuum)\n"
        )
        assert took < 2.0, took
        assert probe.db.fetch_all(VACUUMING) == [], "the server's VACUUM ended with the command"
        vacuumed = "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relid = CAST(:t AS regclass)"
        assert store.db.scalar(vacuumed, {"t": "executions"}) is True  # vacuumed before the big one
        assert store.db.scalar(vacuumed, {"t": "audit_log"}) is False  # after the big one: never begun
        probe.close()
    finally:
        store.close()
