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
from jobctl.store.retention import TablePruner, pruners_for

TARGET_BATCH_SECONDS = 0.015
"""What one batch should take: well under the 50 ms a write may hold the scheduler back."""
MIN_BATCH, FIRST_BATCH, MAX_BATCH = 10, 200, 5000


class BatchSizer:
    """Rows per batch: doubled while batches are quick, halved when one is slow."""

    def __init__(self) -> None:
        self.size = FIRST_BATCH

    def record(self, seconds: float) -> None:
        if seconds > TARGET_BATCH_SECONDS:
            self.size = max(MIN_BATCH, self.size // 2)
        elif seconds < TARGET_BATCH_SECONDS / 3:
            self.size = min(MAX_BATCH, self.size * 2)


@dataclass(kw_only=True)
class PruneReport:
    """Rows each pruner removed (or, for a dry run, would remove)."""

    removed: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    pages_released: int = 0
    """SQLite pages given back to the file system after the prune."""
    seconds: float = 0.0

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
        for pruner in pruners:
            report.removed[pruner.name] = _drain(pruner, now, sizer, pause, should_stop)
            if should_stop():
                break
        if report.total and store.db.is_sqlite:
            report.pages_released = release_free_pages(store.db, pause=pause, should_stop=should_stop)
    report.seconds = time.monotonic() - started
    return report


def _drain(
    pruner: TablePruner,
    now: datetime,
    sizer: BatchSizer,
    pause: Callable[[float], object] | None,
    should_stop: Callable[[], bool],
) -> int:
    removed = 0
    while not should_stop():
        began = time.monotonic()
        batch = pruner.prune_batch(now, sizer.size)
        took = time.monotonic() - began
        sizer.record(took)
        removed += batch.removed
        if batch.done:
            break
        if pause is not None:
            pause(took)
    return removed
