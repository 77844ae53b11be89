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

from jobctl.errors import StoreBusy, StoreDamaged, StoreError, StoreUnavailable
from jobctl.models import RetentionPolicy
from jobctl.store import Store
from jobctl.store.maintenance import (
    RELEASE_STEP_PAGES,
    free_pages,
    page_count,
    release_free_pages,
    rewrite_pays,
    vacuum,
)
from jobctl.store.retention import (
    COMMAND_PRUNE_CACHE_KIB,
    PRUNE_CACHE_KIB,
    PRUNE_LOG_BYTES,
    TablePruner,
    checkpoint,
    log_exceeds,
    pruners_for,
    pruning_connection,
)

TARGET_BATCH_SECONDS = 0.025
"""What one batch should take beside a scheduler (the leader's pruner, or ``jobctl store prune``
while a daemon leads): well under the 50 ms a write may hold the scheduler back, and long enough
that a batch's fixed costs (the read, the commit) are spread over many rows."""
ALONE_BATCH_SECONDS = 0.5
"""What one batch of ``jobctl store prune`` should take while no daemon leads on the store: no
scheduler waits behind it, and a longer transaction rewrites each page of the random-keyed
b-trees once for more rows (docs/retention.md); another command's write waits at most about
this long, far within SQLite's busy timeout."""
MIN_BATCH, FIRST_BATCH, MAX_BATCH = 10, 200, 20_000
"""Rows per batch. The most is below SQLite's limit of 32,766 bound values per statement (the
output and log pruners name their rows one placeholder each)."""
CHECKPOINT_EVERY = 10
"""Batches between two SQLite checkpoints in a prune that does not pause (``store prune``) while
a daemon leads on the same store (see :class:`PruneCheckpoints`)."""
RELEASE_STEP_SECONDS = 0.02
"""What one step of giving free pages back should take beside a scheduler (the leader's pruner,
or ``jobctl store prune`` while a daemon leads): like a batch, well under the 50 ms a write may
hold the scheduler back. A step is one transaction that holds the write lock throughout, and its
time per page varies from file to file and step to step (256 pages: under 1 ms to 80 ms,
:data:`~jobctl.store.maintenance.RELEASE_STEP_PAGES`), so the pages per step follow the time as
a batch's rows do, between :data:`RELEASE_STEP_RANGE`'s bounds."""
RELEASE_STEP_RANGE = (8, 64, 1024)
"""The fewest, first and most pages of a step sized by :data:`RELEASE_STEP_SECONDS`."""
RELEASE_PAUSE_SECONDS = 0.02
"""The least pause after a step of ``jobctl store prune`` beside a leading daemon (else as long
as the step took). The daemon's writes wait for the lock in SQLite's busy handler, which tries
again after 1, 2, 5, 10, 15, 20 and 25 ms: a pause as long as the step it waited behind holds
at least one of its tries. With no pause (the gap between two steps was a fraction of a
millisecond) the tries fell inside the steps, and the scheduler waited until the release of
the pages ended or its busy timeout did: slots missed, the lease lost."""
ASK_AGAIN_SECONDS = 0.25
"""How long a prune that does not pause goes at most before asking again whether a daemon leads
(also asked every :data:`CHECKPOINT_EVERY` batches): a daemon started during a prune of long
batches finds the batches short again within a second or two of leading."""


class BatchSizer:
    """Rows per batch, aimed at ``target`` seconds: scaled by how far the last batch was from it
    (at most halved or doubled at a time, so one stall does not shrink it to nothing)."""

    def __init__(
        self, target: float = TARGET_BATCH_SECONDS, *, first: int = FIRST_BATCH, least: int = MIN_BATCH,
        most: int = MAX_BATCH,
    ) -> None:  # fmt: skip
        self.least, self.most = least, most
        self.size = first
        self.target = target

    def aim(self, target: float) -> None:
        """Aim at another time per batch, scaling the size at once by the ratio of the two: a
        daemon that starts leading must not wait for the size to halve step by step."""
        if target != self.target:
            self.size = self._bounded(self.size * target / self.target)
            self.target = target

    def record(self, seconds: float) -> None:
        scale = min(2.0, max(0.5, self.target / max(seconds, 1e-6)))
        self.size = self._bounded(self.size * scale)

    def _bounded(self, size: float) -> int:
        return min(self.most, max(self.least, int(size)))


class LeaderWatch:
    """Whether a daemon leads on the store beside a prune that does not pause (it would be
    writing beside it), asked at the start, every :data:`CHECKPOINT_EVERY` batches and whenever
    :data:`ASK_AGAIN_SECONDS` have passed since the last answer. The answer sets how long a
    batch may be and how often SQLite's log is copied into the file."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.batches = 0
        self.ever_led = False
        """Whether any answer was yes: the prune ran, at least for a while, beside a daemon."""
        self.leads = self.ask_now()

    def after_batch(self) -> bool:
        self.batches += 1
        if self.batches % CHECKPOINT_EVERY == 0 or time.monotonic() - self._asked_at >= ASK_AGAIN_SECONDS:
            return self.ask_now()
        return self.leads

    def ask_now(self) -> bool:
        self._asked_at = time.monotonic()
        self.leads = self.store.cluster.has_live_leader(datetime.now(UTC))
        self.ever_led = self.ever_led or self.leads
        return self.leads


class PruneCheckpoints:
    """When a prune copies SQLite's write-ahead log into the file (docs/retention.md).

    A prune that pauses (the leader's) does it after every batch, so the scheduler's next commit
    never has a pruner's pages to copy. One that does not (``jobctl store prune``) does it every
    :data:`CHECKPOINT_EVERY` batches while a daemon leads on the store, for the same reason (the
    daemon's commits would otherwise meet a long log and copy it themselves, holding its
    scheduler back); with no daemon leading, only when the log has grown past ``log_bytes``:
    each checkpoint writes every page it finds once, and most of a batch's pages are pages of
    the random-keyed b-trees that later batches rewrite, so letting them gather makes the prune
    about 1.6 times as fast. Nothing on Postgres."""

    def __init__(self, store: Store, *, pauses: bool, log_bytes: int) -> None:
        self.store = store
        self.pauses = pauses
        self.log_bytes = log_bytes
        self.batches = 0
        self.done = 0

    def after_batch(self, *, daemon_leads: bool) -> None:
        """Called after every batch with what :class:`LeaderWatch` knows: checkpoint now if the
        rules above say so."""
        if not self.store.db.is_sqlite:
            return
        self.batches += 1
        every_few = self.batches % CHECKPOINT_EVERY == 0
        if self.pauses or (every_few and daemon_leads) or log_exceeds(self.store.db, self.log_bytes):
            checkpoint(self.store.db)
            self.done += 1


@dataclass(kw_only=True)
class PruneReport:
    """Rows each pruner removed (or, for a dry run, would remove)."""

    removed: dict[str, int] = field(default_factory=dict)
    """Every pruner's name, in the order they run, with its count (0 for one a stopped prune
    did not reach)."""
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
    daemon_led: bool | None = None
    """``jobctl store prune``: whether a daemon led on the store during the prune, which kept its
    batches short (None: a dry run or the leader's own pruner, which do not ask)."""

    @property
    def total(self) -> int:
        return sum(self.removed.values())


class PruneMetDamage(StoreDamaged):
    """A prune that SQLite told its file is damaged ("database disk image is malformed"): it
    stopped there, writing nothing more. ``report`` holds what the batches before removed (each
    committed whole; the batch that met the damage was rolled back)."""

    def __init__(self, damage: StoreDamaged, report: PruneReport) -> None:
        super().__init__(damage.message)
        self.report = report


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
    on_failure: Callable[[str, Exception], object] | None = None,
) -> PruneReport:
    """Remove what ``policy`` says has expired at ``now`` (``dry_run``: only count it).

    ``pause(seconds)`` is called between batches with the time the last batch took (the
    background pruner sleeps that long, so it never takes more than half the store's write
    time); ``should_stop()`` ends the prune early (shutdown, leadership lost). ``pruners`` may
    be given to keep their state across passes (see :class:`ExcessExecutions`). ``log_bytes``:
    how far SQLite's log may grow between checkpoints in a prune that does not pause, when
    nothing else writes (see :class:`PruneCheckpoints`).

    ``on_failure(name, error)``: when given (the leader's pruner), a pruner that fails is reported
    to it and the prune goes on with the next one (after a pause), so one kind of history that
    cannot be pruned does not keep the others from it. The store being unavailable
    (:class:`~jobctl.errors.StoreUnavailable`) still ends the prune: every pruner would fail
    alike. Without it (``jobctl store prune``), any error ends the prune.

    :raises PruneMetDamage: when SQLite says the file is damaged, in a batch or while free pages
        are given back: the prune ends at once, whoever runs it, and writes nothing more.
    """
    started = time.monotonic()
    report = PruneReport(dry_run=dry_run)
    try:
        _prune(store, policy, report, now=now, pause=pause, should_stop=should_stop, pruners=pruners,
               log_bytes=log_bytes, on_failure=on_failure)  # fmt: skip
    except StoreDamaged as exc:
        report.seconds = time.monotonic() - started
        raise PruneMetDamage(exc, report) from exc
    report.seconds = time.monotonic() - started
    return report


def _prune(
    store: Store,
    policy: RetentionPolicy,
    report: PruneReport,
    *,
    now: datetime,
    pause: Callable[[float], object] | None,
    should_stop: Callable[[], bool],
    pruners: list[TablePruner] | None,
    log_bytes: int,
    on_failure: Callable[[str, Exception], object] | None,
) -> None:
    """:func:`prune_store`'s work, counted in ``report`` as it goes."""
    pruners = pruners if pruners is not None else pruners_for(store.db, policy)
    dry_run = report.dry_run
    if dry_run:
        report.removed = {pruner.name: pruner.pending(now) for pruner in pruners}
    else:
        # Every kind from the start: a prune stopped early reports 0 for those it did not reach.
        report.removed = {pruner.name: 0 for pruner in pruners}
        pace = _PrunePace(store, pause=pause, log_bytes=log_bytes)
        leaders = pause is not None
        with pruning_connection(
            store.db,
            log_bytes=None if leaders else log_bytes,
            cache_kib=PRUNE_CACHE_KIB if leaders else COMMAND_PRUNE_CACHE_KIB,
        ):
            for pruner in pruners:
                try:
                    _drain(pruner, now, pace, report, should_stop)
                except (StoreUnavailable, StoreDamaged):  # every pruner would meet it; and writes must stop
                    raise
                except Exception as exc:
                    if on_failure is None:
                        raise
                    on_failure(pruner.name, exc)  # what it removed before is in report.removed
                    if pace.pause is not None:
                        pace.pause(0.0)  # the next pruner's first batch waits for a gap too
                if should_stop():
                    break
            report.checkpoints = pace.checkpoints.done
        if store.db.is_sqlite and (report.total or _pages_left_free(store, leaders=leaders)):
            report.pages_released, report.rewritten = _give_back_free_pages(store, pace, should_stop)
        report.daemon_led = pace.watch.ever_led if pace.watch else None  # the release asks too


class _PrunePace:
    """How a prune goes from batch to batch: the batch size and its aim, the checkpoints, the
    pause. The leader's pruner (``pause`` given) always aims at :data:`TARGET_BATCH_SECONDS`;
    ``jobctl store prune`` aims at :data:`ALONE_BATCH_SECONDS` while no daemon leads on the
    store and at :data:`TARGET_BATCH_SECONDS` while one does (:class:`LeaderWatch`)."""

    def __init__(self, store: Store, *, pause: Callable[[float], object] | None, log_bytes: int) -> None:
        self.pause = pause
        self.watch = LeaderWatch(store) if pause is None else None
        self.sizer = BatchSizer(self._target(self.watch.leads if self.watch else True))
        self.checkpoints = PruneCheckpoints(store, pauses=pause is not None, log_bytes=log_bytes)

    def after_batch(self, took: float) -> None:
        self.sizer.record(took)
        leads = self.watch.after_batch() if self.watch else True
        self.sizer.aim(self._target(leads))
        self.checkpoints.after_batch(daemon_leads=leads)

    def daemon_leads_now(self) -> bool:
        """Asked afresh (the leader's own pruner: always)."""
        return self.watch.ask_now() if self.watch else True

    @staticmethod
    def _target(daemon_leads: bool) -> float:
        return TARGET_BATCH_SECONDS if daemon_leads else ALONE_BATCH_SECONDS


LEFTOVER_FREE_PAGES = 1024
"""Free pages (4 MiB) that make the leader's pass give them back though it removed nothing."""


def _pages_left_free(store: Store, *, leaders: bool) -> bool:
    """Whether free pages that an earlier prune did not give back (its release was stopped, or
    could not get the write lock) should go now, in a pass that removed nothing: any at all for
    ``jobctl store prune``, at least :data:`LEFTOVER_FREE_PAGES` for the leader's pass (the few
    pages ordinary writes free come and go; releasing them every minute would only make the file
    grow again)."""
    return free_pages(store.db) >= (LEFTOVER_FREE_PAGES if leaders else 1)


def _give_back_free_pages(store: Store, pace: _PrunePace, should_stop: Callable[[], bool]) -> tuple[int, bool]:
    """Free pages back to the file system after a SQLite prune: step by step, or, when nothing
    else writes and most of the file is free, by rewriting the file at once
    (:func:`~jobctl.store.maintenance.rewrite_pays`). A rewrite that cannot start (another
    process holds the write lock too long) falls back to the steps; steps that cannot get the
    lock either leave the rest for later, without failing the prune. The pages given back, and
    whether the file was rewritten."""
    before = page_count(store.db)
    rewritten = False
    if not should_stop() and rewrite_pays(store.db) and not pace.daemon_leads_now():
        try:  # a stop (Ctrl-C) ends the rewrite at once, the file as it was and its pages still free
            rewritten = vacuum(store.db, should_stop=should_stop).rewritten
        except StoreDamaged:
            raise  # not one more write: releasing pages of a damaged file moves them about
        except StoreError:
            pass
    if not rewritten:
        steps = _ReleaseSteps(pace)
        try:
            release_free_pages(store.db, pause=steps.after_step, should_stop=should_stop, step_pages=steps.pages)
        except StoreBusy:
            # Another process kept the write lock past the busy timeout. The rows are gone
            # already; the pages still free are reused by later writes and given back by the next prune.
            pass
        # The steps shorten the store in the log; the file itself shrinks only when the log is
        # copied into it, which otherwise waits for some later commit to fill the log (hours on a
        # quiet daemon). Passive: it takes no lock, and a reader in the way only delays the rest.
        checkpoint(store.db)
    return before - page_count(store.db), rewritten


class _ReleaseSteps:
    """How the free pages go back after a prune. Beside a scheduler (the leader's pruner, or
    ``jobctl store prune`` while a daemon leads on the store, asked as between batches) each
    step aims at :data:`RELEASE_STEP_SECONDS` and is followed by a pause: the leader's own
    (as long as the step, then a gap in its scheduler's work), or the command's (as long as the
    step, at least :data:`RELEASE_PAUSE_SECONDS`), in which the daemon's scheduler gets the
    write lock. With no daemon leading, the command's steps of
    :data:`~jobctl.store.maintenance.RELEASE_STEP_PAGES` follow each other at once."""

    def __init__(self, pace: _PrunePace) -> None:
        self.pace = pace
        least, first, most = RELEASE_STEP_RANGE
        self.sizer = BatchSizer(RELEASE_STEP_SECONDS, first=first, least=least, most=most)
        self.beside = pace.daemon_leads_now()
        """Whether the step under way runs beside a scheduler."""

    def pages(self) -> int:
        return self.sizer.size if self.beside else RELEASE_STEP_PAGES

    def after_step(self, took: float) -> None:
        if self.beside:
            self.sizer.record(took)
        if self.pace.pause is not None:  # the leader's pruner
            self.pace.pause(took)
            return
        assert self.pace.watch is not None
        self.beside = self.pace.watch.after_batch()
        if self.beside:
            time.sleep(max(took, RELEASE_PAUSE_SECONDS))


def _drain(
    pruner: TablePruner, now: datetime, pace: _PrunePace, report: PruneReport, should_stop: Callable[[], bool]
) -> None:
    """Run ``pruner``'s batches until it is done; each batch's rows are counted in ``report`` as it ends."""
    while not should_stop():
        began = time.monotonic()
        batch = pruner.prune_batch(now, pace.sizer.size)
        took = time.monotonic() - began
        report.longest_batch = max(report.longest_batch, took)
        report.removed[pruner.name] += batch.removed
        if batch.done and pace.pause is None:
            break
        pace.after_batch(took)
        if pace.pause is not None:
            # also after a table's last batch: what comes next (the next table's first batch,
            # giving back free pages) must not follow at once, without a pause or a gap
            pace.pause(took)
        if batch.done:
            break
