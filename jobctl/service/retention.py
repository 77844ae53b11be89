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
from datetime import datetime

from jobctl.models import RetentionPolicy
from jobctl.store import Store
from jobctl.store.maintenance import release_free_pages
from jobctl.store.retention import TablePruner, checkpoint, pruners_for, pruning_connection

TARGET_BATCH_SECONDS = 0.025
"""What one batch should take: well under the 50 ms a write may hold the scheduler back, and
long enough that a batch's fixed costs (the read, the commit) are spread over many rows."""
MIN_BATCH, FIRST_BATCH, MAX_BATCH = 10, 200, 5000
CHECKPOINT_EVERY = 10
"""Batches between two SQLite checkpoints in a prune that does not pause (``store prune``); one
that pauses (the leader's) checkpoints after every batch, so the scheduler's next commit never
has a pruner's pages to copy (docs/retention.md)."""


class BatchSizer:
    """Rows per batch, aimed at :data:`TARGET_BATCH_SECONDS`: scaled by how far the last batch
    was from it (at most halved or doubled at a time, so one stall does not shrink it to nothing)."""

    def __init__(self) -> None:
        self.size = FIRST_BATCH

    def record(self, seconds: float) -> None:
        scale = min(2.0, max(0.5, TARGET_BATCH_SECONDS / max(seconds, 1e-6)))
        self.size = min(MAX_BATCH, max(MIN_BATCH, int(self.size * scale)))


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
) -> PruneReport:
    """Remove what ``policy`` says has expired at ``now`` (``dry_run``: only count it).

    ``pause(seconds)`` is called between batches with the time the last batch took (the
    background pruner sleeps that long, so it never takes more than half the store's write
    time); ``should_stop()`` ends the prune early (shutdown, leadership lost). ``pruners`` may
    be given to keep their state across passes (see :class:`ExcessExecutions`).
    """
    started = time.monotonic()
    pruners = pruners if pruners is not None else pruners_for(store.db, policy)
    report = PruneReport(dry_run=dry_run)
    if dry_run:
        report.removed = {pruner.name: pruner.pending(now) for pruner in pruners}
    else:
        sizer = BatchSizer()
        with pruning_connection(store.db):
            for pruner in pruners:
                report.removed[pruner.name] = _drain(store, pruner, now, sizer, report, pause, should_stop)
                if should_stop():
                    break
        if report.total and store.db.is_sqlite:
            report.pages_released = release_free_pages(store.db, pause=pause, should_stop=should_stop)
    report.seconds = time.monotonic() - started
    return report


def _drain(
    store: Store,
    pruner: TablePruner,
    now: datetime,
    sizer: BatchSizer,
    report: PruneReport,
    pause: Callable[[float], object] | None,
    should_stop: Callable[[], bool],
) -> int:
    removed = batches = 0
    while not should_stop():
        began = time.monotonic()
        batch = pruner.prune_batch(now, sizer.size)
        took = time.monotonic() - began
        sizer.record(took)
        report.longest_batch = max(report.longest_batch, took)
        removed += batch.removed
        batches += 1
        if batch.done and pause is None:
            break
        if pause is not None or batches % CHECKPOINT_EVERY == 0:
            checkpoint(store.db)
        if pause is not None:
            # also after a table's last batch: what comes next (the next table's first batch,
            # giving back free pages) must not follow at once, without a pause or a gap
            pause(took)
        if batch.done:
            break
    return removed
