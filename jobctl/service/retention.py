"""Pruning history by the ``[history]`` settings: now (``jobctl store prune``) or continuously
(the leader's :class:`~jobctl.scheduler.pruner.BackgroundPruner`).

Both run the store's per-table pruners (:mod:`jobctl.store.retention`) batch by batch. The
batch size adapts so that one batch, read and transaction together, takes about
:data:`TARGET_BATCH_SECONDS`; between batches the caller may pause, which is what keeps a
backlog of millions of rows from delaying the scheduler (docs/retention.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from jobctl.errors import StoreError
from jobctl.models import RetentionPolicy
from jobctl.store import Store
from jobctl.store.maintenance import release_free_pages, rewrite_pays, rewrite_without_free_pages
from jobctl.store.retention import (
    PRUNE_LOG_BYTES,
    TablePruner,
    checkpoint,
    log_exceeds,
    pruners_for,
    pruning_connection,
)

TARGET_BATCH_SECONDS = 0.025
"""What one batch should take: well under the 50 ms a write may hold the scheduler back, and
long enough that a batch's fixed costs (the read, the commit) are spread over many rows."""
MIN_BATCH, FIRST_BATCH, MAX_BATCH = 10, 200, 5000
CHECKPOINT_EVERY = 10
"""Batches between two SQLite checkpoints in a prune that does not pause (``store prune``) while
a daemon leads on the same store (see :class:`PruneCheckpoints`)."""


class BatchSizer:
    """Rows per batch, aimed at :data:`TARGET_BATCH_SECONDS`: scaled by how far the last batch
    was from it (at most halved or doubled at a time, so one stall does not shrink it to nothing)."""

    def __init__(self) -> None:
        self.size = FIRST_BATCH

    def record(self, seconds: float) -> None:
        scale = min(2.0, max(0.5, TARGET_BATCH_SECONDS / max(seconds, 1e-6)))
        self.size = min(MAX_BATCH, max(MIN_BATCH, int(self.size * scale)))


class PruneCheckpoints:
    """When a prune copies SQLite's write-ahead log into the file (docs/retention.md).

    A prune that pauses (the leader's) does it after every batch, so the scheduler's next commit
    never has a pruner's pages to copy. One that does not (``jobctl store prune``) does it every
    :data:`CHECKPOINT_EVERY` batches while a daemon leads on the store, for the same reason (the
    daemon's commits would otherwise meet a long log and copy it themselves, holding its
    scheduler back); with no daemon leading, only when the log has grown past ``log_bytes``:
    each checkpoint writes every page it finds once, and most of a batch's pages are pages of
    the random-keyed b-trees that later batches rewrite, so letting them gather makes the prune
    about 1.6 times as fast. Whether a daemon leads is asked at each of those batches, so one
    started during the prune is noticed. Nothing on Postgres."""

    def __init__(self, store: Store, *, pauses: bool, log_bytes: int) -> None:
        self.store = store
        self.pauses = pauses
        self.log_bytes = log_bytes
        self.batches = 0
        self.done = 0

    def after_batch(self) -> None:
        """Called after every batch: checkpoint now if the rules above say so."""
        if not self.store.db.is_sqlite:
            return
        self.batches += 1
        every_few = self.batches % CHECKPOINT_EVERY == 0
        if self.pauses or (every_few and self.daemon_leads()) or log_exceeds(self.store.db, self.log_bytes):
            checkpoint(self.store.db)
            self.done += 1

    def daemon_leads(self) -> bool:
        """Whether a daemon leads on this store now (it would be writing beside the prune)."""
        return self.store.cluster.has_live_leader(datetime.now(UTC))


@dataclass(kw_only=True)
class PruneReport:
    """Rows each pruner removed (or, for a dry run, would remove)."""

    removed: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    pages_released: int = 0
    """SQLite pages given back to the file system after the prune."""
    seconds: float = 0.0
    longest_batch: float = 0.0
    """Seconds the longest batch took (its read and its transaction)."""
    checkpoints: int = 0
    """SQLite checkpoints run between batches."""
    rewritten: bool = False
    """The SQLite file was rewritten to give its free pages back (not released step by step)."""

    @property
    def total(self) -> int:
        return sum(self.removed.values())


def prune_store(
    store: Store,
    policy: RetentionPolicy,
    *,
    now: datetime,
    dry_run: bool = False,
    pause: Callable[[float], object] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    pruners: list[TablePruner] | None = None,
    log_bytes: int = PRUNE_LOG_BYTES,
) -> PruneReport:
    """Remove what ``policy`` says has expired at ``now`` (``dry_run``: only count it).

    ``pause(seconds)`` is called between batches with the time the last batch took (the
    background pruner sleeps that long, so it never takes more than half the store's write
    time); ``should_stop()`` ends the prune early (shutdown, leadership lost). ``pruners`` may
    be given to keep their state across passes (see :class:`ExcessExecutions`). ``log_bytes``:
    how far SQLite's log may grow between checkpoints in a prune that does not pause, when
    nothing else writes (see :class:`PruneCheckpoints`).
    """
    started = time.monotonic()
    pruners = pruners if pruners is not None else pruners_for(store.db, policy)
    report = PruneReport(dry_run=dry_run)
    if dry_run:
        report.removed = {pruner.name: pruner.pending(now) for pruner in pruners}
    else:
        sizer = BatchSizer()
        with pruning_connection(store.db, log_bytes=None if pause is not None else log_bytes):
            checkpoints = PruneCheckpoints(store, pauses=pause is not None, log_bytes=log_bytes)
            for pruner in pruners:
                report.removed[pruner.name] = _drain(pruner, now, sizer, checkpoints, report, pause, should_stop)
                if should_stop():
                    break
            report.checkpoints = checkpoints.done
        if report.total and store.db.is_sqlite:
            report.pages_released, report.rewritten = _give_back_free_pages(store, checkpoints, pause, should_stop)
    report.seconds = time.monotonic() - started
    return report


def _give_back_free_pages(
    store: Store,
    checkpoints: PruneCheckpoints,
    pause: Callable[[float], object] | None,
    should_stop: Callable[[], bool],
) -> tuple[int, bool]:
    """Free pages back to the file system after a SQLite prune: step by step, or, when nothing
    else writes and most of the file is free, by rewriting the file at once
    (:func:`~jobctl.store.maintenance.rewrite_pays`). A rewrite that cannot start (another
    process holds the write lock too long) falls back to the steps. The pages given back, and
    whether the file was rewritten."""
    if pause is None and not should_stop() and rewrite_pays(store.db) and not checkpoints.daemon_leads():
        try:
            return rewrite_without_free_pages(store.db), True
        except StoreError:
            pass
    return release_free_pages(store.db, pause=pause, should_stop=should_stop), False


def _drain(
    pruner: TablePruner,
    now: datetime,
    sizer: BatchSizer,
    checkpoints: PruneCheckpoints,
    report: PruneReport,
    pause: Callable[[float], object] | None,
    should_stop: Callable[[], bool],
) -> int:
    removed = 0
    while not should_stop():
        began = time.monotonic()
        batch = pruner.prune_batch(now, sizer.size)
        took = time.monotonic() - began
        sizer.record(took)
        report.longest_batch = max(report.longest_batch, took)
        removed += batch.removed
        if batch.done and pause is None:
            break
        checkpoints.after_batch()
        if pause is not None:
            # also after a table's last batch: what comes next (the next table's first batch,
            # giving back free pages) must not follow at once, without a pause or a gap
            pause(took)
        if batch.done:
            break
    return removed
