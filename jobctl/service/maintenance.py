"""``jobctl store ...``: what an operator asks of the store itself, as JSON-ready dicts.

These work on the store directly (never through the API): a backup, an integrity check or a
vacuum is the business of whoever holds the store, like token management.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from jobctl.errors import StoreDamaged, UsageError
from jobctl.models import RetentionPolicy
from jobctl.service import audit
from jobctl.service.retention import PruneMetDamage, PruneReport, prune_store
from jobctl.store import Store
from jobctl.store import maintenance as m
from jobctl.store.schema_version import HEAD
from jobctl.store.url import StoreUrl
from jobctl.wire.responses import timestamp

STORE_PRUNED = "store.pruned"
"""Audit action of a prune run by hand."""


def retention_settings(policy: RetentionPolicy) -> dict[str, int]:
    return {
        "keepDays": policy.keep_days,
        "keepPerJob": policy.keep_per_job,
        "outputKeepDays": policy.output_keep_days,
        "auditKeepDays": policy.audit_keep_days,
    }


def prune_now(
    store: Store,
    policy: RetentionPolicy,
    *,
    now: datetime,
    dry_run: bool,
    should_stop: Callable[[], bool] = lambda: False,
) -> PruneReport | None:
    """``jobctl store prune``: the pass the leader makes, at once and without pauses; a prune that
    removed anything is recorded in the audit log (the leader's own passes are not: they are
    the settings at work, not somebody's change). ``should_stop()`` ends it after the batch under
    way (Ctrl-C): what it removed until then is reported and recorded all the same.

    A SQLite store is checked first (:func:`refuse_a_damaged_store`), dry run or not; None when
    ``should_stop()`` ended that check (nothing counted or removed).

    :raises StoreDamaged: when SQLite says the file is damaged, before the prune (nothing
        removed) or in one of its statements (it stops there; the message says what the batches
        before removed). Nothing is recorded in the audit log of such a store.
    """
    refuse_a_damaged_store(store, dry_run=dry_run, should_stop=should_stop)
    if should_stop():  # Ctrl-C during the check: nothing was counted, nothing removed
        return None
    try:
        report = prune_store(store, policy, now=now, dry_run=dry_run, should_stop=should_stop)
    except PruneMetDamage as exc:  # what the check could not see, met by a statement: not one more write
        raise StoreDamaged(damaged_store_message(exc.message, _stopped_after(exc.report))) from exc
    if not dry_run and report.total:
        audit.record(store, actor=audit.local_actor(), action=STORE_PRUNED, target_type="store",
                     details={"removed": report.removed})  # fmt: skip
    return report


def refuse_a_damaged_store(store: Store, *, dry_run: bool, should_stop: Callable[[], bool]) -> None:
    """Before ``store prune`` (or its dry run) reads a row: SQLite's quick check of the whole file
    (nothing on Postgres). A prune of a damaged file used to delete rows up to the first damaged
    page it met (or never meet one, and exit 0), and to give free pages back by moving pages
    about; a dry run of the same file failed. Now neither starts: exit 1, nothing removed.

    :raises StoreDamaged: when the check finds anything wrong, or damage stops it.
    """
    problems = m.quick_check_problems(store.db, should_stop=should_stop)
    if not problems:  # sound, or stopped (Ctrl-C)
        return
    location = store.db.url.sqlite_path
    if problems == [MALFORMED]:
        what = MALFORMED
    else:
        more = f", and {len(problems) - 1} more" if len(problems) > 1 else ""
        what = f"SQLite's quick check: {problems[0]}{more}"
    done = "store prune --dry-run counted nothing" if dry_run else "store prune removed nothing"
    raise StoreDamaged(damaged_store_message(f"store {location} is not a usable SQLite database ({what})", done))


MALFORMED = "database disk image is malformed"
"""SQLite's message for a file with damaged pages (``SQLITE_CORRUPT``)."""


def damaged_store_message(damage: str, done: str) -> str:
    """The one line ``store prune`` ends with on a damaged store: SQLite's finding, what the
    prune did, and where to go from there."""
    return f"{damage}; {done}: run jobctl store check, and restore a backup (docs/store-backup.md)"


def _stopped_after(report: PruneReport) -> str:
    """What a prune that met damage had done before it: its batches before were committed."""
    if not report.total:
        return "store prune stopped there and removed nothing"
    return f"store prune stopped there, after removing {report.total} rows in the batches before it"


def pages_kept_in_the_file(store: Store) -> int:
    """Free pages a SQLite store made without incremental vacuum (by an earlier release) keeps in
    its file: a prune cannot give them back until ``jobctl store vacuum`` has rewritten it once
    (docs/sqlite-space.md). 0 for any other store."""
    db = store.db
    if not db.is_sqlite or m.auto_vacuum_mode(db) == m.INCREMENTAL:
        return 0
    return m.free_pages(db)


def store_info(store: Store, policy: RetentionPolicy) -> dict[str, Any]:
    """Backend, masked location, size, schema version, rows per table, execution span, retention."""
    db = store.db
    oldest, newest = m.execution_span(db)
    info: dict[str, Any] = {
        "backend": "sqlite" if db.is_sqlite else "postgresql",
        "location": str(db.url.sqlite_path) if db.is_sqlite else db.url.redacted(),
        "sizeBytes": m.store_size(db),
        "schemaVersion": store.revision,  # read when the store was opened (older ones stay as they are)
        "schemaUpgradePending": store.revision != HEAD,
        "rowCounts": m.row_counts(db),
        "oldestExecution": timestamp(oldest),
        "newestExecution": timestamp(newest),
        "retention": retention_settings(policy),
    }
    sqlite = db.is_sqlite  # the two SQLite fields are null on Postgres: one shape for scripts
    info["freePages"] = m.free_pages(db) if sqlite else None
    info["incrementalVacuum"] = m.auto_vacuum_mode(db) == m.INCREMENTAL if sqlite else None
    return info


def backup_target(target: str) -> Path:
    """The absolute path a backup named ``target`` goes to: a new file in a folder that exists.

    Checked on the name as given, before any store is opened (``Path`` would turn ``''`` into
    ``.`` and drop a trailing slash).

    :raises UsageError: for ``-``, an empty name, a name ending in ``/``, ``.`` or ``..``, a
        name longer than the file system takes, an existing path (a directory said so), a
        folder that does not exist, is not a folder or cannot be written.
    """
    from jobctl.store.file_names import too_long

    if target == "-":
        raise UsageError("store backup writes a file, not standard output: give a new file path instead of -")
    if not target:
        raise UsageError("store backup needs a file path; PATH is empty")
    if os.path.basename(target) in ("", ".", ".."):
        raise UsageError(f"backup target {target} names a folder; give a new file path")
    path = Path(target).absolute()  # as written: a quoted "~" is a folder named ~, as for cp
    why = too_long(path)
    if why is not None:
        raise UsageError(f"cannot write backup {path}: {why}")
    folder = path.parent
    try:
        if path.is_dir():
            raise UsageError(f"backup target {path} is a directory; give a new file path")
        if os.path.lexists(path):
            raise UsageError(f"backup target {path} already exists; give a new file path")
        if not folder.is_dir():
            what = "is not a folder" if os.path.lexists(folder) else "does not exist"
            raise UsageError(f"cannot write backup {path}: folder {folder} {what}")
    except OSError as exc:  # a folder on the way this user may not search, say
        raise UsageError(f"cannot write backup {path}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write backup {path}: folder {folder} is not writable")
    return path


def refuse_sqlite_file_beside(store_file: Path, target: Path) -> None:
    """Refuse a backup named as one of SQLite's files beside the store (``jobctl.db-wal``...):
    opening the store to copy it, SQLite reads such a file as its own, finds it is not, and
    deletes it, so the copy would be gone by the time the command says where it is.

    :raises UsageError:
    """
    from jobctl.store.sqlite_file import store_file_named

    if store_file_named(target, store_file, including_itself=False) is not None:
        raise UsageError(f"backup target {target} is SQLite's own file beside the store {store_file}; "
                         "give another file path")  # fmt: skip


def backup_store(store: Store, target: Path) -> dict[str, Any]:
    """Copy a SQLite store to ``target`` (from :func:`backup_target`) while it is in use;
    ``quickCheck`` is ``"ok"``, or the problems SQLite's quick check finds in the copy (kept).

    :raises UsageError: on Postgres (the message gives the ``pg_dump`` command), or when
        ``target`` exists or cannot be created.
    """
    db = store.db
    if not db.is_sqlite:
        raise postgres_backup_refusal(db.url, target)
    copy = m.backup_sqlite(db, target)
    return {"path": str(target), "sizeBytes": copy.size, "quickCheck": copy.problems or "ok"}


def postgres_backup_refusal(url: StoreUrl, target: Path) -> UsageError:
    """``store backup`` on Postgres: exit 2, naming the ``pg_dump`` command that does it.

    ``target`` (from :func:`backup_target`) is first put to the test a SQLite backup's copy meets
    when it is created (:func:`jobctl.store.maintenance.check_a_file_can_be_created`): a command
    naming a file in ``/proc`` would only fail once pasted.

    :raises UsageError: when no file can be created at ``target``.
    """
    m.check_a_file_can_be_created(target)
    return UsageError(f"store backup copies SQLite stores; for Postgres run: {pg_dump_command(url, target)}")


def pg_dump_command(url: StoreUrl, target: Path) -> str:
    """The ``pg_dump`` command that writes this Postgres store to ``target`` in pg_dump's custom
    format (``pg_restore`` reads it), shell-quoted and without the password (pg_dump asks, or
    reads ``~/.pgpass`` or ``$PGPASSWORD``).

    It runs in a subshell with ``umask 077``: the dump holds what a SQLite backup does (token
    hashes, the jobs' environment), and pg_dump creates its file under the shell's umask (0644
    under the usual 022), where a SQLite copy is its owner's alone. The subshell keeps the umask
    from staying in the shell the line is pasted into.

    When the URL sets ``search_path`` (``options=-c search_path=jobctl,public``), only its first
    schema is dumped: jobctl creates its tables unqualified, so they are in that schema
    (``current_schema()``), while the others may hold what is not jobctl's. A path that starts
    with ``$user``, or none, dumps the whole database.
    """
    info = dict(url.pg_conninfo or {})
    parts = ["pg_dump", "--format=custom"]
    for option, key in (("--host", "host"), ("--port", "port"), ("--username", "user")):
        if info.get(key):
            parts.append(f"{option}={info[key]}")
    schema = _first_schema(info.get("options", ""))
    if schema is not None:
        parts.append(f"--schema={schema}")
    parts += [f"--file={target}", _database_argument(info)]
    return f"(umask 077 && {shlex.join(parts)})"


NAMED_BY_OPTIONS = frozenset({"host", "port", "user", "password", "sslpassword", "dbname", "options"})
"""Connection settings the command gives as options of its own, or never: the password and the
client key's passphrase (``sslpassword``) are left for pg_dump to ask for. Masked in the message,
a passphrase would be pasted as ``***`` (and the mask took the connection string's closing quote)."""


def _database_argument(info: dict[str, str]) -> str:
    """The database name, or, when the URL sets more than the command's options say (``sslmode``,
    ``sslrootcert``, ``connect_timeout``...), a libpq connection string holding them with it:
    pg_dump must reach the server the way jobctl does (a TLS-only server refuses it otherwise)."""
    extra = {key: value for key, value in info.items() if key not in NAMED_BY_OPTIONS}
    if not extra:
        return info.get("dbname", "")
    settings = {"dbname": info.get("dbname", ""), **extra}
    return " ".join(f"{key}={_conninfo_value(value)}" for key, value in settings.items())


def _conninfo_value(value: str) -> str:
    """A value as a libpq connection string takes it: bare if it can be, else in single quotes,
    with backslashes and single quotes escaped by a backslash."""
    if value and not any(char.isspace() or char in "'\\" for char in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _first_schema(options: str) -> str | None:
    """The first schema of the ``search_path`` that libpq ``options`` set (the last setting
    wins, as on the server), as written there; None when they set none, or it is ``$user``."""
    args, arg, escaped = [], "", False
    for char in options:  # libpq splits options at spaces; a backslash keeps the next character
        if escaped:
            arg, escaped = arg + char, False
        elif char == "\\":
            escaped = True
        elif char.isspace():
            if arg:
                args.append(arg)
            arg = ""
        else:
            arg += char
    if arg:
        args.append(arg)
    settings = [arg[2:] if arg.startswith(("-c", "--")) else arg for arg in args]
    value = None
    for setting in settings:
        name, sep, rest = setting.partition("=")
        if sep and name.strip().lower().replace("-", "_") == "search_path":
            value = rest
    if value is None:
        return None
    first = _split_search_path(value)[:1]
    return first[0] if first and first[0].strip('"') != "$user" else None


def _split_search_path(value: str) -> list[str]:
    """``search_path`` entries: comma-separated, a double-quoted name keeps its commas."""
    names, name, quoted = [], "", False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            names.append(name.strip())
            name = ""
        else:
            name += char
    names.append(name.strip())
    return [name for name in names if name]


def check_store(store: Store, *, now: datetime, lease_ttl_seconds: float) -> dict[str, Any]:
    """SQLite's integrity check and jobctl's invariants; ``ok`` is false when anything is wrong."""
    findings = m.integrity_findings(store.db) + m.invariant_findings(
        store.db, now=now, stale_after_seconds=2 * lease_ttl_seconds
    )
    return {"ok": not findings, "problems": [{"check": f.check, "detail": f.detail} for f in findings]}


def vacuum_store(
    store: Store, *, should_stop: Callable[[], bool] = lambda: False, on_wait: Callable[[], object] | None = None
) -> dict[str, Any] | None:
    """Compact the store; the bytes it took before and after. None when ``should_stop()`` (Ctrl-C)
    ended it before it was done: a SQLite rewrite was rolled back, and the store is as it was; on
    Postgres the VACUUM under way was cancelled on the server, and the tables not done are left
    as they were (:func:`~jobctl.store.maintenance.vacuum`, which also says what ``on_wait`` is for).

    On SQLite the sizes count the write-ahead log beside the file, and the vacuum empties it:
    ``logFreedBytes`` says how much of ``freedBytes`` that was. Beside a running daemon the log
    holds its latest writes and fills again, so that part is no space won for long, and a store
    with nothing to compact still gives some back (None on Postgres).

    ``logCopied`` is false when the log could not be copied into the file after the rewrite
    (another connection held a read transaction open, or the wait was stopped): the rewritten
    pages are then in the log, the sizes after are the file's and the log's as they are (larger
    than before, at first), and ``sizeOnceLogCopiedBytes`` is what the file becomes at the next
    checkpoint. Both are None on Postgres.
    """
    sqlite = store.db.is_sqlite
    before, log_before = m.store_size(store.db), m.log_size(store.db)
    done = m.vacuum(store.db, should_stop=should_stop, on_wait=on_wait)
    if not done.rewritten:
        return None
    after, log_after = m.store_size(store.db), m.log_size(store.db)
    freed = max(0, before - after)
    log_freed = None if log_before is None or log_after is None else min(freed, max(0, log_before - log_after))
    return {
        "backend": "sqlite" if sqlite else "postgresql",
        "sizeBeforeBytes": before, "sizeAfterBytes": after, "freedBytes": freed, "logFreedBytes": log_freed,
        "logCopied": done.log_copied if sqlite else None,
        "sizeOnceLogCopiedBytes": done.file_bytes if sqlite else None,
    }  # fmt: skip
