"""Retention: small per-table pruners that each delete old history in short transactions.

Every pruner removes at most ``limit`` rows per :meth:`TablePruner.prune_batch` call, in one
transaction, after reading what to remove outside it; the caller (``jobctl store prune`` or
the leader's background pruner, :mod:`jobctl.service.retention`) sizes the batches so that
each transaction stays well under 50 ms and pauses between them, so pruning a backlog of
millions of rows never holds the scheduler's writes back for long.

A table that wants its history bounded adds one pruner to :func:`pruners_for` (a log-like
table with a time column needs only an :class:`ExpiredRows`). Pending and running executions are never pruned
(every delete re-checks the status inside its transaction). See docs/retention.md.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from jobctl.models import RetentionPolicy
from jobctl.store.database import Database
from jobctl.store.executions import ACTIVE

DAY = timedelta(days=1)
JOBS_PER_BATCH = 200
"""Jobs whose excess executions one batch of :class:`ExcessExecutions` looks at (reads only)."""


@dataclass(frozen=True, kw_only=True)
class Batch:
    """What one :meth:`TablePruner.prune_batch` did."""

    removed: int
    """Rows removed (executions, or runs whose output went)."""
    done: bool
    """Nothing more was found to remove at the ``now`` it was given."""


class TablePruner(Protocol):
    """Removes one kind of expired history."""

    name: str
    """What it removes, as reports name it (``expiredExecutions``, ``excessExecutions``, ``outputs``)."""

    def pending(self, now: datetime) -> int:
        """How many rows a prune at ``now`` would remove (``jobctl store prune --dry-run``)."""
        ...

    def prune_batch(self, now: datetime, limit: int) -> Batch:
        """Remove at most ``limit`` expired rows in one short transaction."""
        ...


def pruners_for(db: Database, policy: RetentionPolicy) -> list[TablePruner]:
    """The pruners of this store's tables, in the order a pass runs them: rows before output
    (output of a row about to go is not worth pruning on its own)."""
    return [
        ExpiredExecutions(db, keep_days=policy.keep_days),
        ExcessExecutions(db, keep_per_job=policy.keep_per_job, keep_days=policy.keep_days),
        ExpiredOutput(db, policy),
        ExpiredRows(db, name="auditEntries", table="audit_log", key="id", time="at", keep_days=policy.audit_keep_days),
        ExpiredRows(
            db, name="deliveries", table="notification_deliveries", key="id", time="created_at",
            keep_days=policy.keep_days, unless="status = 'pending'",
        ),
    ]  # fmt: skip


def _id_list(prefix: str, ids: Sequence[str]) -> tuple[str, dict[str, Any]]:
    keys = {f"{prefix}{n}": value for n, value in enumerate(ids)}
    return ", ".join(":" + key for key in keys), keys


_FINISHED = "status NOT IN (:pending, :running)"
_ACTIVE_PARAMS = {"pending": ACTIVE[0], "running": ACTIVE[1]}
PRUNE_CACHE_KIB = 65_536
"""SQLite page cache of the leader's pruning connection while it prunes (64 MiB, given back
after): more of the pages of the eight b-trees a deleted row touches stay in memory than in the
default 2 MiB (docs/retention.md)."""
COMMAND_PRUNE_CACHE_KIB = 262_144
"""The page cache of ``jobctl store prune`` (256 MiB at most, filled only as far as the prune
reads, given back after): enough for every page of the three random-keyed b-trees of a store of
1,000,000 runs. With long batches and a long log, a page the cache has let go is read back from
the log by a system call; with this cache the prune of 991,000 rows took 35-40 s instead of
46-48 s (docs/retention.md). The daemon keeps the smaller cache of :data:`PRUNE_CACHE_KIB`."""
PRUNE_LOG_BYTES = 256 << 20
"""How far SQLite's write-ahead log may grow in a prune nobody else writes beside (``jobctl store
prune`` with no daemon leading) before the pruner copies it into the file: a deleted row
rewrites a page of each of the three b-trees keyed by a random UUID or a job, and every
checkpoint writes each page it finds once and syncs the file, so the fewer checkpoints, the
more deletions a page write carries (docs/retention.md). The log is cut back afterwards."""
PRUNE_MMAP_BYTES = 1 << 30
"""SQLite reads the store's file through a memory map of up to 1 GiB while it prunes: a page the
cache does not hold is read in place instead of copied by a system call (most of a deleted row's
index pages are such pages; docs/retention.md). Unmapped when the prune ends."""


@contextmanager
def pruning_connection(
    db: Database, *, log_bytes: int | None = None, cache_kib: int = PRUNE_CACHE_KIB
) -> Iterator[None]:
    """This thread's SQLite connection set up for a prune, for the time of one: a bigger page
    cache, the file read through a memory map, temporary b-trees in memory, and no checkpoint
    run by its own commits (the pruner calls :func:`checkpoint` between batches, outside the
    write lock, instead of each commit copying the WAL into the file while the lock is held).

    ``log_bytes``: the size the log file is cut back to when it starts afresh, for the time of
    the prune (instead of the store's 2 MiB), so a prune that lets the log grow that far between
    checkpoints (:func:`log_exceeds`) rewrites the same file instead of cutting it back and
    growing it again every time. ``cache_kib``: the page cache's size meanwhile. The defaults,
    the cache's memory and the map come back afterwards. Nothing on Postgres."""
    if not db.is_sqlite:
        yield
        return
    cache = int(db.scalar("PRAGMA cache_size"))
    autocheckpoint = int(db.scalar("PRAGMA wal_autocheckpoint"))
    mmap = int(db.scalar("PRAGMA mmap_size") or 0)
    log_limit = int(db.scalar("PRAGMA journal_size_limit"))
    db.run_sqlite_script(
        f"PRAGMA cache_size = -{cache_kib}; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;"
        f" PRAGMA mmap_size = {PRUNE_MMAP_BYTES}; PRAGMA journal_size_limit = {log_bytes or log_limit};"
    )
    try:
        yield
    finally:
        db.run_sqlite_script(
            f"PRAGMA cache_size = {cache}; PRAGMA temp_store = DEFAULT; PRAGMA wal_autocheckpoint = {autocheckpoint};"
            f" PRAGMA mmap_size = {mmap}; PRAGMA journal_size_limit = {log_limit}; PRAGMA shrink_memory;"
        )
        checkpoint(db)


def log_exceeds(db: Database, limit: int) -> bool:
    """Whether SQLite's write-ahead log file is larger than ``limit`` bytes. Inside
    :func:`pruning_connection` with ``log_bytes=limit`` the file starts afresh at no more than
    ``limit`` (SQLite cuts it back to that when the log restarts), so it grows past ``limit``
    only when the log itself holds more; a file left bigger by someone else only makes the
    pruner checkpoint sooner. False on Postgres."""
    path = db.url.sqlite_path
    if not db.is_sqlite or path is None:
        return False
    try:
        return os.stat(f"{path}-wal").st_size > limit
    except FileNotFoundError:
        return False


def checkpoint(db: Database) -> None:
    """Copy SQLite's write-ahead log into the file without waiting for readers or writers (a
    passive checkpoint), so the next writer starts the log afresh. Nothing on Postgres."""
    if db.is_sqlite:
        db.fetch_all("PRAGMA wal_checkpoint(PASSIVE)")


def row_key(db: Database) -> str:
    """The column a pruner selects to name the executions it deletes: SQLite's ``rowid`` (the
    table's own b-tree, in the order rows were written, so a batch deletes neighbouring rows
    without a look-up in the random UUID index first), the ``id`` on Postgres."""
    return "rowid" if db.is_sqlite else "id"


def delete_executions(db: Database, keys: Sequence[Any]) -> int:
    """Delete these executions (keys from :func:`row_key`) and their output in one transaction,
    unless they became active. Output goes first, in one statement, so the cascade of each
    execution's delete finds nothing left to do."""
    if not keys:
        return 0
    if db.is_sqlite:
        chosen = "rowid IN (SELECT value FROM json_each(:keys))"
        params: dict[str, Any] = {"keys": json.dumps(sorted(keys)), **_ACTIVE_PARAMS}
    else:
        chosen = "id = ANY(:keys)"
        params = {"keys": list(keys), **_ACTIVE_PARAMS}
    with db.transaction():
        db.execute(
            "DELETE FROM execution_output WHERE execution_id IN "
            f"(SELECT id FROM executions WHERE {chosen} AND {_FINISHED})",
            params,
        )
        return db.execute(f"DELETE FROM executions WHERE {chosen} AND {_FINISHED}", params)


class ExpiredExecutions:
    """Finished executions created more than ``keep_days`` ago, oldest first.

    Each batch starts where the previous one ended (``created_at >=`` the last one seen), not
    at the oldest row: on Postgres the index entries of deleted rows stay until vacuum, and a
    scan from the start walked all of them again in every batch (16 ms of dead entries after
    80,000 deletions). A pass that finds nothing more starts from the oldest again.
    """

    name = "expiredExecutions"

    def __init__(self, db: Database, *, keep_days: int) -> None:
        self.db = db
        self.keep = keep_days * DAY
        self._from: datetime | None = None

    def pending(self, now: datetime) -> int:
        return int(
            self.db.scalar(
                f"SELECT COUNT(*) FROM executions WHERE created_at < :cutoff AND {_FINISHED}",
                {"cutoff": now - self.keep, **_ACTIVE_PARAMS},
            )
        )

    def prune_batch(self, now: datetime, limit: int) -> Batch:
        since = "" if self._from is None else "created_at >= :since AND "
        params = {"cutoff": now - self.keep, "limit": limit, "since": self._from, **_ACTIVE_PARAMS}
        choose = f"FROM executions WHERE {since}created_at < :cutoff AND {_FINISHED} ORDER BY created_at LIMIT :limit"
        if self.db.is_sqlite:
            rows = self.db.fetch_all(f"SELECT rowid AS k, created_at {choose}", params)
            removed, found = delete_executions(self.db, [row["k"] for row in rows]), len(rows)
            last = rows[-1]["created_at"] if rows else None
        else:  # one statement: the choice, the output and the rows, without a round trip per step
            # Counted from the rows chosen, not those deleted: a row another pruner (the leader's,
            # beside `jobctl store prune`) deleted first is skipped by this DELETE, and a short
            # count of deleted rows would end the pass with expired rows still ahead of it.
            with self.db.transaction():
                counts = self.db.fetch_all(
                    f"""
                    WITH doomed AS (SELECT id, created_at {choose}),
                    output AS (DELETE FROM execution_output o USING doomed d WHERE o.execution_id = d.id),
                    gone AS (DELETE FROM executions e USING doomed d WHERE e.id = d.id AND e.{_FINISHED} RETURNING 1)
                    SELECT (SELECT COUNT(*) FROM gone) AS removed, COUNT(*) AS found, MAX(created_at) AS last
                    FROM doomed
                    """,
                    params,
                )[0]
            removed, found, last = int(counts["removed"]), int(counts["found"]), counts["last"]
        done = found < limit
        self._from = None if done else last
        return Batch(removed=removed, done=done)


class ExcessExecutions:
    """Executions of a job beyond its newest ``keep_per_job`` (active ones count, but stay).

    Each job is looked at with one index probe (its executions newest first, past the kept
    ones). The first pass looks at the jobs that have more than ``keep_per_job`` executions (one
    scan of the job index finds them); later passes only at jobs that got executions since the
    previous pass began, so a quiet store of 100,000 jobs costs little, and at jobs whose excess
    held active runs when they were last looked at: those runs may have ended since, and no new
    run of their job need come to bring them back (before, they stayed until the periodic full
    sweep, hours later, while ``store prune --dry-run`` counted them).
    """

    name = "excessExecutions"

    def __init__(self, db: Database, *, keep_per_job: int, keep_days: int) -> None:
        self.db = db
        self.keep_per_job = keep_per_job
        self.keep = keep_days * DAY
        self._queue: deque[str] = deque()
        self._since: datetime | None = None
        self._sweep_started: datetime | None = None
        self._held_back: set[str] = set()
        """Jobs whose excess held active runs, looked at again in the next pass."""

    def pending(self, now: datetime) -> int:
        """Excess rows not already older than ``keep_days`` (those count as ``expiredExecutions``)."""
        return int(
            self.db.scalar(
                f"""
                SELECT COUNT(*) FROM (
                    SELECT created_at, status,
                        ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY created_at DESC, id DESC) AS newest
                    FROM executions
                ) ranked WHERE newest > :keep AND created_at >= :cutoff AND {_FINISHED}
                """,
                {"keep": self.keep_per_job, "cutoff": now - self.keep, **_ACTIVE_PARAMS},
            )
        )

    def prune_batch(self, now: datetime, limit: int) -> Batch:
        if not self._queue and not self._refill(now):
            return Batch(removed=0, done=True)
        doomed: list[Any] = []
        for _ in range(JOBS_PER_BATCH):
            if not self._queue or len(doomed) >= limit:
                break
            job_id = self._queue[0]
            found = self._excess_of(job_id, limit - len(doomed))
            doomed.extend(found.ids)
            if found.held_back:
                self._held_back.add(job_id)
            if found.complete:
                self._queue.popleft()
        removed = delete_executions(self.db, doomed)
        if not self._queue:
            self._since = self._sweep_started
        return Batch(removed=removed, done=not self._queue)

    def _refill(self, now: datetime) -> bool:
        """Queue the jobs to look at in this pass; False when there are none."""
        if self._since is None:  # one pass over the (job_id, ...) index instead of a probe per job
            rows = self.db.fetch_all(
                "SELECT job_id FROM executions GROUP BY job_id HAVING COUNT(*) > :keep", {"keep": self.keep_per_job}
            )
        else:
            rows = self.db.fetch_all(jobs_with_runs_since_sql(sqlite=self.db.is_sqlite), {"since": self._since})
        self._sweep_started = now
        again, self._held_back = self._held_back, set()
        self._queue.extend(dict.fromkeys([*(row["job_id"] for row in rows), *sorted(again)]))
        if not self._queue:
            self._since = now
        return bool(self._queue)

    @dataclass(frozen=True)
    class _Excess:
        ids: list[Any]
        """Keys from :func:`row_key`."""
        complete: bool
        held_back: bool
        """Some of the excess were active runs, left for now."""

    def _excess_of(self, job_id: str, limit: int) -> ExcessExecutions._Excess:
        rows = self.db.fetch_all(
            f"""
            SELECT {row_key(self.db)} AS k, status FROM executions WHERE job_id = :job_id
            ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :keep
            """,
            {"job_id": job_id, "limit": limit, "keep": self.keep_per_job},
        )
        ids = [row["k"] for row in rows if row["status"] not in ACTIVE]
        return ExcessExecutions._Excess(ids=ids, complete=len(rows) < limit, held_back=len(ids) < len(rows))


class ExpiredOutput:
    """The output of finished runs created more than ``output_keep_days`` ago.

    The run's row stays and says so (``output_pruned``); rows not looked at yet are found
    through a partial index that holds only them (migration 0016).
    """

    name = "outputs"

    def __init__(self, db: Database, policy: RetentionPolicy) -> None:
        self.db = db
        self.keep_output = policy.output_keep_days * DAY
        self.keep = policy.keep_days * DAY
        self.keep_per_job = policy.keep_per_job

    def pending(self, now: datetime) -> int:
        """Runs whose output would go (not counting rows that go whole)."""
        return int(
            self.db.scalar(
                f"""
                SELECT COUNT(*) FROM (
                    SELECT id, created_at, status, output_pruned,
                        ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY created_at DESC, id DESC) AS newest
                    FROM executions
                ) ranked WHERE newest <= :keep AND output_pruned IS NULL AND created_at < :cutoff
                AND created_at >= :row_cutoff AND {_FINISHED}
                AND EXISTS (SELECT 1 FROM execution_output o WHERE o.execution_id = ranked.id)
                """,
                {
                    "keep": self.keep_per_job,
                    "cutoff": now - self.keep_output,
                    "row_cutoff": now - self.keep,
                    **_ACTIVE_PARAMS,
                },
            )
        )

    def prune_batch(self, now: datetime, limit: int) -> Batch:
        rows = self.db.fetch_all(
            f"""
            SELECT id FROM executions WHERE output_pruned IS NULL AND created_at < :cutoff AND {_FINISHED}
            ORDER BY created_at LIMIT :limit
            """,
            {"cutoff": now - self.keep_output, "limit": limit, **_ACTIVE_PARAMS},
        )
        if not rows:
            return Batch(removed=0, done=True)
        placeholders, params = _id_list("e", [row["id"] for row in rows])
        params.update(_ACTIVE_PARAMS)
        with self.db.transaction():
            # Only runs nobody has looked at since they were chosen: another pruner (the leader's,
            # beside `jobctl store prune`) may have chosen them too and pruned them first, and
            # its true must not become false (their output is gone) nor be counted again.
            marked = self.db.fetch_all(
                f"""
                UPDATE executions SET output_pruned = EXISTS (
                    SELECT 1 FROM execution_output o WHERE o.execution_id = executions.id)
                WHERE id IN ({placeholders}) AND output_pruned IS NULL AND {_FINISHED}
                RETURNING output_pruned
                """,
                params,
            )
            self.db.execute(
                f"""
                DELETE FROM execution_output WHERE execution_id IN (
                    SELECT id FROM executions WHERE id IN ({placeholders}) AND output_pruned)
                """,
                params,
            )
        return Batch(removed=sum(1 for row in marked if row["output_pruned"]), done=len(rows) < limit)


class ExpiredRows:
    """Rows of a log-like ``table`` whose ``time`` column is more than ``keep_days`` old (the
    audit log, notification deliveries), except those matching ``unless`` (deliveries still
    to be sent)."""

    def __init__(
        self, db: Database, *, name: str, table: str, key: str, time: str, keep_days: int, unless: str | None = None
    ) -> None:
        self.db = db
        self.name = name
        self.keep = keep_days * DAY
        kept = f" AND NOT ({unless})" if unless else ""
        self._where = f"FROM {table} WHERE {time} < :cutoff{kept}"
        self._delete = f"DELETE FROM {table} WHERE {key} IN ({{ids}}){kept}"
        self._key = key

    def pending(self, now: datetime) -> int:
        return int(self.db.scalar(f"SELECT COUNT(*) {self._where}", {"cutoff": now - self.keep}))

    def prune_batch(self, now: datetime, limit: int) -> Batch:
        rows = self.db.fetch_all(
            f"SELECT {self._key} AS k {self._where} LIMIT :limit", {"cutoff": now - self.keep, "limit": limit}
        )
        if not rows:
            return Batch(removed=0, done=True)
        placeholders, params = _id_list("k", [row["k"] for row in rows])
        with self.db.transaction():
            removed = self.db.execute(self._delete.format(ids=placeholders), params)
        return Batch(removed=removed, done=len(rows) < limit)


def jobs_with_runs_since_sql(*, sqlite: bool) -> str:
    """The jobs with executions created since ``:since`` (a later pass of the per-job limit).

    On SQLite ``DISTINCT job_id`` scans the whole (job_id, ...) index (3.7 s at 10,000,000 rows,
    once a minute on an idle daemon); ``GROUP BY +job_id`` hides the column from the planner,
    which then reads only the new rows' range of the created_at index (milliseconds). Postgres
    reads the range either way and has no unary plus on text (docs/scale-query-plans.md).
    """
    group = "+job_id" if sqlite else "job_id"
    return f"SELECT job_id FROM executions WHERE created_at >= :since GROUP BY {group}"
