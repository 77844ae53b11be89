"""``jobctl store backup`` with the paths people give it, and on Postgres, as real subprocesses
on real stores (the copy while another process writes: tests/store/test_store_cmds.py)."""

from __future__ import annotations

import json
import os
import resource
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from jobctl.errors import StoreError, UsageError
from jobctl.store import open_store
from jobctl.store.database import Database
from jobctl.store.maintenance import backup_sqlite
from jobctl.store.url import parse_store_url
from tests.conftest import Cli, Result
from tests.store.helpers import add_job
from tests.store.test_store_cmds import one_line_error


def in_folder(cli: Cli, folder: Path, *args: str, preexec: object = None, python: list[str] | None = None) -> Result:
    """``jobctl ARGS`` run from ``folder`` (relative paths land there)."""
    proc = subprocess.run(
        [*(python or [sys.executable, "-m", "jobctl"]), *args],
        capture_output=True,
        text=True,
        env=cli.env,
        cwd=folder,
        timeout=60,
        preexec_fn=preexec,  # type: ignore[arg-type]
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def listing(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` with its size."""
    return {str(path.relative_to(folder)): path.lstat().st_size for path in sorted(folder.rglob("*"))}


@pytest.fixture
def filled(tmp_path: Path) -> str:
    """A SQLite store with one job, in a folder of its own."""
    (tmp_path / "store").mkdir()
    url = f"sqlite:///{tmp_path / 'store' / 'jobctl.db'}"
    store = open_store(url)
    add_job(store.db, "nightly")
    store.close()
    return url


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """The folder backups go to, and the CLI's working directory."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def make_victim(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE precious (x)")
        conn.execute("INSERT INTO precious VALUES (42)")
    conn.close()


def tables(path: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    finally:
        conn.close()


# -- the copy goes to exactly PATH -----------------------------------------------------------


@pytest.mark.parametrize("name", ["victim.db?v=2", "a#b.db", "e%41f.db", "victim.db?mode=rwc#x", "sp ace ü.db"])
def test_a_backup_goes_to_exactly_the_path_given(filled: str, out: Path, bare_cli: Cli, name: str) -> None:
    make_victim(out / "victim.db")
    before = listing(out)
    result = in_folder(bare_cli, out, "--db", filled, "store", "backup", str(out / name), "--json")
    assert result.code == 0, result
    copy = out / name
    assert listing(out).keys() == {*before, name}, "written somewhere else than PATH"
    assert tables(out / "victim.db") == ["precious"], "the file next to PATH was overwritten"
    assert "jobs" in tables(copy)
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    # the copy is a store: its URL percent-encodes what a URL would read otherwise
    listed = bare_cli("--db", f"sqlite:///{quote(str(copy))}", "jobs", "list", "--json")
    assert listed.code == 0, listed
    assert "nightly" in listed.stdout


def test_a_relative_path_lands_in_the_working_folder(filled: str, out: Path, bare_cli: Cli) -> None:
    result = in_folder(bare_cli, out, "--db", filled, "store", "backup", "q?x#y%20.db", "--json")
    assert result.code == 0, result
    assert list(listing(out)) == ["q?x#y%20.db"]
    assert json.loads(result.stdout)["path"] == str(out / "q?x#y%20.db")


# -- paths that are no file name -------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("-", "not standard output"),
        ("", "PATH is empty"),
        ("newdir/", "names a folder"),
        ("newdir/.", "names a folder"),
        (".", "names a folder"),
        ("..", "names a folder"),
        ("{out}", "is a directory"),
        ("{out}/sub", "is a directory"),
        ("{out}/taken.db", "already exists"),
        ("{out}/dangling", "already exists"),
        ("{out}/no/such/copy.db", "does not exist"),
        ("{out}/taken.db/copy.db", "folder {out}/taken.db is not a folder"),
    ],
)
def test_a_path_that_is_no_new_file_is_refused_and_nothing_is_written(
    filled: str, out: Path, bare_cli: Cli, target: str, fragment: str
) -> None:
    (out / "sub").mkdir()
    (out / "taken.db").write_text("keep me")
    (out / "dangling").symlink_to(out / "nowhere.db")
    before = listing(out)
    result = in_folder(bare_cli, out, "--db", filled, "store", "backup", target.format(out=out))
    one_line_error(result, 2, fragment.format(out=out))
    assert listing(out) == before
    assert (out / "taken.db").read_text() == "keep me"
    assert not (out / "nowhere.db").exists()


def test_a_folder_that_cannot_be_written_is_refused(filled: str, out: Path, bare_cli: Cli) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into any folder")
    out.chmod(0o500)
    try:
        one_line_error(bare_cli("--db", filled, "store", "backup", str(out / "copy.db")), 2, "not writable")
    finally:
        out.chmod(0o700)
    assert listing(out) == {}


def test_a_folder_that_takes_no_new_file_is_not_said_not_to_exist(filled: str, bare_cli: Cli) -> None:
    """/proc exists, and no file can be made in it: the backup said "folder /proc does not
    exist" (root, whom the folder's mode lets write), or "does not exist or is not writable"."""
    folder = "/proc"
    result = bare_cli("--db", filled, "store", "backup", f"{folder}/x.db")
    one_line_error(result, 2, f"cannot write backup {folder}/x.db: ")
    assert "does not exist" not in result.stderr, result.stderr
    if os.geteuid() == 0:
        assert f"no file can be created in folder {folder} (" in result.stderr, result.stderr
    else:
        assert f"folder {folder} is not writable" in result.stderr, result.stderr
    assert not os.path.lexists(f"{folder}/x.db")


# -- a backup that fails or stops ------------------------------------------------------------


def _file_size_limit(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


def test_a_backup_that_fails_half_way_leaves_nothing(filled: str, out: Path, bare_cli: Cli) -> None:
    # writes past 64 KiB fail (EFBIG): the copy of a 200 KiB store breaks off part-way
    result = in_folder(
        bare_cli, out, "--db", filled, "store", "backup", "copy.db", preexec=lambda: _file_size_limit(64 * 1024)
    )
    one_line_error(result, 1, "backup to")
    assert listing(out) == {}


def part_files(folder: Path, name: str = "copy.db") -> list[Path]:
    """The hidden files a backup to ``folder/name`` writes before the copy takes its name."""
    return sorted(folder.glob(f".{name}.*.part"))


def test_a_backup_killed_half_way_leaves_nothing_at_path_only_a_hidden_part_its_owner_reads(
    filled: str, out: Path, bare_cli: Cli
) -> None:
    # SIGXFSZ's default action kills the CLI at the first write past 64 KiB, in the copy
    killed_at_the_limit = [
        sys.executable,
        "-c",
        "import runpy, signal; signal.signal(signal.SIGXFSZ, signal.SIG_DFL); "
        "runpy.run_module('jobctl', run_name='__main__')",
    ]

    def limit() -> None:
        os.umask(0o022)
        _file_size_limit(64 * 1024)

    result = in_folder(bare_cli, out, "--db", filled, "store", "backup", "copy.db", preexec=limit,
                       python=killed_at_the_limit)  # fmt: skip
    assert result.code == -signal.SIGXFSZ, result
    assert not (out / "copy.db").exists(), "a partial copy took PATH: it would pass for a backup"
    [part] = part_files(out)
    assert part.stat().st_size > 0
    assert oct(part.stat().st_mode & 0o777) == "0o600"
    # PATH is still free: the next backup to it works
    again = in_folder(bare_cli, out, "--db", filled, "store", "backup", "copy.db")
    assert again.code == 0, again
    assert "jobs" in tables(out / "copy.db")


def big_store(tmp_path: Path) -> str:
    """A store padded to 300 MB, whose copy takes long enough to be stopped in the middle."""
    url = f"sqlite:///{tmp_path / 'big.db'}"
    store = open_store(url)
    add_job(store.db, "nightly")
    store.close()
    with sqlite3.connect(tmp_path / "big.db") as conn:
        conn.execute("CREATE TABLE padding (x)")
        conn.executemany("INSERT INTO padding VALUES (zeroblob(1000000))", [()] * 300)
    conn.close()
    return url


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_backup_ended_by_sigterm_or_sighup_removes_its_partial_copy(
    tmp_path: Path, out: Path, bare_cli: Cli, signum: int
) -> None:
    url = big_store(tmp_path)
    command = [sys.executable, "-m", "jobctl", "--db", url, "store", "backup", "copy.db"]
    proc = subprocess.Popen(command, cwd=out, env=bare_cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        while not part_files(out) and proc.poll() is None:
            time.sleep(0.002)  # the part file appears once the store is open and the copy starts
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signum, (proc.returncode, stderr)
    assert listing(out) == {}, "the partial copy stayed"


class StepsFirst:
    """A store's database whose backup runs ``step`` before copying (what is on disk then)."""

    def __init__(self, db: Database, step: object) -> None:
        self.db, self.step = db, step

    def connection(self) -> StepsFirst:
        return self

    def backup(self, target: sqlite3.Connection, *, pages: int) -> None:
        self.step()  # type: ignore[operator]
        self.db.connection().backup(target, pages=pages)


def test_the_copy_is_its_owners_alone_before_any_page_is_copied(filled: str, out: Path) -> None:
    store = open_store(filled)
    target = out / "copy.db"
    modes: list[int] = []

    def before_the_copy() -> None:
        [part] = part_files(out)
        assert not target.exists(), "PATH is taken before the copy is whole"
        modes.append(part.stat().st_mode & 0o777)

    old_umask = os.umask(0)  # the file's mode is the code's, not the umask's
    try:
        backup_sqlite(StepsFirst(store.db, before_the_copy), target)  # type: ignore[arg-type]
    finally:
        os.umask(old_umask)
        store.close()
    assert [oct(mode) for mode in modes] == ["0o600"]
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert "jobs" in tables(target)
    assert list(listing(out)) == ["copy.db"], "the part file stayed beside the copy"


@pytest.mark.parametrize("stop", [sqlite3.OperationalError("disk I/O error"), KeyboardInterrupt()])
def test_a_copy_that_fails_or_is_interrupted_is_removed(filled: str, out: Path, stop: BaseException) -> None:
    store = open_store(filled)

    def fail() -> None:
        assert part_files(out), "the copy is being written"
        raise stop

    expected = StoreError if isinstance(stop, sqlite3.Error) else KeyboardInterrupt
    try:
        with pytest.raises(expected):
            backup_sqlite(StepsFirst(store.db, fail), out / "copy.db")  # type: ignore[arg-type]
    finally:
        store.close()
    assert listing(out) == {}


def test_a_signal_just_after_the_part_file_is_made_removes_it(
    filled: str, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM's handler raises where the command happens to be: here right after the part file
    was created, before the code that made it returned (seen once in CI, under load)."""
    store = open_store(filled)

    def terminated(fd: int, mode: int) -> None:
        raise SystemExit(128 + signal.SIGTERM)

    monkeypatch.setattr(os, "fchmod", terminated)
    try:
        with pytest.raises(SystemExit):
            backup_sqlite(store.db, out / "copy.db")
    finally:
        monkeypatch.undo()
        store.close()
    assert listing(out) == {}, "the part file stayed"


def test_a_file_made_at_path_during_the_copy_is_kept_and_the_copy_refused(filled: str, out: Path) -> None:
    store = open_store(filled)
    target = out / "copy.db"
    try:
        with pytest.raises(UsageError, match="was created while the copy was made"):
            backup_sqlite(StepsFirst(store.db, lambda: target.write_text("someone else's")), target)  # type: ignore[arg-type]
    finally:
        store.close()
    assert target.read_text() == "someone else's"
    assert list(listing(out)) == ["copy.db"], "the part file stayed"


def test_a_tilde_in_path_is_read_as_written(filled: str, out: Path, bare_cli: Cli, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (out / "~").mkdir()
    env = {**bare_cli.env, "HOME": str(home)}
    proc = subprocess.run([sys.executable, "-m", "jobctl", "--db", filled, "store", "backup", "~/copy.db"],
                          cwd=out, env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (out / "~" / "copy.db").is_file()
    assert list(home.iterdir()) == [], "~ was read as the home folder"


# -- Postgres: the pg_dump command, without connecting ---------------------------------------


OWNER_ONLY = "(umask 077 && "


def pg_dump_line(result: Result) -> str:
    """The command ``store backup`` printed on Postgres, as a shell runs it."""
    return result.stderr.strip().split("for Postgres run: ", 1)[1]


def pg_dump_argv(result: Result) -> list[str]:
    """The ``pg_dump`` command's own words, out of the owner-only subshell that holds them."""
    line = pg_dump_line(result)
    assert line.startswith(OWNER_ONLY) and line.endswith(")"), line
    return shlex.split(line.removeprefix(OWNER_ONLY).removesuffix(")"))


def schema_tables(pg_url: str) -> int:
    """How many tables the URL's schema holds."""
    import psycopg

    with psycopg.connect(**(parse_store_url(pg_url).pg_conninfo or {})) as conn:
        row = conn.execute(
            "SELECT current_schema(), count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchone()
    assert row is not None and row[0].startswith("jobctl_t_"), row
    return int(row[1])


def test_a_postgres_backup_creates_no_schema(pg_url: str, out: Path, bare_cli: Cli) -> None:
    assert schema_tables(pg_url) == 0
    result = in_folder(bare_cli, out, "--db", pg_url, "store", "backup", "copy.dump")
    one_line_error(result, 2, f"for Postgres run: {OWNER_ONLY}pg_dump ")
    assert schema_tables(pg_url) == 0, "store backup created jobctl's tables"
    assert listing(out) == {}


def test_a_postgres_backup_is_refused_without_connecting(out: Path, bare_cli: Cli) -> None:
    # no server listens on port 9: a connection attempt would fail (exit 1), not print the command
    nowhere = "postgresql+psycopg://jobctl:s3cret@127.0.0.1:9/jobctl?connect_timeout=1"
    result = bare_cli("--db", nowhere, "store", "backup", str(out / "copy.dump"))
    one_line_error(result, 2, "--host=127.0.0.1 --port=9 --username=jobctl")
    assert "s3cret" not in result.stderr


def test_the_pg_dump_command_dumps_jobctls_schema_to_path(pg_url: str, out: Path, bare_cli: Cli) -> None:
    store = open_store(pg_url)
    add_job(store.db, "nightly")
    store.close()
    # jobctl's schema first, then public; a password the command must not show
    url = pg_url.replace("postgres@", "postgres:s3cret@", 1) + ",public"
    target = out / "it's a $(dump).pgdump"
    result = bare_cli("--db", url, "store", "backup", str(target))
    one_line_error(result, 2, f"for Postgres run: {OWNER_ONLY}pg_dump --format=custom --host=127.0.0.1")
    assert "s3cret" not in result.stderr
    schema = pg_url.rsplit("search_path%3D", 1)[1]
    argv = pg_dump_argv(result)
    assert [arg for arg in argv if arg.startswith("--schema")] == [f"--schema={schema}"]
    assert f"--file={target}" in argv
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump is not installed")
    dumped = subprocess.run(["sh", "-c", pg_dump_line(result)], capture_output=True, text=True, timeout=60)
    assert dumped.returncode == 0, dumped.stderr
    assert list(listing(out)) == [target.name]
    contents = subprocess.run(["pg_restore", "--list", str(target)], capture_output=True, text=True, check=True)
    data = [line.split() for line in contents.stdout.splitlines() if " TABLE DATA " in line]
    assert {fields[5] for fields in data} == {schema}
    assert {"jobs", "executions", "api_tokens"} <= {fields[6] for fields in data}


@pytest.mark.parametrize(
    ("options", "schema"),
    [
        ("-csearch_path%3Dops", "--schema=ops"),
        ("-c%20search_path%3Dops,public", "--schema=ops"),
        ("-c%20search_path%3Dops,%5C%20public", "--schema=ops"),
        ("--search_path%3Dops", "--schema=ops"),
        ("-c%20statement_timeout%3D5s%20-c%20search_path%3Dold%20-c%20search_path%3Dnew", "--schema=new"),
        ("-c%20search_path%3D%22Ops%2CTeam%22,public", '--schema="Ops,Team"'),
        ("-c%20search_path%3D%22%24user%22,public", None),
        ("-c%20search_path%3D$user", None),
        ("-c%20statement_timeout%3D5s", None),
    ],
)
def test_the_pg_dump_command_names_the_first_schema_of_the_search_path(
    out: Path, bare_cli: Cli, options: str, schema: str | None
) -> None:
    url = f"postgresql+psycopg://jobctl@127.0.0.1:9/jobctl?connect_timeout=1&options={options}"
    result = bare_cli("--db", url, "store", "backup", str(out / "copy.dump"))
    one_line_error(result, 2, "pg_dump --format=custom")
    argv = pg_dump_argv(result)
    assert [arg for arg in argv if arg.startswith("--schema")] == ([schema] if schema else [])


def test_the_pg_dump_command_keeps_the_urls_other_connection_settings(pg_url: str, out: Path, bare_cli: Cli) -> None:
    """sslmode and the like travel in a connection string as the database argument, so pg_dump
    reaches the server as jobctl does; the command still runs."""
    store = open_store(pg_url)
    add_job(store.db, "nightly")
    store.close()
    url = f"{pg_url}&sslmode=disable&application_name=jobctl%20backup&connect_timeout=5"
    target = out / "with-settings.pgdump"
    result = bare_cli("--db", url, "store", "backup", str(target))
    one_line_error(result, 2, f"for Postgres run: {OWNER_ONLY}pg_dump --format=custom")
    argv = pg_dump_argv(result)
    dbname = (parse_store_url(pg_url).pg_conninfo or {})["dbname"]
    assert argv[-1] == f"dbname={dbname} sslmode=disable application_name='jobctl backup' connect_timeout=5", argv
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    dumped = subprocess.run(["sh", "-c", pg_dump_line(result)], capture_output=True, text=True, timeout=60)
    assert dumped.returncode == 0, dumped.stderr
    assert target.stat().st_size > 0


def test_the_pg_dump_command_writes_a_file_only_its_owner_can_read(pg_url: str, out: Path, bare_cli: Cli) -> None:
    """The dump holds what a SQLite backup does (token hashes, the jobs' environment), and a
    SQLite backup is its owner's alone: pg_dump made its file 0644 under the usual umask. The
    umask is set in a subshell, so the shell the line is pasted into keeps its own."""
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    store = open_store(pg_url)
    add_job(store.db, "nightly")
    store.close()
    target = out / "jobctl.pgdump"
    result = bare_cli("--db", pg_url, "store", "backup", str(target))
    one_line_error(result, 2, "for Postgres run: ")
    pasted = f"umask 022\n{pg_dump_line(result)}\numask"
    shell = subprocess.run(["sh", "-c", pasted], capture_output=True, text=True, timeout=60)
    assert shell.returncode == 0, shell.stderr
    assert target.stat().st_size > 0
    assert oct(target.stat().st_mode & 0o777) == oct(0o600)
    assert shell.stdout.strip() == "0022", "the pasted line changed the shell's umask"


NOWHERE = "postgresql+psycopg://jobctl@127.0.0.1:9/jobctl?connect_timeout=1"
"""A Postgres store no server answers for: store backup must not connect to print its command."""


@pytest.mark.parametrize(
    "path",
    ["/proc/jobctl.dump", "/sys/jobctl.dump", "{out}/no/such/folder/jobctl.dump", "{out}", "{out}/taken.dump"],
    ids=["proc", "sys", "missing-folder", "a-directory", "existing-file"],
)
def test_a_postgres_backups_path_is_checked_as_a_sqlite_backups_is(
    filled: str, out: Path, bare_cli: Cli, path: str
) -> None:
    """The same line, exit 2, as the SQLite backup to that path, and no command printed: before,
    ``/proc/jobctl.dump`` and ``/sys/jobctl.dump`` got a pg_dump command that could only fail."""
    (out / "taken.dump").write_text("keep me")
    target = path.format(out=out)
    before = listing(out)
    sqlite = bare_cli("--db", filled, "store", "backup", target)
    postgres = bare_cli("--db", NOWHERE, "store", "backup", target)
    one_line_error(sqlite, 2, "backup")
    one_line_error(postgres, 2, "backup")
    assert postgres.stderr == sqlite.stderr
    assert "pg_dump" not in postgres.stderr
    assert listing(out) == before


def test_the_pg_dump_command_leaves_out_the_ssl_keys_password(out: Path, bare_cli: Cli) -> None:
    """``sslpassword`` (the client key's passphrase) is a secret like the password: left out of
    the command for pg_dump to ask for, not printed as ``sslpassword=***``, which pg_dump would
    take for the passphrase if the line were pasted."""
    url = "postgresql+psycopg://jobctl@127.0.0.1:9/jobctl?sslmode=verify-full&sslpassword=k3y-s3cret"
    result = bare_cli("--db", url, "store", "backup", str(out / "copy.dump"))
    one_line_error(result, 2, "pg_dump --format=custom")
    argv = pg_dump_argv(result)
    assert argv[-1] == "dbname=jobctl sslmode=verify-full", argv


@pytest.mark.parametrize("ending", ["-wal", "-shm", "-journal"])
def test_a_backup_named_as_sqlites_file_beside_the_store_is_refused(filled: str, bare_cli: Cli, ending: str) -> None:
    """SQLite owns the files beside the store: a copy written as ``jobctl.db-wal`` was read as
    the store's log when the store was opened to be copied, found not to be one and deleted, and
    the command said "backed up to" a file that was gone. Refused, exit 2, nothing written."""
    path = parse_store_url(filled).sqlite_path
    assert path is not None
    before = listing(path.parent)
    result = bare_cli("--db", filled, "store", "backup", f"{path}{ending}")
    one_line_error(result, 2, "SQLite's own file beside the store")
    assert listing(path.parent) == before


@pytest.mark.parametrize("ending", ["-wal", "-shm", "-journal"])
def test_a_backup_named_as_sqlites_file_beside_the_real_store_file_is_refused(
    filled: str, bare_cli: Cli, tmp_path: Path, ending: str
) -> None:
    """``--db`` names the store through a symlink: SQLite keeps its files beside the real file,
    which the check missed (it looked beside the symlink). Refused as beside the store itself."""
    path = parse_store_url(filled).sqlite_path
    assert path is not None
    (tmp_path / "alias.db").symlink_to(path)
    before = listing(path.parent)
    result = bare_cli("--db", f"sqlite:///{tmp_path / 'alias.db'}", "store", "backup", f"{path}{ending}")
    one_line_error(result, 2, "SQLite's own file beside the store")
    assert listing(path.parent) == before


# -- names at the file system's limits -------------------------------------------------------

NOWHERE = "postgresql+psycopg://jobctl@127.0.0.1:9/jobctl?connect_timeout=1"
"""A Postgres store no server answers for: the backup is refused before any connection."""


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("{out}/" + "a" * 257 + ".db", "its name is 260 bytes long, over the limit of 255 bytes a file name can have"),
        ("{out}/" + "ü" * 127 + ".db", "its name is 257 bytes long, over the limit of 255 bytes"),
        (
            "{out}/" + "d" * 300 + "/copy.db",
            "the folder name dddddddddddddddd... is 300 bytes long, over the limit of 255",
        ),
        ("{out}/" + "d/" * 2100 + "copy.db", "bytes long, over the limit of 4095 bytes a path can have"),
    ],
    ids=["name", "encoded-name", "folder-name", "path"],
)
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_name_over_the_file_systems_limit_is_refused_naming_the_limit(
    filled: str, out: Path, bare_cli: Cli, target: str, fragment: str, backend: str
) -> None:
    """A name longer than the file system takes was ``internal error: OSError: [Errno 36] File
    name too long`` (exit 1), on either backend: one line naming the limit, exit 2, nothing written."""
    url = filled if backend == "sqlite" else NOWHERE
    result = bare_cli("--db", url, "store", "backup", target.format(out=out))
    one_line_error(result, 2, fragment)
    assert result.stderr.startswith("jobctl: cannot write backup ")
    assert listing(out) == {}


@pytest.mark.parametrize("name", ["a" * 252 + ".db", "ü" * 126 + ".db", "b" * 240 + ".db", "c" * 200],
                         ids=["255", "255-encoded", "243", "200"])  # fmt: skip
def test_a_name_the_file_system_takes_is_backed_up_to_whatever_its_length(
    filled: str, out: Path, bare_cli: Cli, name: str
) -> None:
    """Names up to the limit (255 bytes) that ``touch`` makes: the hidden part file, 15 bytes
    longer, and its journal, 8 more, were refused ("File name too long", or an internal error
    from the journal). The part file's name keeps within the limit: NAME in it is cut short."""
    result = bare_cli("--db", filled, "store", "backup", str(out / name))
    assert result.code == 0, result
    assert list(listing(out)) == [name]
    assert "jobs" in tables(out / name)
