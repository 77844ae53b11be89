"""Looking after a store: its size and contents, giving freed space back, backups, integrity.

SQLite stores are created with ``auto_vacuum = INCREMENTAL``, so pages that a prune frees can
be handed back to the file system a few at a time (:func:`release_free_pages`) without the
whole-file rewrite of ``VACUUM``; a store made before that switches on its first
``jobctl store vacuum`` (docs/sqlite-space.md). Postgres reuses freed space itself (autovacuum).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from jobctl.errors import StoreError, UsageError
from jobctl.store.database import SQLITE_BUSY_TIMEOUT_MS, SQLITE_DAMAGE_CODES, Database, Row, to_utc, utc_text
from jobctl.store.executions import ACTIVE

INCREMENTAL = 2
"""``PRAGMA auto_vacuum`` value of incremental mode (0 none, 1 full)."""
RELEASE_STEP_PAGES = 256
"""Pages given back per step when nothing else writes: about 1 MiB. How long a step holds the
write lock varies with the file (SQLite finds each page on the free list, and moves a live page
from the end of the file into its place): from under 1 ms to 80 ms for 256 pages on one file.
Beside a scheduler the steps are sized by their time instead (:mod:`jobctl.service.retention`)."""

TABLES = (
    "jobs", "executions", "execution_output", "task_functions", "job_types", "scheduler_instances", "leases",
    "api_tokens", "store_state", "audit_log", "notification_deliveries", "concurrency_groups", "job_run_stats",
    "lease_terms",
)  # fmt: skip
"""jobctl's tables, as ``store info`` counts them: every table a migration creates, and no other.
A Postgres schema may hold other applications' tables too, which are not jobctl's to count,
size or vacuum."""


# -- space ---------------------------------------------------------------------------------


def use_incremental_vacuum(path: Path) -> None:
    """Make a new, still empty SQLite file keep its free pages releasable (``auto_vacuum``
    can only change on an empty database without a ``VACUUM``)."""
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            conn.execute("CREATE TABLE jobctl_header (x INTEGER)")  # writes the header with the mode
            conn.execute("DROP TABLE jobctl_header")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot prepare store {path}: {exc}") from exc


def auto_vacuum_mode(db: Database) -> int:
    return int(db.scalar("PRAGMA auto_vacuum"))


def free_pages(db: Database) -> int:
    return int(db.scalar("PRAGMA freelist_count"))


def release_free_pages(
    db: Database,
    *,
    pause: Callable[[float], object] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    step_pages: Callable[[], int] = lambda: RELEASE_STEP_PAGES,
) -> int:
    """Give a SQLite store's free pages back to the file system, ``step_pages()`` per step (one
    transaction each, holding the write lock); the number given back. ``pause(seconds)`` is
    called after every step with the time it took. Nothing for a store without incremental
    auto-vacuum."""
    if not db.is_sqlite or auto_vacuum_mode(db) != INCREMENTAL:
        return 0
    released = 0
    while not should_stop():
        free = free_pages(db)
        if free == 0:
            break
        began = time.monotonic()
        db.run_sqlite_script(f"PRAGMA incremental_vacuum({max(1, step_pages())});")
        released += free - free_pages(db)
        if pause is not None:
            pause(time.monotonic() - began)
    return released


REWRITE_LIVE_BYTES = 256 << 20
"""The most live data :func:`rewrite_pays` lets a prune rewrite whole (about 1 s per 100 MB here)."""


def rewrite_pays(db: Database, *, live_limit: int = REWRITE_LIVE_BYTES) -> bool:
    """Whether rewriting a SQLite file (``VACUUM``) gives its free pages back sooner than
    :func:`release_free_pages` would: when they are most of the file and what is left is small.
    Releasing them step by step costs time for every free page (SQLite finds each on the free
    list before it lets it go: 18 s for the 680 MB a prune of 1,000,000 runs freed), a rewrite
    costs time for every live page (1.1 s for the 95 MB left). The rewrite holds the write lock
    throughout, so a prune asks only when no daemon leads (docs/sqlite-space.md)."""
    if not db.is_sqlite or auto_vacuum_mode(db) != INCREMENTAL:
        return False
    free = free_pages(db)
    live = page_count(db) - free
    return free > live and live * int(db.scalar("PRAGMA page_size")) <= live_limit


def page_count(db: Database) -> int:
    """Pages in a SQLite file (free ones included)."""
    return int(db.scalar("PRAGMA page_count"))


def store_size(db: Database) -> int:
    """Bytes the store takes: the SQLite file with its WAL, or the Postgres tables with indexes."""
    if db.is_sqlite:
        path = db.url.sqlite_path
        assert path is not None
        return sum(os.path.getsize(f"{path}{suffix}") for suffix in ("", "-wal") if os.path.exists(f"{path}{suffix}"))
    tables = existing_tables(db)
    return sum(int(db.scalar("SELECT pg_total_relation_size(:t)", {"t": table})) for table in tables)


def log_size(db: Database) -> int | None:
    """Bytes of a SQLite store's write-ahead log (0 when there is none); None on Postgres."""
    if not db.is_sqlite:
        return None
    path = db.url.sqlite_path
    assert path is not None
    try:
        return os.path.getsize(f"{path}-wal")
    except FileNotFoundError:
        return 0


@dataclass(frozen=True, kw_only=True)
class Vacuumed:
    """What :func:`vacuum` did."""

    rewritten: bool
    """False when ``should_stop()`` ended a SQLite rewrite before it was done: SQLite rolled it
    back, and the store is as it was. On Postgres: false when it ended the vacuum before every
    table was done (the ``VACUUM`` under way cancelled on the server)."""
    log_copied: bool
    """The write-ahead log was copied into the SQLite file and emptied after the rewrite, so the
    file has its new size. False when another connection kept that from happening for
    :data:`LOG_COPY_WAIT_SECONDS` (a read transaction left open: the log holds the rewritten
    pages until it ends), or a stop came first; the next checkpoint does it. True on Postgres."""
    file_bytes: int | None
    """The SQLite file's size once the log is copied into it (its pages after the rewrite);
    None on Postgres, or when nothing was rewritten."""


LOG_COPY_WAIT_SECONDS = SQLITE_BUSY_TIMEOUT_MS / 1000
"""How long :func:`vacuum` waits for other connections to let it copy the log into the file."""
LOG_COPY_TRY_MS = 50
"""How long one try at that waits (SQLite's busy timeout meanwhile): it keeps other writers out
while it waits for readers, so between two tries they get a gap as long."""
STOP_CHECK_STEPS = 1000
"""SQLite virtual-machine steps between two looks at whether a rewrite should stop (a few
milliseconds): the command's signal handler runs then too, in the main thread."""


def vacuum(
    db: Database, *, should_stop: Callable[[], bool] = lambda: False, on_wait: Callable[[], object] | None = None
) -> Vacuumed:
    """Rewrite a SQLite file without its free pages (switching it to incremental auto-vacuum),
    or ``VACUUM ANALYZE`` jobctl's Postgres tables.

    On Postgres ``should_stop()`` is asked before each table and, while a table's ``VACUUM``
    runs, every few hundredths of a second: the statement is then cancelled on the server
    (:meth:`~jobctl.store.database.Database.run_postgres_until_stopped`) and the tables not yet
    done are left for the next vacuum or autovacuum (``rewritten`` false).

    On SQLite ``should_stop()`` is asked every :data:`STOP_CHECK_STEPS` steps of the rewrite,
    which it ends at once (rolled back: the store as it was), and between two tries at copying
    the log into the file afterwards. That copy (a truncating checkpoint) needs every other
    connection off the log; ``on_wait()`` is called once when one is not, and after
    :data:`LOG_COPY_WAIT_SECONDS` the vacuum gives up on it: the rewritten pages wait in the log,
    and the file keeps its size, until the next checkpoint after that connection is done.
    """
    if not db.is_sqlite:
        for table in existing_tables(db):
            if should_stop() or not db.run_postgres_until_stopped(f"VACUUM ANALYZE {table}", should_stop):
                return Vacuumed(rewritten=False, log_copied=False, file_bytes=None)
        return Vacuumed(rewritten=True, log_copied=True, file_bytes=None)
    conn = db.connection()
    conn.set_progress_handler(lambda: bool(should_stop()), STOP_CHECK_STEPS)
    try:
        db.run_sqlite_script("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")
    except StoreError as exc:
        if not (interrupted(exc) and should_stop()):
            raise
        return Vacuumed(rewritten=False, log_copied=False, file_bytes=None)
    finally:
        conn.set_progress_handler(None, 0)
    copied = _copy_log_into_file(db, should_stop=should_stop, on_wait=on_wait)
    return Vacuumed(rewritten=True, log_copied=copied, file_bytes=page_count(db) * int(db.scalar("PRAGMA page_size")))


def _copy_log_into_file(db: Database, *, should_stop: Callable[[], bool], on_wait: Callable[[], object] | None) -> bool:
    """Copy SQLite's write-ahead log into the file and empty it (a truncating checkpoint), in
    tries of :data:`LOG_COPY_TRY_MS` with a gap between them, for at most
    :data:`LOG_COPY_WAIT_SECONDS` or until ``should_stop()``; whether it was done.

    SQLite reports a checkpoint that could not finish in its result (``busy``), not as an
    error: read from it, a reader in the way is no longer "nothing to give back"."""
    deadline = time.monotonic() + LOG_COPY_WAIT_SECONDS
    db.fetch_all(f"PRAGMA busy_timeout = {LOG_COPY_TRY_MS}")
    try:
        while True:
            result = db.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")[0]
            if not result["busy"]:
                return True
            if should_stop() or time.monotonic() >= deadline:
                return False
            if on_wait is not None:
                on_wait()
                on_wait = None
            time.sleep(LOG_COPY_TRY_MS / 1000)
    finally:
        db.fetch_all(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


INTERRUPT_CODE = 9
"""``SQLITE_INTERRUPT``: a statement ended by the progress handler (or ``interrupt()``)."""


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` (or the SQLite error it stands for) is a statement SQLite was told to stop."""
    return any(
        isinstance(error, sqlite3.Error) and (getattr(error, "sqlite_errorcode", 0) & 0xFF) == INTERRUPT_CODE
        for error in (exc, exc.__cause__)
    )


# -- contents ------------------------------------------------------------------------------


def existing_tables(db: Database) -> list[str]:
    """jobctl's tables present in this store (:data:`TABLES`; an older store lacks the newer ones)."""
    if db.is_sqlite:
        rows = db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        rows = db.fetch_all(
            "SELECT table_name AS name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    names = {str(row["name"]) for row in rows}
    return [name for name in TABLES if name in names]


def row_counts(db: Database) -> dict[str, int]:
    return {table: int(db.scalar(f"SELECT COUNT(*) FROM {table}")) for table in existing_tables(db)}


def execution_span(db: Database) -> tuple[datetime | None, datetime | None]:
    """When the oldest and the newest stored execution were created."""
    row = db.fetch_one("SELECT MIN(created_at) AS oldest, MAX(created_at) AS newest FROM executions")
    return (to_utc(row["oldest"]), to_utc(row["newest"])) if row else (None, None)


# -- backups -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BackupCopy:
    """What :func:`backup_sqlite` wrote: the copy's size, and the problems SQLite's
    ``quick_check`` finds in it (none for a sound copy)."""

    size: int
    problems: list[str]


def backup_sqlite(db: Database, target: Path) -> BackupCopy:
    """Copy a SQLite store to exactly ``target`` with SQLite's online backup API (consistent
    while the daemon writes), then run ``PRAGMA quick_check`` on the copy.

    The backup API copies pages as they are, so a store with damaged pages gives a copy with
    the same damage: the check says so (the copy is kept, for whoever looks into it). It reads
    every page of the copy, which was just written and is still in the page cache: about 0.1 s
    per 100 MB (docs/store-backup.md). It does not compare indexes with their tables, as
    ``store check``'s ``integrity_check`` does.

    The copy is written to a hidden ``.NAME.XXXXXXXX.part`` file beside ``target`` (NAME cut
    short when the part's name would be over the file system's limit), created
    readable by its owner alone from the start (the copy holds token hashes and the jobs'
    environment), and is linked to ``target`` only once it is whole and checked: a link never
    replaces what is there (not even a dangling symlink), and a copy killed outright (SIGKILL, a
    power cut) leaves the ``.part`` file, never a ``target`` that looks like a store and is not
    a whole one. SQLite opens the ``.part`` file itself (``mode=rw``: it never creates one of
    its own, and the path is quoted, so ``?``, ``#`` and ``%`` in it are part of the name). A
    copy that fails or is interrupted (Ctrl-C, SIGTERM) is removed.

    :raises UsageError: when ``target`` exists or cannot be created (nothing made).
    :raises StoreError: when the copy fails (the partial file removed).
    """
    from jobctl.store.file_names import PART_SUFFIX, part_prefix
    from jobctl.store.sqlite_file import SIDE_FILE_SUFFIXES, link_as_new, remove_with_side_files

    if os.path.lexists(target):  # at once: nothing is copied for a name that cannot be taken
        what = "is a directory" if target.is_dir() else "already exists"
        raise UsageError(f"backup target {target} {what}; give a new file path")
    prefix = part_prefix(target.name, target.parent, beside=max(SIDE_FILE_SUFFIXES, key=len))  # its journal too
    part = target.with_name(f"{prefix}{secrets.token_hex(4)}{PART_SUFFIX}")
    copy: sqlite3.Connection | None = None
    # Ours to remove from here on: a signal can end the command between the file's creation and
    # any line after it, so it is not "ours once made" but "ours unless making it failed".
    owned = True
    try:
        try:
            _create_part_file(part, target)
        except UsageError:
            owned = False  # nothing was made (or the random name was taken by another file)
            raise
        uri = f"file://{quote(str(part))}?mode=rw"  # an empty authority: file:///...
        copy = sqlite3.connect(uri, uri=True, isolation_level=None)
        # In one step: a step is one read transaction, which in WAL mode never blocks writers,
        # while a backup made of several steps starts over whenever another connection writes.
        db.connection().backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        problems = _quick_check(copy)
        copy.close()
        copy = None
        _sync_file(part)
        try:
            linked = link_as_new(part, target)
        except OSError as exc:
            raise UsageError(f"cannot write backup {target}: {exc.strerror or exc}") from None
        if not linked:
            raise UsageError(f"backup target {target} was created while the copy was made; give a new file path")
    except sqlite3.Error as exc:
        raise StoreError(f"backup to {target} failed: {exc}") from exc
    finally:  # whole (linked to target), failed or interrupted, the part goes
        if copy is not None:
            copy.close()
        if owned:
            remove_with_side_files(part)
    return BackupCopy(size=target.stat().st_size, problems=problems)


def _quick_check(conn: sqlite3.Connection) -> list[str]:
    """The problems ``PRAGMA quick_check`` finds, a line each; SQLite's message when damage stops it."""
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        if damage(exc) is None:
            raise
        try:
            first = conn.execute(_first_row_of("quick_check")).fetchall()
        except sqlite3.DatabaseError:
            first = []
        return [*problem_lines(str(row[0]) for row in first), str(exc)]
    return problem_lines(str(row[0]) for row in rows)


def check_a_file_can_be_created(target: Path) -> None:
    """Make the checks a SQLite backup's copy meets when it is created, for a backup written by
    another program (``store backup`` prints the ``pg_dump`` command on Postgres): a hidden file
    beside ``target`` is created, owner-only, and removed at once, so a folder that takes no new
    file (``/proc``, ``/sys``) or that this user cannot write is said now, in the same words.

    :raises UsageError: when no file can be created there (nothing left behind).
    """
    from jobctl.store.file_names import PART_SUFFIX, part_prefix

    probe = target.with_name(f"{part_prefix(target.name, target.parent)}{secrets.token_hex(4)}{PART_SUFFIX}")
    _create_part_file(probe, target)
    probe.unlink()


def _create_part_file(part: Path, target: Path) -> None:
    """Create ``part`` empty, mode 0600, or say why it cannot be (exit 2)."""
    try:
        fd = os.open(part, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    except (FileNotFoundError, NotADirectoryError) as exc:
        folder = target.parent
        if folder.is_dir():  # /proc, /sys: folders that exist and take no new file
            raise UsageError(f"cannot write backup {target}: no file can be created in folder {folder} "
                             f"({exc.strerror})") from None  # fmt: skip
        raise UsageError(f"cannot write backup {target}: folder {folder} does not exist") from None
    except OSError as exc:
        raise UsageError(f"cannot write backup {target}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, 0o600)  # whatever the umask took away, the owner can write it
    finally:
        # Closed before SQLite opens the file: closing any descriptor of a file drops the
        # process's POSIX locks on it, SQLite's included.
        os.close(fd)


def _sync_file(path: Path) -> None:
    """Flush ``path`` to disk before it takes its name: a backup that exists is a whole one."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- checks --------------------------------------------------------------------------------


def quick_check_problems(db: Database, *, should_stop: Callable[[], bool] = lambda: False) -> list[str] | None:
    """What SQLite's ``quick_check`` finds wrong with a SQLite store's pages, a line each (none
    for a sound file, and on Postgres); SQLite's own message when damage stops the check itself.
    None when ``should_stop()`` (Ctrl-C, asked every :data:`STOP_CHECK_STEPS` steps) ended it first.

    It reads every page and checks each b-tree's structure, as ``store backup`` does on its copy
    (about 0.1 s per 100 MB the page cache holds), but does not look each row up in every index
    (``store check``'s ``integrity_check``, many times as long on a large store).
    """
    if not db.is_sqlite:
        return []
    conn = db.connection()
    conn.set_progress_handler(lambda: bool(should_stop()), STOP_CHECK_STEPS)
    try:
        problems, stopped = _sqlite_check(db, "quick_check")
    except StoreError as exc:
        if interrupted(exc) and should_stop():
            return None
        raise
    finally:
        conn.set_progress_handler(None, 0)
    return problems if stopped is None else [*problems, stopped]


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One thing ``store check`` found wrong."""

    check: str
    detail: str


def integrity_findings(db: Database) -> list[Finding]:
    """SQLite's own ``integrity_check`` and ``foreign_key_check`` (Postgres enforces both itself).

    Each problem is a finding of its own: SQLite puts several on one row, a line each. A check
    that damaged pages stop part-way is a finding too, not an error: ``integrity_check`` gives
    up where it looks an index's rows up in a page it cannot read, so the pages are then listed
    by ``quick_check``, which does not cross-check indexes and reads on.
    """
    if not db.is_sqlite:
        return []
    problems, stopped = _sqlite_check(db, "integrity_check")
    if stopped is not None:
        problems, _ = _sqlite_check(db, "quick_check")
        problems.append(f"integrity_check stopped: {stopped}")
    found = [Finding(check="integrity", detail=problem) for problem in problems]
    return found + _rule_findings(
        db, "foreign keys", "PRAGMA foreign_key_check",
        lambda row: f"{row['table']} row {row['rowid']} points at a missing {row['parent']}",
    )  # fmt: skip


def _rule_findings(
    db: Database, check: str, sql: str, describe: Callable[[Row], str], params: dict[str, object] | None = None
) -> list[Finding]:
    """A finding of ``check`` for each row ``sql`` returns, or one saying it could not be
    checked when damaged pages stop the query."""
    rows = _rows_unless_damaged(db, sql, params)
    if isinstance(rows, str):
        return [Finding(check=check, detail=f"not checked: {rows}")]
    return [Finding(check=check, detail=describe(row)) for row in rows]


CHECK_HEADING = "*** in database main ***"
"""The line SQLite puts before the problems of a database when it finds any."""


def _sqlite_check(db: Database, pragma: str) -> tuple[list[str], str | None]:
    """The problems ``PRAGMA integrity_check`` or ``quick_check`` reports, a line each (none
    when it says ``ok``), and SQLite's error if damaged pages stopped it."""
    rows = _rows_unless_damaged(db, f"PRAGMA {pragma}")
    if isinstance(rows, str):
        first = _rows_unless_damaged(db, _first_row_of(pragma))
        return ([] if isinstance(first, str) else problem_lines(str(row[pragma]) for row in first)), rows
    return problem_lines(str(next(iter(row.values()))) for row in rows), None


def _first_row_of(pragma: str) -> str:
    """The check's first row alone: SQLite puts every problem it found in that row and may meet
    unreadable pages only when asked for another, and Python's ``sqlite3`` drops the row it holds
    when that next step fails, so a ``fetchall`` of a check that damage stops returned no
    problem at all (``sqlite3``'s shell lists them). ``LIMIT 1`` never takes that step."""
    return f"SELECT {pragma} FROM pragma_{pragma} LIMIT 1"


def _rows_unless_damaged(db: Database, sql: str, params: dict[str, object] | None = None) -> list[Row] | str:
    """The rows of a query, or SQLite's message when damaged pages stop it (other errors raise)."""
    try:
        return db.fetch_all(sql, params)
    except StoreError as exc:
        stopped = damage(exc)
        if stopped is None:
            raise
        return stopped


def problem_lines(results: Iterable[str]) -> list[str]:
    """The problems in the rows of an integrity or quick check: one per line of each row, without
    the ``ok`` of a sound file and the heading that names the database."""
    lines = (line.strip() for result in results for line in result.splitlines())
    return [line for line in lines if line and line not in ("ok", CHECK_HEADING)]


def damage(exc: BaseException) -> str | None:
    """SQLite's message when ``exc`` (or the SQLite error it stands for) says the file's pages are
    damaged (``SQLITE_CORRUPT``, ``SQLITE_NOTADB``); None for any other error."""
    for error in (exc, exc.__cause__):
        if isinstance(error, sqlite3.DatabaseError) and (error.sqlite_errorcode & 0xFF) in SQLITE_DAMAGE_CODES:
            return str(error)
    return None


def _orphan_line(row: Row) -> str:
    """An active run whose daemon is gone, said as what it is: the state a crash or a kill -9
    leaves, and a backup taken while runs were going on, which the next daemon to lead records
    ``failed`` (``abandoned: ...``) when it starts, not damage to the file (docs/store-backup.md)."""
    if row["known"] is None:
        whose = f"instance {row['instance_id'] or 'none'}, which the store does not know"
    elif row["stopped_at"] is not None:
        whose = f"instance {row['instance_id']}, stopped at {utc_text(row['stopped_at'])}"
    else:
        whose = f"instance {row['instance_id']}, not heard from since {utc_text(row['last_heartbeat'])}"
    return (
        f"execution {row['id']} is {row['status']} on {whose}: "
        "the next daemon to lead records it failed (abandoned) when it starts"
    )


def invariant_findings(db: Database, *, now: datetime, stale_after_seconds: float) -> list[Finding]:
    """jobctl's own rules: one execution per slot and attempt; no active execution whose
    instance is dead (stopped, forgotten, or silent for ``stale_after_seconds``). A rule whose
    rows damaged pages keep from being read is a finding that says so."""
    slots = _rule_findings(
        db, "one execution per slot",
        """
        SELECT job_id, scheduled_for, attempt, COUNT(*) AS n FROM executions WHERE scheduled_for IS NOT NULL
        GROUP BY job_id, scheduled_for, attempt HAVING COUNT(*) > 1
        """,
        lambda row: f"job {row['job_id']}: {row['n']} runs of slot {row['scheduled_for']} attempt {row['attempt']}",
    )  # fmt: skip
    orphans = _rule_findings(
        db, "active execution without a live instance",
        """
        SELECT e.id, e.status, e.instance_id, i.id AS known, i.stopped_at, i.last_heartbeat FROM executions e
        LEFT JOIN scheduler_instances i ON i.id = e.instance_id
        WHERE (e.status = :running OR (e.status = :pending AND e.instance_id IS NOT NULL))
        AND (i.id IS NULL OR i.stopped_at IS NOT NULL OR i.last_heartbeat < :stale)
        """,
        _orphan_line,
        {"running": ACTIVE[1], "pending": ACTIVE[0], "stale": now - timedelta(seconds=stale_after_seconds)},
    )  # fmt: skip
    return slots + orphans
