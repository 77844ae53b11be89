"""``jobctl executions export`` and ``executions list --json --all``: every run, streamed."""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jobctl.cli import export as exporting
from jobctl.errors import UsageError
from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.store import Store, open_store
from tests.conftest import TEST_ZONE, Cli
from tests.store.helpers import NOW, add_executions, add_job, add_runs_of_every_kind


def test_export_writes_each_format_with_the_filters(store: Store, cli: Cli, tmp_path: Path) -> None:
    job, other = add_job(store.db, "backup"), add_job(store.db, "other")
    ids = add_executions(store.db, job, [timedelta(days=n) for n in range(250)], output="o")
    add_executions(store.db, other, [timedelta(days=n) for n in range(5)])
    since = (NOW - timedelta(days=200)).isoformat()
    until = (NOW - timedelta(days=10)).isoformat()
    wanted = ids[11:201]  # since included, until excluded

    rows = json.loads(cli("executions", "export", "--job", "backup", "--since", since, "--until", until,
                          "--format", "json").stdout)  # fmt: skip
    assert [row["id"] for row in rows] == wanted
    assert rows[0]["outputPruned"] is False and rows[0]["result"] == {"exitCode": 0}

    target = tmp_path / "runs.ndjson"
    result = cli("executions", "export", "--job", "backup", "--since", since, "--until", until,
                 "--format", "ndjson", "-o", str(target))  # fmt: skip
    assert result.code == 0 and result.stdout == "", result
    assert [json.loads(line)["id"] for line in target.read_text().splitlines()] == wanted

    table = list(csv.DictReader(io.StringIO(cli("executions", "export").stdout)))
    assert len(table) == 255 and tuple(table[0]) == exporting.CSV_COLUMNS
    assert json.loads(table[0]["result"]) == {"exitCode": 0}
    assert cli("executions", "export", "--format", "json", "--job", "other", "--since",
               (NOW + timedelta(days=1)).isoformat()).stdout == "[]\n"  # fmt: skip


def test_the_csv_has_one_column_per_key_of_the_json_spelt_as_json(store: Store, cli: Cli) -> None:
    """The runs of every kind, exported as JSON and as CSV: the CSV's header holds each key of
    the JSON's executions (the API's execution) once, and no other; the first ones in the order
    the export has always had. Each cell is its value as JSON spells it: null an empty cell,
    true/false, objects, arrays and every result as JSON text, strings and numbers as they are."""
    wanted = add_runs_of_every_kind(store.db, add_job(store.db, "j"))
    as_json = json.loads(cli("executions", "export", "--format", "json").stdout)
    table = list(csv.reader(io.StringIO(cli("executions", "export").stdout)))
    header = table[0]
    assert len(as_json) == len(wanted) == len(table) - 1
    for run in as_json:
        assert sorted(header) == sorted(run) and len(header) == len(run)
    assert header[:3] == ["id", "jobId", "status"]
    assert {"cancelledBy", "missedCount", "missedUntil", "pendingReason"} <= set(header)

    def spelt(key: str, value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, str) and key != "result":
            return value
        return json.dumps(value, ensure_ascii=False)

    assert [dict(zip(header, row, strict=True)) for row in table[1:]] == [
        {key: spelt(key, value) for key, value in run.items()} for run in as_json
    ]
    cells = {(row[header.index("status")], row[header.index("result")], row[header.index("outputPruned")])
             for row in table[1:]}  # fmt: skip
    assert {("failed", '{"exitCode": 1}', "true"), ("success", "true", "false"),
            ("success", '"done, \\"quoted\\""', "false"), ("running", "", "false")} <= cells  # fmt: skip


def test_since_and_until_take_a_duration_ago_or_now_as_jobs_why_does(store: Store, cli: Cli) -> None:
    """One run 12 h into each of the last ten days: --since 7d keeps the seven newest, --until 2d
    drops the two newest, now ends at the export's start; a date-time without an offset is in
    [scheduler] timezone (Europe/Berlin here) and a date alone its midnight, as before."""
    ages = [timedelta(days=n, hours=12) for n in range(10)]
    ids = add_executions(store.db, add_job(store.db, "j"), ages)

    def exported(*args: str) -> list[str]:
        result = cli("executions", "export", "--format", "ndjson", *args)
        assert result.code == 0, result
        return [json.loads(line)["id"] for line in result.stdout.splitlines()]

    assert exported("--since", "7d") == ids[:7]
    assert exported("--since", "1w") == exported("--since", "168h") == ids[:7]
    assert exported("--since", "7d", "--until", "2d") == ids[2:7]
    assert exported("--since", "1d12h30m", "--until", "now") == ids[:2]
    assert exported("--until", " NOW ") == ids
    wall = (NOW - timedelta(days=3)).astimezone(ZoneInfo(TEST_ZONE)).replace(tzinfo=None)
    assert exported("--since", wall.isoformat()) == ids[:3]
    midnight = datetime.combine(wall.date(), time(), ZoneInfo(TEST_ZONE))
    since_midnight = [run for run, age in zip(ids, ages, strict=True) if NOW - age >= midnight]
    assert exported("--since", wall.date().isoformat()) == since_midnight and len(since_midnight) in (3, 4)


def test_the_first_and_last_dates_are_the_ends_of_time_in_any_zone(store: Store, cli: Cli, tmp_path: Path) -> None:
    """0001-01-01 in a zone east of UTC (Europe/Berlin here) is before the first instant a time
    can hold, 9999-12-31T23:59 west of it (New York) after the last: each bounds nothing, so every
    run is exported (both were refused as "not a time")."""
    ids = add_executions(store.db, add_job(store.db, "j"), [timedelta(days=n) for n in range(3)])
    west = tmp_path / "west.toml"
    west.write_text('[scheduler]\ntimezone = "America/New_York"\n')

    def exported(*args: str, env: dict[str, str] | None = None) -> list[str]:
        result = cli("executions", "export", "--format", "ndjson", *args, env=env)
        assert result.code == 0, result
        return [json.loads(line)["id"] for line in result.stdout.splitlines()]

    assert exported("--since", "0001-01-01") == ids
    assert (
        exported("--since", "0001-01-01T00:00", "--until", "9999-12-31T23:59", env={"JOBCTL_CONFIG": str(west)}) == ids
    )
    assert exported("--until", "0001-01-01") == [], "a window that ends at the first instant holds no run"
    spans = cli("audit", "--since", "0001-01-01")
    assert spans.code == 0, spans
    before_a_timeline = cli("jobs", "why", "j", "--since", "0001-01-01")
    assert before_a_timeline.code == 2 and "outside the times a job's timeline shows" in before_a_timeline.stderr
    own_offset = cli("audit", "--since", "0001-01-01T00:00:00+05:00")
    assert own_offset.code == 2 and own_offset.stderr == (
        "jobctl: --since: '0001-01-01T00:00:00+05:00' lies outside the times a store holds "
        "(0001-01-01 to 9999-12-31 UTC): give a time between them\n"
    ), own_offset


def test_a_duration_of_any_length_is_a_time_ago_and_one_before_the_first_instant_is_that_instant(
    store: Store, cli: Cli
) -> None:
    """``--since 100000d`` (273 years), ``52000w`` and ``2400000h`` were "not a time", for the
    hundred years ``--every`` is bounded by, while ``--since 0001-01-01`` worked: each is the
    time that long ago, and a duration reaching before the first instant a time can hold is that
    instant, as 0001-01-01 is, bounding nothing."""
    ids = add_executions(store.db, add_job(store.db, "j"), [timedelta(days=n) for n in range(3)])

    def exported(*args: str) -> list[str]:
        result = cli("executions", "export", "--format", "ndjson", *args)
        assert result.code == 0, result
        return [json.loads(line)["id"] for line in result.stdout.splitlines()]

    for long_ago in ("100000d", "52000w", "2400000h", "1000000000d", "9" * 40 + "s"):
        assert exported("--since", long_ago) == ids, long_ago
        assert exported("--until", long_ago) == [], long_ago
    assert exported("--since", "1000000000d", "--until", "1d") == ids[1:]
    audit = cli("audit", "--since", "100000d")
    assert audit.code == 0, audit


def test_list_json_all_walks_by_cursor(store: Store, cli: Cli) -> None:
    job = add_job(store.db, "j")
    ids = add_executions(store.db, job, [timedelta(minutes=n) for n in range(230)])
    data = json.loads(cli("executions", "list", "--json", "--all").stdout)
    assert [e["id"] for e in data["executions"]] == ids
    assert data["total"] == 230 and data["nextCursor"] is None


def test_a_walk_goes_on_from_the_created_at_of_the_last_run_it_saw(store: Store, cli: Cli) -> None:
    """``createdAt`` is the time listings sort by: a walk whose cursor was pruned goes on with
    ``--until`` (newest first, ``until`` excluded) at the last run it saw, missing none."""
    job = add_job(store.db, "j")
    ids = add_executions(store.db, job, [timedelta(minutes=n) for n in range(30)])
    items = json.loads(cli("executions", "list", "--json", "--per-page", "10").stdout)["executions"]
    assert [e["createdAt"] for e in items] == [
        (NOW - timedelta(minutes=n)).isoformat().replace("+00:00", "Z") for n in range(10)
    ]
    rest = cli("executions", "export", "--format", "ndjson", "--until", items[-1]["createdAt"])
    assert [json.loads(line)["id"] for line in rest.stdout.splitlines()] == ids[10:]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-o", "{dir}"], "is a folder"),
        (["-o", "{dir}/missing/x.csv"], "cannot write"),
        (["-o", ""], "jobctl: -o is empty: give a file to write the export to, or - for standard output\n"),
        (["--format", "xml"], "--format must be one of csv, json, ndjson"),
        (["--since", "last tuesday"], "--since: 'last tuesday' is not a time: give an ISO 8601 date or date-time"),
        (["--until", "7x"], "--until: '7x' is not a time"),
        (
            ["--since", "0001-01-01T00:00:00+05:00"],
            "--since: '0001-01-01T00:00:00+05:00' lies outside the times a store holds (0001-01-01 to 9999-12-31",
        ),
        (["--until", "9999-12-31T23:00-05:00"], "--until: '9999-12-31T23:00-05:00' lies outside the times"),
        (["--since", "2d", "--until", "3d"], "jobctl: --until must be later than --since\n"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "jobctl: --until must be later than --since\n"),
        (["--since", "2026-02-01T00:00Z", "--until", "2026-02-01"], "jobctl: --until must be later than --since\n"),
    ],
    ids=[
        "folder",
        "missing-folder",
        "empty-output",
        "format",
        "since",
        "until",
        "since-before-the-first-instant",
        "until-after-the-last-instant",
        "durations-reversed",
        "until-before-since",
        "until-at-since",
    ],
)
def test_bad_export_arguments_are_exit_2_on_one_line(
    sqlite_url: str, bare_cli: Cli, tmp_path: Path, args: list[str], fragment: str
) -> None:
    open_store(sqlite_url).close()
    before = sorted(tmp_path.iterdir())
    result = bare_cli("--db", sqlite_url, "executions", "export", *[a.format(dir=tmp_path) for a in args])
    assert result.code == 2, result
    assert result.stderr.count("\n") == 1 and fragment in result.stderr, result.stderr
    assert result.stdout == "" and sorted(tmp_path.iterdir()) == before


KEPT = "precious, from before\n"


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--job", "nosuchjob"], 3, "no job 'nosuchjob'"),
        (["--since", "2026-12-07", "--until", "2026-12-01"], 2, "until"),
        (["--since", "2026-12-01", "--format", "xml"], 2, "--format"),
    ],
    ids=["unknown-job", "reversed-range", "format"],
)
def test_bad_input_leaves_the_output_file_as_it_was(
    store: Store, cli: Cli, tmp_path: Path, args: list[str], code: int, fragment: str
) -> None:
    add_executions(store.db, add_job(store.db, "backup"), [timedelta(minutes=1)])
    target = tmp_path / "keep.txt"
    target.write_text(KEPT)
    before = sorted(tmp_path.iterdir())
    result = cli("executions", "export", *args, "-o", str(target))
    assert result.code == code and fragment in result.stderr, result
    assert target.read_text() == KEPT and sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize("command", ["export", "list"])
def test_an_empty_job_is_no_job_not_every_job(store: Store, cli: Cli, tmp_path: Path, command: str) -> None:
    """``--job "$JOB"`` with JOB unset in a script: "no job ''" (exit 3, as ``audit --job ''``
    says), not the runs of every job, and the output file as it was."""
    add_executions(store.db, add_job(store.db, "backup"), [timedelta(minutes=1)])
    target = tmp_path / "keep.txt"
    target.write_text(KEPT)
    to_file = ["-o", str(target)] if command == "export" else []
    result = cli("executions", command, "--job", "", *to_file)
    assert result.code == 3 and result.stderr == "jobctl: no job ''\n" and result.stdout == "", result
    assert target.read_text() == KEPT


def test_a_store_that_cannot_be_opened_leaves_the_output_file_as_it_was(bare_cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text(KEPT)
    before = sorted(tmp_path.iterdir())
    result = bare_cli("--db", "postgresql://postgres@127.0.0.1:1/nope", "executions", "export", "-o", str(target))
    assert result.code == 1 and "cannot open store" in result.stderr, result
    assert target.read_text() == KEPT and sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize("ending", ["", "-wal", "-shm", "-journal"], ids=["store", "wal", "shm", "journal"])
def test_an_export_onto_the_store_itself_is_refused(sqlite_url: str, bare_cli: Cli, ending: str) -> None:
    """``-o`` naming the SQLite store being exported, or SQLite's files beside it (a slip of the
    hand in a script): exit 2 and the store as it was, not a store replaced by its own CSV."""
    store = open_store(sqlite_url)
    ids = add_executions(store.db, add_job(store.db, "backup"), [timedelta(minutes=n) for n in range(3)])
    path = store.url.sqlite_path
    assert path is not None
    store.close()
    folder = sorted(path.parent.iterdir())
    result = bare_cli("--db", sqlite_url, "executions", "export", "-o", f"{path}{ending}")
    assert result.code == 2 and result.stderr.count("\n") == 1 and "is the store" in result.stderr, result
    assert sorted(path.parent.iterdir()) == folder
    listed = bare_cli("--db", sqlite_url, "executions", "export", "--format", "ndjson")
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == ids, listed


def _contents(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (symlinks as their target's name) with what it holds."""
    return {
        str(path.relative_to(folder)): os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_symlink() or path.is_file()
    }


@pytest.fixture
def sqlite_files(tmp_path: Path) -> Iterator[Path]:
    """A folder of SQLite files and names for them: a database (with a WAL-mode connection open,
    so its log holds writes not yet in the file), a hard link to it, a symlink to its folder, a
    copy of its log and a rollback journal under names of their own, and a symlink to the name
    of its (absent) journal."""
    folder = tmp_path / "files"
    (folder / "real").mkdir(parents=True)
    database = folder / "real" / "s.db"
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE precious (x)")
    conn.execute("INSERT INTO precious VALUES (42)")
    (folder / "log.bin").write_bytes((folder / "real" / "s.db-wal").read_bytes())
    (folder / "undo.bin").write_bytes(bytes.fromhex("d9d505f920a163d7") + bytes(504))
    os.link(database, folder / "hard.db")
    (folder / "alias").symlink_to(folder / "real")
    (folder / "out.csv").symlink_to(folder / "real" / "s.db-journal")
    yield folder
    conn.close()


REMOTE = {"option": ["--api", "http://127.0.0.1:1", "--token", "t"], "config": []}
"""Two ways to export through an API (none answers at this port: were the file not refused, the
export would fail there, exit 5): ``--api URL`` and a config's ``[client] api_url``."""


SQLITE_FILES = [
    ("real/s.db", "is a SQLite database:"),
    ("hard.db", "is a SQLite database:"),
    ("alias/s.db", "is a SQLite database:"),
    ("log.bin", "is a SQLite write-ahead log:"),
    ("undo.bin", "is a SQLite rollback journal:"),
    ("real/s.db-wal", "is the write-ahead log of the SQLite database {folder}/real/s.db:"),
    ("real/s.db-shm", "is the write-ahead log's shared-memory index of the SQLite database {folder}/real/s.db:"),
    ("real/s.db-journal", "is the rollback journal of the SQLite database {folder}/real/s.db:"),
    ("alias/s.db-wal", "is the write-ahead log of the SQLite database {folder}/alias/s.db:"),
    ("hard.db-journal", "is the rollback journal of the SQLite database {folder}/hard.db:"),
    ("out.csv", "is the rollback journal of the SQLite database {folder}/real/s.db:"),
]
"""Names under :func:`sqlite_files` and what ``-o`` naming each is said to be."""


@pytest.mark.parametrize(("name", "what"), SQLITE_FILES, ids=[name for name, _ in SQLITE_FILES])
@pytest.mark.parametrize("remote", ["option", "config"])
def test_an_export_through_the_api_onto_a_sqlite_file_is_refused(
    sqlite_files: Path, bare_cli: Cli, tmp_path: Path, name: str, what: str, remote: str
) -> None:
    """Through an API the store's path is not known, and ``-o`` naming the daemon's store file
    replaced the live store with CSV (exit 0). Any SQLite file is refused, by its first bytes or
    as a database's -wal, -shm or -journal, whatever store it is: exit 2, every file as it was."""
    config = tmp_path / "client.toml"
    config.write_text('[client]\napi_url = "http://127.0.0.1:1"\ntoken = "t"\n')
    config.chmod(0o600)
    env = {"JOBCTL_CONFIG": str(config)} if remote == "config" else None
    before = _contents(sqlite_files)
    result = bare_cli(*REMOTE[remote], "executions", "export", "-o", str(sqlite_files / name), env=env)
    assert result.code == 2 and result.stdout == "", result
    assert result.stderr == (
        f"jobctl: -o {sqlite_files / name} {what.format(folder=sqlite_files)} an export is never SQLite, and "
        "writing it there would destroy that file; give another file to write the export to\n"
    )
    assert _contents(sqlite_files) == before


@pytest.mark.parametrize("name", ["runs.csv", "notes-wal", "log.bin-wal", "real-journal"])
def test_an_export_through_the_api_to_any_other_file_goes_ahead(sqlite_files: Path, bare_cli: Cli, name: str) -> None:
    """A file that is no SQLite file, and a -wal or -journal name after no database (a log's own
    name, a folder's), is written as before: the export goes on to ask the API (down: exit 5)."""
    (sqlite_files / "notes").write_text("not SQLite")
    result = bare_cli(*REMOTE["option"], "executions", "export", "-o", str(sqlite_files / name))
    assert result.code == 5 and "cannot reach the jobctl API" in result.stderr, result


WRITER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA wal_autocheckpoint = 0")
conn.execute("UPDATE jobs SET description = 'in the log only'")
print("ready", flush=True)
sys.stdin.read()
conn.close()
"""
"""A daemon's connection to the store at ``argv[1]``: a write left in the log, held open until
stdin closes. In a process of its own: this one reading the files would drop its locks (POSIX
locks go with any descriptor of the file closed), and the export's store, closing last, would
then checkpoint the log and remove it."""


@pytest.mark.parametrize("ending", ["-wal", "-shm"])
def test_an_export_onto_the_log_of_a_store_named_through_a_symlink_is_refused(
    tmp_path: Path, bare_cli: Cli, ending: str
) -> None:
    """``--db`` names the store through a symlink (alias.db -> real/s.db): SQLite keeps its log
    and index beside the real file, real/s.db-wal, which the check of the store's own files
    missed (it looked beside alias.db), and the export replaced the live log, exit 0."""
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "s.db"
    store = open_store(f"sqlite:///{real}")
    ids = add_executions(store.db, add_job(store.db, "backup"), [timedelta(minutes=n) for n in range(3)])
    store.close()
    (tmp_path / "alias.db").symlink_to(real)
    daemon = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "alias.db")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert daemon.stdout is not None and daemon.stdout.readline() == "ready\n"
        log = Path(f"{real}{ending}")
        assert log.exists()
        before = _contents(tmp_path / "real")
        result = bare_cli("--db", f"sqlite:///{tmp_path / 'alias.db'}", "executions", "export", "-o", str(log))
        assert result.code == 2 and result.stderr.count("\n") == 1, result
        assert (
            result.stderr
            == f"jobctl: -o {log} is the store's own file {log}; give another file to write the export to\n"
        )
        after = _contents(tmp_path / "real")  # the index's read marks are the export's to set: not compared
        assert {name: after[name] for name in ("s.db", "s.db-wal")} == {
            name: before[name] for name in ("s.db", "s.db-wal")
        }
        assert after["s.db-shm"][:4] == before["s.db-shm"][:4]
    finally:
        daemon.communicate("", timeout=60)
    conn = sqlite3.connect(real)
    assert conn.execute("SELECT description FROM jobs").fetchall() == [("in the log only",)], "the log's write is lost"
    conn.close()
    listed = bare_cli("--db", f"sqlite:///{real}", "executions", "export", "--format", "ndjson")
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == ids, listed


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("a" * 257 + ".csv", "its name is 261 bytes long, over the limit of 255 bytes a file name can have there"),
        (
            "d" * 300 + "/runs.csv",
            "the folder name dddddddddddddddd... is 300 bytes long, over the limit of 255 bytes a file name can have",
        ),
    ],
    ids=["name", "folder-name"],
)
def test_an_output_name_over_the_file_systems_limit_is_refused_naming_the_limit(
    sqlite_url: str, bare_cli: Cli, tmp_path: Path, name: str, fragment: str
) -> None:
    open_store(sqlite_url).close()
    before = sorted(tmp_path.iterdir())
    result = bare_cli("--db", sqlite_url, "executions", "export", "-o", str(tmp_path / name))
    assert result.code == 2 and result.stderr == f"jobctl: cannot write {tmp_path / name}: {fragment}\n", result
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    "name", ["a" * 251 + ".csv", "ü" * 125 + ".csv", "b" * 241 + ".csv"], ids=["255", "254-encoded", "245"]
)
def test_an_output_name_the_file_system_takes_is_written_whatever_its_length(
    sqlite_url: str, bare_cli: Cli, tmp_path: Path, name: str
) -> None:
    """Names up to the limit that ``touch`` makes: the temporary file beside, 15 bytes longer,
    was refused ("File name too long"); its name keeps within the limit (FILE in it cut short)."""
    store = open_store(sqlite_url)
    add_executions(store.db, add_job(store.db, "backup"), [timedelta(minutes=n) for n in range(3)])
    store.close()
    result = bare_cli("--db", sqlite_url, "executions", "export", "-o", str(tmp_path / name))
    assert result.code == 0, result
    assert len((tmp_path / name).read_text().splitlines()) == 4
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["bare.toml", "jobctl.db", name])


def test_an_export_that_fails_midway_leaves_the_output_file_as_it_was(store: Store, cli: Cli, tmp_path: Path) -> None:
    """The file size limit (as a full disk or a quota would) stops the export after 64 KiB of
    about 250: the temporary file it was writing goes, and FILE keeps what it held."""
    add_executions(store.db, add_job(store.db, "backup"), [timedelta(minutes=n) for n in range(500)])
    target = tmp_path / "keep.txt"
    target.write_text(KEPT)
    before = sorted(tmp_path.iterdir())
    limit = 64 * 1024

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "jobctl", "executions", "export", "--format", "ndjson", "-o", str(target)],
        capture_output=True, text=True, env=cli.env, timeout=60, preexec_fn=limited,
    )  # fmt: skip
    assert done.returncode == 2 and "cannot write" in done.stderr and done.stderr.count("\n") == 1, done
    assert target.read_text() == KEPT and sorted(tmp_path.iterdir()) == before
    whole = cli("executions", "export", "--format", "ndjson").stdout
    assert len(whole) > 3 * limit


def test_a_file_is_replaced_whole_with_its_permissions(sqlite_url: str, bare_cli: Cli, tmp_path: Path) -> None:
    store = open_store(sqlite_url)
    add_executions(store.db, add_job(store.db, "backup"), [timedelta(minutes=n) for n in range(3)])
    store.close()
    target = tmp_path / "runs.ndjson"
    target.write_text(KEPT * 1000)
    target.chmod(0o640)
    result = bare_cli("--db", sqlite_url, "executions", "export", "--format", "ndjson", "-o", str(target))
    assert result.code == 0, result
    assert len(target.read_text().splitlines()) == 3 and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bare.toml", "jobctl.db", "runs.ndjson"]


def test_a_new_file_is_its_owners_alone_from_its_creation(sqlite_url: str, bare_cli: Cli, tmp_path: Path) -> None:
    """A new FILE took the umask's mode (0644 under 022, 0640 under 027), though run output can
    hold secrets: it is now 0600, as ``store backup`` makes its copy, from the moment it exists
    (the temporary file it is renamed from, and a FILE opened in place through a symlink)."""
    store = open_store(sqlite_url)
    add_executions(store.db, add_job(store.db, "backup"), [timedelta(minutes=n) for n in range(3)])
    store.close()
    for mask in ("022", "027", "0277"):
        fresh = tmp_path / f"fresh-{mask}.csv"
        done = subprocess.run(
            ["sh", "-c", f'umask {mask} && exec "$0" -m jobctl --db "$1" executions export -o "$2"',
             sys.executable, sqlite_url, str(fresh)],
            capture_output=True, text=True, env=bare_cli.env, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o600 and len(fresh.read_text().splitlines()) == 4, mask
    dangling = tmp_path / "link.ndjson"
    dangling.symlink_to(tmp_path / "through-link.ndjson")
    done = bare_cli("--db", sqlite_url, "executions", "export", "--format", "ndjson", "-o", str(dangling))
    assert done.code == 0, done
    assert stat.S_IMODE((tmp_path / "through-link.ndjson").stat().st_mode) == 0o600
    with exporting.Destination(str(tmp_path / "watched.csv")) as out:  # the part file, before a byte is written
        [part] = [path for path in tmp_path.iterdir() if path.name.startswith(".watched.csv.")]
        assert stat.S_IMODE(part.stat().st_mode) == 0o600
        out.discard()


def test_a_fifo_stdout_and_a_symlink_are_written_in_place(sqlite_url: str, bare_cli: Cli, tmp_path: Path) -> None:
    """What is not a plain file is opened and written as the runs come, never replaced."""
    store = open_store(sqlite_url)
    ids = add_executions(store.db, add_job(store.db, "backup"), [timedelta(minutes=n) for n in range(3)])
    store.close()
    export = ("--db", sqlite_url, "executions", "export", "--format", "ndjson", "-o")

    fifo = tmp_path / "runs.fifo"
    os.mkfifo(fifo)
    read: list[str] = []
    reader = threading.Thread(target=lambda: read.append(fifo.read_text()), daemon=True)
    reader.start()
    assert bare_cli(*export, str(fifo)).code == 0
    reader.join(timeout=30)
    assert [json.loads(line)["id"] for line in read[0].splitlines()] == ids
    assert stat.S_ISFIFO(fifo.lstat().st_mode)

    to_stdout = bare_cli(*export, "/dev/stdout")
    assert to_stdout.code == 0 and [json.loads(line)["id"] for line in to_stdout.stdout.splitlines()] == ids

    real, link = tmp_path / "real.ndjson", tmp_path / "link.ndjson"
    real.write_text(KEPT)
    link.symlink_to(real)
    assert bare_cli(*export, str(link)).code == 0
    assert link.is_symlink() and [json.loads(line)["id"] for line in real.read_text().splitlines()] == ids


def test_output_dash_is_standard_output(sqlite_url: str, bare_cli: Cli, tmp_path: Path) -> None:
    """``-o -`` writes to standard output, as ``-`` means standard input to ``--from-json`` and
    ``import crontab``: not a file named ``-`` in the current folder."""
    store = open_store(sqlite_url)
    ids = add_executions(store.db, add_job(store.db, "backup"), [timedelta(minutes=n) for n in range(3)])
    store.close()
    here = tmp_path / "here"
    here.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "jobctl", "--db", sqlite_url, "executions", "export", "--format", "ndjson", "-o", "-"],
        capture_output=True, text=True, env=bare_cli.env, timeout=60, cwd=here,
    )  # fmt: skip
    assert done.returncode == 0, done
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == ids
    assert list(here.iterdir()) == []


def test_a_file_in_a_folder_this_user_cannot_write_is_written_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No temporary file can be made beside FILE (as in a folder this user may not write, which
    root always may): a FILE this user may write is written in place, once the export starts."""

    def refused(**_: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    target = tmp_path / "runs.ndjson"
    target.write_text(KEPT)
    with exporting.Destination(str(target)) as out:
        assert target.read_text() == KEPT
        assert out.write(iter([{"id": "a"}]), "ndjson") == 1  # type: ignore[list-item]
        out.finish()
    assert target.read_text() == '{"id": "a"}\n'
    with pytest.raises(UsageError, match=r"cannot write .*new\.ndjson: Permission denied"):
        exporting.Destination(str(tmp_path / "new.ndjson"))


def test_export_memory_does_not_grow_with_the_number_of_runs(sqlite_url: str) -> None:
    """Peak memory while exporting 30,000 runs is about that of 1,200: one page at a time."""
    store = open_store(sqlite_url)
    small, large = add_job(store.db, "small"), add_job(store.db, "large")
    add_executions(store.db, small, [timedelta(seconds=n) for n in range(1_200)], output="x")
    add_executions(store.db, large, [timedelta(seconds=n) for n in range(30_000)], output="x")
    service = Service(store, Caller(user_id="t", role=Role.ADMIN), default_timezone="UTC")

    def peak(job_id: str) -> tuple[int, int]:
        sink = _Discard()
        tracemalloc.start()
        try:
            exporting.write(exporting.walk(service.stream_executions(job_id=job_id)), sink, "ndjson")
            return tracemalloc.get_traced_memory()[1], sink.written
        finally:
            tracemalloc.stop()

    peak(small)  # the first export also allocates what any later one reuses (imports, caches)
    small_peak, _ = peak(small)
    large_peak, large_bytes = peak(large)
    assert large_peak < 2 * small_peak
    assert large_peak < large_bytes / 5
    store.close()


class _Discard(io.StringIO):
    """A stream that keeps nothing, so only the export's own memory is measured."""

    written = 0

    def write(self, text: str) -> int:
        self.written += len(text)
        return len(text)
