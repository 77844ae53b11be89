"""Retention on real stores: what each pruner removes, what it never touches, dry runs, the
leader's background pruner, and the [history] settings."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobctl.config import HISTORY_RANGES, KEYS, load_config
from jobctl.errors import StoreError, StoreUnavailable, UsageError
from jobctl.models import MAX_KEEP_DAYS, MAX_KEEP_PER_JOB, Instance, RetentionPolicy
from jobctl.scheduler import pruner as pruner_module
from jobctl.scheduler.pruner import BackgroundPruner
from jobctl.service import Service, audit
from jobctl.service.retention import (
    ALONE_BATCH_SECONDS,
    ASK_AGAIN_SECONDS,
    CHECKPOINT_EVERY,
    FIRST_BATCH,
    LEFTOVER_FREE_PAGES,
    MAX_BATCH,
    TARGET_BATCH_SECONDS,
    BatchSizer,
    LeaderWatch,
    PruneCheckpoints,
    prune_store,
)
from jobctl.store import Store, database, open_store
from jobctl.store.database import SQLITE_WAL_LIMIT_BYTES
from jobctl.store.maintenance import rewrite_pays
from jobctl.store.retention import (
    COMMAND_PRUNE_CACHE_KIB,
    PRUNE_CACHE_KIB,
    Batch,
    ExcessExecutions,
    ExpiredExecutions,
    ExpiredOutput,
    jobs_with_runs_since_sql,
)
from tests.conftest import ADMIN, Cli
from tests.scheduler.helpers import FakeClock
from tests.store.helpers import NOW, add_executions, add_job, days, ids_of, output_rows

POLICY = RetentionPolicy(keep_days=90, keep_per_job=1000, output_keep_days=30)


def test_executions_past_keep_days_go_with_their_output_and_active_ones_stay(store: Store) -> None:
    job = add_job(store.db, "old")
    old = add_executions(store.db, job, days(91, 120, 400), output="old output\n")
    young = add_executions(store.db, job, days(1, 89))
    pending = add_executions(store.db, job, days(200), status="pending")
    running = add_executions(store.db, job, days(300), status="running")

    report = prune_store(store, POLICY, now=NOW)

    assert report.removed["expiredExecutions"] == len(old)
    assert ids_of(store) == set(young + pending + running)
    assert output_rows(store) == 0


def test_each_job_keeps_its_newest_keep_per_job_executions(store: Store) -> None:
    busy, quiet = add_job(store.db, "busy"), add_job(store.db, "quiet")
    busy_ids = add_executions(store.db, busy, [timedelta(hours=hour) for hour in range(1, 16)])  # newest first
    running = add_executions(store.db, busy, [timedelta(hours=30)], status="running")  # the oldest of all
    quiet_ids = add_executions(store.db, quiet, [timedelta(hours=hour) for hour in range(1, 6)])

    report = prune_store(store, RetentionPolicy(keep_per_job=10), now=NOW)

    assert report.removed["excessExecutions"] == 5
    assert ids_of(store, busy) == set(busy_ids[:10] + running)
    assert ids_of(store, quiet) == set(quiet_ids)


def test_excess_runs_left_while_active_go_at_the_next_pass_once_they_ended(store: Store) -> None:
    """The leader's later passes look only at jobs with new runs; a job whose excess was still
    running is looked at again too, though it got no new run (before, its runs stayed until the
    full sweep hours later, while a dry run counted them)."""
    job = add_job(store.db, "mix")
    running = add_executions(store.db, job, [timedelta(hours=hour) for hour in (10, 11, 12)], status="running")
    kept = add_executions(store.db, job, [timedelta(hours=hour) for hour in (1, 2, 3)])
    excess = ExcessExecutions(store.db, keep_per_job=3, keep_days=90)

    def one_pass(now: datetime) -> int:
        removed = 0
        while not (batch := excess.prune_batch(now, 100)).done:
            removed += batch.removed
        return removed + batch.removed

    assert one_pass(NOW) == 0
    assert one_pass(NOW + timedelta(minutes=1)) == 0, "still running: still kept"
    store.db.execute(
        "UPDATE executions SET status = 'failed', completed_at = :now WHERE job_id = :job AND status = 'running'",
        {"now": NOW, "job": job},
    )
    assert excess.pending(NOW) == 3
    assert one_pass(NOW + timedelta(minutes=2)) == 3
    assert ids_of(store, job) == set(kept)
    assert not set(running) & ids_of(store)
    assert one_pass(NOW + timedelta(minutes=3)) == 0


def test_output_goes_before_the_row_and_the_row_says_so(store: Store, service: Service) -> None:
    job = add_job(store.db, "chatty")
    [expired] = add_executions(store.db, job, days(31), output="x" * 5000)
    [silent] = add_executions(store.db, job, days(32))
    [recent] = add_executions(store.db, job, days(29), output="recent\n")
    [running] = add_executions(store.db, job, days(40), status="running", output="still going\n")

    report = prune_store(store, POLICY, now=NOW)

    assert report.removed["outputs"] == 1
    assert ids_of(store) == {expired, silent, recent, running}
    shown = {e: service.get_execution(e)["outputPruned"] for e in (expired, silent, recent, running)}
    assert shown == {expired: True, silent: False, recent: False, running: False}
    assert service.get_execution_log(expired)["data"] == ""
    assert service.get_execution_log(recent)["data"] == "recent\n"
    assert service.get_execution_log(running)["data"] == "still going\n"
    assert prune_store(store, POLICY, now=NOW).total == 0  # nothing is looked at twice


def test_a_dry_run_counts_exactly_what_a_prune_then_removes_and_changes_nothing(store: Store) -> None:
    job, other = add_job(store.db, "a"), add_job(store.db, "b")
    add_executions(store.db, job, days(100, 95, 91), output="o")
    add_executions(store.db, job, [timedelta(days=40 + n / 10) for n in range(12)], output="o")
    add_executions(store.db, other, days(35, 5), output="o")
    policy = RetentionPolicy(keep_per_job=10, keep_days=90, output_keep_days=30)
    before = (ids_of(store), output_rows(store))

    dry = prune_store(store, policy, now=NOW, dry_run=True)

    assert (ids_of(store), output_rows(store)) == before
    assert dry.removed == {"expiredExecutions": 3, "excessExecutions": 2, "outputs": 11,
                           "auditEntries": 0, "deliveries": 0}  # fmt: skip
    assert prune_store(store, policy, now=NOW).removed == dry.removed


def test_a_prune_stopped_early_names_every_kind_of_history(store: Store) -> None:
    """A prune stopped after its first batch (Ctrl-C) reports 0 for the kinds it did not reach,
    not nothing: a script reading ``removed["outputs"]`` must not fail on an interrupted prune."""
    job = add_job(store.db, "j")
    add_executions(store.db, job, [timedelta(days=100, seconds=n) for n in range(500)])
    batches: list[int] = []
    policy = RetentionPolicy(keep_days=90, keep_per_job=1000, output_keep_days=30)

    def after_one_batch() -> bool:
        batches.append(1)
        return len(batches) > 1

    report = prune_store(store, policy, now=NOW, should_stop=after_one_batch)

    assert 0 < report.removed["expiredExecutions"] < 500, report
    assert report.removed == {"expiredExecutions": report.removed["expiredExecutions"], "excessExecutions": 0,
                              "outputs": 0, "auditEntries": 0, "deliveries": 0}  # fmt: skip
    assert list(report.removed) == list(prune_store(store, policy, now=NOW, dry_run=True).removed)


def test_batches_stay_small_while_a_backlog_is_pruned(store: Store) -> None:
    """Many batches, none of them long: each transaction holds the store for milliseconds."""
    job = add_job(store.db, "backlog")
    add_executions(store.db, job, [timedelta(days=100, seconds=n) for n in range(6000)], output="out\n")
    pauses: list[float] = []

    report = prune_store(store, POLICY, now=NOW, pause=pauses.append)

    assert report.removed["expiredExecutions"] == 6000 and ids_of(store) == set()
    assert len(pauses) >= 3
    assert sorted(pauses)[len(pauses) // 2] < 0.05, pauses  # the median: a loaded machine stretches a few


def test_a_pass_goes_on_from_the_last_batch_and_the_next_pass_starts_from_the_oldest(store: Store) -> None:
    """Batches walk forward from where the previous one stopped (Postgres keeps the index entries
    of deleted rows until vacuum); rows older than that point, left by a pass, are found by the next."""
    job = add_job(store.db, "cursor")
    add_executions(store.db, job, days(95, 96, 97, 98, 99, 100))
    pruner = ExpiredExecutions(store.db, keep_days=90)
    assert pruner.prune_batch(NOW, 4) == Batch(removed=4, done=False)
    late = add_executions(store.db, job, days(300))  # older than where the pass is

    assert pruner.prune_batch(NOW, 4) == Batch(removed=2, done=True)
    assert ids_of(store) == set(late)
    assert pruner.prune_batch(NOW, 4) == Batch(removed=1, done=True) and ids_of(store) == set()


def test_a_postgres_batch_whose_rows_another_pruner_took_first_does_not_end_the_pass(pg_url: str) -> None:
    """`jobctl store prune` beside the leader's pruner: rows of a batch that the other deleted
    first (its transaction held them, then committed) are skipped by this batch's DELETE. The
    batch still chose a full batch, so the pass goes on instead of ending with rows left."""
    store, other = open_store(pg_url), open_store(pg_url)
    try:
        job = add_job(store.db, "raced")
        oldest_first = list(reversed(add_executions(store.db, job, days(95, 96, 97, 98, 99, 100))))
        pruner = ExpiredExecutions(store.db, keep_days=90)
        result: list[Batch | BaseException] = []

        def prune_a_batch() -> None:
            try:
                result.append(pruner.prune_batch(NOW, 4))
            except BaseException as exc:  # shown by the assertion below
                result.append(exc)

        with other.db.transaction():
            taken = {"a": oldest_first[0], "b": oldest_first[1]}
            assert other.db.execute("DELETE FROM executions WHERE id IN (:a, :b)", taken) == 2
            racing = threading.Thread(target=prune_a_batch)
            racing.start()
            deadline = time.monotonic() + 4  # within the store's lock_timeout (5 s)
            waiting = (
                "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%WITH doomed%'"
            )
            while other.db.scalar("SELECT pg_stat_clear_snapshot()") or not other.db.scalar(waiting):
                # (a transaction reads pg_stat_activity once unless told to read it again)
                assert racing.is_alive(), result
                assert time.monotonic() < deadline, "the batch never waited for the other pruner's rows"
                time.sleep(0.02)
        racing.join(20)

        assert result == [Batch(removed=2, done=False)]
        assert pruner.prune_batch(NOW, 4) == Batch(removed=2, done=True)
        assert ids_of(store) == set()
    finally:
        other.close()
        store.close()


def test_two_pruners_that_chose_the_same_run_leave_it_saying_its_output_was_pruned(store_url: str) -> None:
    """`jobctl store prune` beside the leader's pruner: both chose the same run, outside their
    transactions, and the second to write found its output gone. Before, that one wrote
    ``output_pruned = false`` over the first one's true (SQLite: the run then said its output
    was never pruned), or counted the run a second time (Postgres)."""
    stores = [open_store(store_url) for _ in range(3)]
    first, second, holder = stores
    try:
        job = add_job(first.db, "raced")
        [run] = add_executions(first.db, job, days(40), output="old output\n")
        results: list[Batch | BaseException] = []

        def prune_a_batch(store: Store) -> None:
            try:
                results.append(ExpiredOutput(store.db, POLICY).prune_batch(NOW, 10))
            except BaseException as exc:  # shown by the assertion below
                results.append(exc)

        racers = [threading.Thread(target=prune_a_batch, args=(store,)) for store in (first, second)]
        with holder.db.transaction():  # both choose the run, then wait to write
            if not holder.db.is_sqlite:
                holder.db.execute("LOCK TABLE executions IN EXCLUSIVE MODE")
            for racer in racers:
                racer.start()
            time.sleep(1.0)  # well within SQLite's busy timeout and Postgres's lock_timeout
            assert all(racer.is_alive() for racer in racers), results
        for racer in racers:
            racer.join(20)

        assert sorted(results, key=lambda batch: getattr(batch, "removed", -1)) == [
            Batch(removed=0, done=True), Batch(removed=1, done=True),
        ], results  # fmt: skip
        assert output_rows(first) == 0
        assert Service(first, ADMIN, default_timezone="UTC").get_execution(run)["outputPruned"] is True
    finally:
        for store in stores:
            store.close()


def test_a_prune_gives_the_connection_its_settings_back(sqlite_url: str) -> None:
    """The pruning connection's bigger cache, its memory map and its own checkpoints last only as
    long as the prune."""
    store = open_store(sqlite_url)
    try:
        add_executions(store.db, add_job(store.db, "j"), days(100, 101, 102))
        pragmas = ("cache_size", "wal_autocheckpoint", "temp_store", "mmap_size", "journal_size_limit")

        def settings() -> list[object]:
            return [store.db.scalar(f"PRAGMA {name}") for name in pragmas]

        before = settings()

        report = prune_store(store, POLICY, now=NOW)

        assert report.removed["expiredExecutions"] == 3 and 0 < report.longest_batch < 5
        assert settings() == before
    finally:
        store.close()


def wal_bytes(url: str) -> int:
    path = Path(url.removeprefix("sqlite:///") + "-wal")
    return path.stat().st_size if path.exists() else 0


def _kept_and_a_backlog_with_output(store: Store) -> list[str]:
    """A job with 50 runs to keep (1-50 days old) and 3,000 expired ones (100-3,099 days old)
    with 3 KB of output each: enough freed pages for a prune to give back. The kept runs' ids."""
    job = add_job(store.db, "j")
    kept = add_executions(store.db, job, days(*range(1, 51)), output="kept\n")
    add_executions(store.db, job, days(*range(100, 3100)), output="z" * 3000 + "\n")
    return kept


def start_leading(store: Store) -> None:
    now = datetime.now(UTC)
    instance = Instance(id=str(uuid.uuid4()), hostname="h", pid=os.getpid(), version="1",
                        started_at=now, last_heartbeat=now, stopped_at=None)  # fmt: skip
    store.cluster.register_instance(instance)
    assert store.cluster.acquire_or_renew_lease(instance.id, timedelta(seconds=60)) is not None


def test_a_prune_beside_no_daemon_checkpoints_only_when_the_log_is_long(sqlite_url: str) -> None:
    """With no daemon leading, ``store prune`` lets SQLite's log gather a batch's rewritten pages
    until it passes its limit; while a daemon leads, it checkpoints every few batches."""
    store = open_store(sqlite_url)
    try:
        add_executions(store.db, add_job(store.db, "j"), days(*range(100, 400)), output="x" * 2000 + "\n")
        assert wal_bytes(sqlite_url) > 4096  # the rows just written are still in the log

        alone = PruneCheckpoints(store, pauses=False, log_bytes=1 << 30)
        for _ in range(3 * CHECKPOINT_EVERY):
            alone.after_batch(daemon_leads=False)
        assert alone.done == 0

        long_log = PruneCheckpoints(store, pauses=False, log_bytes=4096)
        long_log.after_batch(daemon_leads=False)
        assert long_log.done == 1

        beside_a_leader = PruneCheckpoints(store, pauses=False, log_bytes=1 << 30)
        for _ in range(3 * CHECKPOINT_EVERY):
            beside_a_leader.after_batch(daemon_leads=True)
        assert beside_a_leader.done == 3

        leaders_own = PruneCheckpoints(store, pauses=True, log_bytes=1 << 30)
        for _ in range(5):
            leaders_own.after_batch(daemon_leads=True)
        assert leaders_own.done == 5
    finally:
        store.close()


def test_a_daemon_that_starts_during_a_prune_is_noticed_within_a_few_batches_or_a_moment(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    try:
        by_batches = LeaderWatch(store)
        by_time = LeaderWatch(store)
        assert not by_batches.leads and not by_batches.after_batch()
        start_leading(store)
        assert LeaderWatch(store).leads  # asked at the start
        answers = [by_batches.after_batch() for _ in range(CHECKPOINT_EVERY - 1)]
        assert answers[-1] is True  # the tenth batch asks, however quick the batches were
        time.sleep(ASK_AGAIN_SECONDS)
        assert by_time.after_batch() is True  # one batch, but long enough since the last answer
    finally:
        store.close()


def test_the_batch_size_follows_its_aim_and_a_new_aim_at_once() -> None:
    sizer = BatchSizer(ALONE_BATCH_SECONDS)
    assert sizer.size == FIRST_BATCH
    sizer.record(ALONE_BATCH_SECONDS / 10)  # ten times too quick: doubled, not more
    assert sizer.size == 2 * FIRST_BATCH
    sizer.record(ALONE_BATCH_SECONDS * 4)  # four times too slow: halved, not less
    assert sizer.size == FIRST_BATCH
    sizer.size = 8000
    sizer.aim(TARGET_BATCH_SECONDS)  # a daemon leads now: 20 times shorter at once
    assert sizer.size == 400 and sizer.target == TARGET_BATCH_SECONDS
    for _ in range(30):
        sizer.record(1e-4)
    assert sizer.size == MAX_BATCH  # bounded, whatever the aim


class SlowPruner:
    """The real pruner of expired executions, with every batch 30 ms longer: what the batch
    sizes do then does not depend on how fast this machine deletes."""

    def __init__(self, store: Store) -> None:
        self.inner = ExpiredExecutions(store.db, keep_days=POLICY.keep_days)
        self.name = self.inner.name
        self.sizes: list[int] = []
        self.caches: set[int] = set()

    def pending(self, now: datetime) -> int:
        return self.inner.pending(now)

    def prune_batch(self, now: datetime, limit: int) -> Batch:
        self.sizes.append(limit)
        if self.inner.db.is_sqlite:
            self.caches.add(int(self.inner.db.scalar("PRAGMA cache_size")))
        time.sleep(0.03)
        return self.inner.prune_batch(now, limit)


def test_store_prune_makes_long_batches_only_while_no_daemon_leads(tmp_path: Path) -> None:
    """Alone, the batches of ``store prune`` grow far past what 25 ms allows; beside a leading
    daemon they stay at that size. Everything expired goes either way."""
    for leading in (False, True):
        store = open_store(f"sqlite:///{tmp_path}/{'led' if leading else 'alone'}.db")
        try:
            add_executions(store.db, add_job(store.db, "j"), [timedelta(days=100, seconds=n) for n in range(6000)])
            if leading:
                start_leading(store)
            slow = SlowPruner(store)

            report = prune_store(store, POLICY, now=NOW, pruners=[slow])

            assert report.removed == {"expiredExecutions": 6000} and ids_of(store) == set()
            assert report.daemon_led is leading  # what `store prune` tells the operator
            if leading:
                assert max(slow.sizes) <= FIRST_BATCH, slow.sizes
            else:
                assert slow.sizes[:4] == [FIRST_BATCH, 2 * FIRST_BATCH, 4 * FIRST_BATCH, 8 * FIRST_BATCH], slow.sizes
            assert slow.caches == {-COMMAND_PRUNE_CACHE_KIB}  # KiB: a negative cache_size
        finally:
            store.close()


def test_the_leaders_pruner_keeps_short_batches_and_the_smaller_cache(store: Store) -> None:
    add_executions(store.db, add_job(store.db, "j"), [timedelta(days=100, seconds=n) for n in range(1500)])
    slow = SlowPruner(store)

    report = prune_store(store, POLICY, now=NOW, pause=lambda seconds: None, pruners=[slow])

    assert report.removed == {"expiredExecutions": 1500} and ids_of(store) == set()
    assert max(slow.sizes) <= FIRST_BATCH, slow.sizes
    assert slow.caches == ({-PRUNE_CACHE_KIB} if store.db.is_sqlite else set())


def test_a_long_log_is_cut_back_after_the_prune(sqlite_url: str) -> None:
    """The log grown during a prune (here past a limit of 1 MiB, so it is copied into the file
    several times) goes back to the store's usual size, and everything expired went."""
    store = open_store(sqlite_url)
    try:
        for n in range(40):
            add_executions(store.db, add_job(store.db, f"j{n}"), days(*range(100, 200)), output="y" * 3000 + "\n")
        report = prune_store(store, POLICY, now=NOW, log_bytes=1 << 20)
        assert report.removed["expiredExecutions"] == 4000 and ids_of(store) == set()
        assert report.checkpoints >= 1
        assert wal_bytes(sqlite_url) <= SQLITE_WAL_LIMIT_BYTES
        assert store.db.scalar("PRAGMA integrity_check") == "ok"
    finally:
        store.close()


def test_a_prune_rewrites_a_mostly_free_file_only_when_no_daemon_leads(tmp_path: Path) -> None:
    """Freed pages go back by a rewrite when nothing else writes and little is left, step by
    step while a daemon leads; the file shrinks either way and nothing left is lost."""
    for leading in (False, True):
        url = f"sqlite:///{tmp_path}/{'led' if leading else 'alone'}.db"
        store = open_store(url)
        try:
            kept = _kept_and_a_backlog_with_output(store)
            if leading:
                start_leading(store)
            store.db.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")
            before = int(store.db.scalar("PRAGMA page_count"))

            report = prune_store(store, POLICY, now=NOW)

            assert report.removed["expiredExecutions"] == 3000 and ids_of(store) == set(kept)
            assert report.rewritten is not leading
            after = int(store.db.scalar("PRAGMA page_count"))
            assert after < before / 4 and abs(report.pages_released - (before - after)) < 20
            assert int(store.db.scalar("PRAGMA freelist_count")) == 0
            assert int(store.db.scalar("PRAGMA auto_vacuum")) == 2
            assert store.db.scalar("PRAGMA integrity_check") == "ok"
        finally:
            store.close()


class LockAfterLastBatch:
    """The real pruner of expired executions; after its last batch another connection takes the
    write lock and keeps it for ``hold`` seconds (another process writing while the prune ends)."""

    def __init__(self, store: Store, path: str, hold: float) -> None:
        self.inner = ExpiredExecutions(store.db, keep_days=POLICY.keep_days)
        self.name = self.inner.name
        self.path, self.hold = path, hold
        self.holder: threading.Thread | None = None

    def pending(self, now: datetime) -> int:
        return self.inner.pending(now)

    def prune_batch(self, now: datetime, limit: int) -> Batch:
        batch = self.inner.prune_batch(now, limit)
        if batch.done:
            locked = threading.Event()
            self.holder = threading.Thread(target=self._hold_the_lock, args=(locked,))
            self.holder.start()
            assert locked.wait(5)
        return batch

    def _hold_the_lock(self, locked: threading.Event) -> None:
        other = sqlite3.connect(self.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(self.hold)
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.parametrize("hold", [1.5, 4.0], ids=["free-again-for-the-steps", "busy-throughout"])
def test_a_rewrite_that_cannot_get_the_lock_falls_back_to_releasing_the_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hold: float
) -> None:
    """Another writer holds the lock past the busy timeout (1 s here) when the rewrite would
    start: the rewrite gives up and the pages are released step by step once the lock is free.
    If it is still not free then, the prune ends all the same with its rows removed, and the
    pages stay free for later. Nothing kept is lost either way."""
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 1000)
    path = tmp_path / "locked.db"
    store = open_store(f"sqlite:///{path}")
    try:
        kept = _kept_and_a_backlog_with_output(store)
        store.db.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")
        before = int(store.db.scalar("PRAGMA page_count"))
        pruner = LockAfterLastBatch(store, str(path), hold=hold)

        report = prune_store(store, POLICY, now=NOW, pruners=[pruner])

        assert pruner.holder is not None
        pruner.holder.join()
        assert report.removed == {"expiredExecutions": 3000} and ids_of(store) == set(kept)
        assert report.rewritten is False
        if hold < 3:  # the rewrite gave up at 1 s, the steps waited until the lock was free at 1.5 s
            assert report.pages_released > before * 3 / 4
            assert int(store.db.scalar("PRAGMA freelist_count")) == 0
        else:  # the steps gave up at 2 s too
            assert report.pages_released == 0 and int(store.db.scalar("PRAGMA freelist_count")) > before * 3 / 4
        assert store.db.scalar("PRAGMA integrity_check") == "ok"
    finally:
        store.close()


@pytest.mark.parametrize("leaders", [False, True], ids=["store prune", "leader's pass"])
def test_pages_an_earlier_prune_left_free_go_back_in_a_prune_that_removes_nothing(
    sqlite_url: str, leaders: bool
) -> None:
    """A prune whose release of free pages was stopped or could not get the lock leaves them
    free; the next prune gives them back even when it has no rows to remove: ``store prune``
    any at all, the leader's pass from LEFTOVER_FREE_PAGES on (a few come and go with writes)."""
    store = open_store(sqlite_url)
    pause = (lambda seconds: None) if leaders else None
    try:
        job = add_job(store.db, "j")
        hours = [timedelta(hours=n) for n in range(1, 301)]  # none past the policy's limits
        kept = add_executions(store.db, job, hours, output="w" * 20_000 + "\n")
        store.db.execute("DELETE FROM execution_output WHERE execution_id = :id", {"id": kept[0]})
        few = int(store.db.scalar("PRAGMA freelist_count"))
        assert 0 < few < LEFTOVER_FREE_PAGES

        report = prune_store(store, POLICY, now=NOW, pause=pause)

        assert report.total == 0
        if leaders:
            assert report.pages_released == 0 and int(store.db.scalar("PRAGMA freelist_count")) == few
        else:
            assert report.pages_released == few and int(store.db.scalar("PRAGMA freelist_count")) == 0

        store.db.execute("DELETE FROM execution_output")  # what a stopped prune leaves: many free pages
        assert int(store.db.scalar("PRAGMA freelist_count")) >= LEFTOVER_FREE_PAGES
        report = prune_store(store, POLICY, now=NOW, pause=pause)
        assert report.total == 0 and report.pages_released >= LEFTOVER_FREE_PAGES
        assert int(store.db.scalar("PRAGMA freelist_count")) == 0
        assert ids_of(store) == set(kept) and store.db.scalar("PRAGMA integrity_check") == "ok"
    finally:
        store.close()


@pytest.mark.parametrize("leaders", [False, True], ids=["store prune beside a daemon", "leader's pass"])
def test_the_file_itself_shrinks_when_pages_are_released_step_by_step(tmp_path: Path, leaders: bool) -> None:
    """Released pages leave the file only when SQLite's log is copied into it. Before, nothing
    did so after the last step: ``PRAGMA page_count`` was small at once, but the file kept its
    size until some later commit filled the log (hours on a quiet daemon), and ``store info``
    showed the store bigger than before the prune (the file plus a full log)."""
    path = tmp_path / "steps.db"
    store = open_store(f"sqlite:///{path}")
    try:
        kept = _kept_and_a_backlog_with_output(store)
        if not leaders:
            start_leading(store)  # beside a daemon, store prune too releases the pages step by step
        store.db.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")
        before = path.stat().st_size

        report = prune_store(store, POLICY, now=NOW, pause=(lambda _: None) if leaders else None)

        assert report.removed["expiredExecutions"] == 3000 and ids_of(store) == set(kept)
        assert report.rewritten is False and report.pages_released > 0
        assert path.stat().st_size < before / 4, (before, path.stat().st_size)
        assert path.stat().st_size + wal_bytes(f"sqlite:///{path}") < before / 2
        assert store.db.scalar("PRAGMA integrity_check") == "ok"
    finally:
        store.close()


def test_a_rewrite_pays_only_when_most_of_the_file_is_free_and_little_is_left(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    try:
        job = add_job(store.db, "j")
        add_executions(store.db, job, days(*range(1, 301)), output="w" * 3000 + "\n")
        assert not rewrite_pays(store.db)  # nothing free
        store.db.execute("DELETE FROM execution_output WHERE execution_id IN (SELECT id FROM executions LIMIT 100)")
        assert not rewrite_pays(store.db)  # a third free
        store.db.execute("DELETE FROM execution_output")
        assert rewrite_pays(store.db)
        assert not rewrite_pays(store.db, live_limit=4096)  # what is left is more than the limit
    finally:
        store.close()


def test_the_background_pruner_prunes_only_while_it_leads(store: Store) -> None:
    job = add_job(store.db, "j")
    add_executions(store.db, job, days(100, 200))
    leading = threading.Event()
    pruner = BackgroundPruner(
        store, policy=lambda: POLICY, is_leader=leading.is_set, interval_seconds=0.05, clock=FakeClock(NOW)
    )
    stop = threading.Event()
    thread = threading.Thread(target=pruner.run, args=(stop,))
    thread.start()
    try:
        threading.Event().wait(0.3)
        assert len(ids_of(store)) == 2  # a standby prunes nothing
        leading.set()
        deadline = threading.Event()
        for _ in range(100):
            if not ids_of(store):
                break
            deadline.wait(0.05)
        assert ids_of(store) == set()
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def _run_pruner(pruner: BackgroundPruner) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=pruner.run, args=(stop,))
    thread.start()
    return stop, thread


def _wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    pause = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        pause.wait(0.05)
    return condition()


def test_the_background_pruner_starts_batches_only_in_the_schedulers_gaps(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pruner_module, "MAX_DEFER_SECONDS", 60.0)
    add_executions(store.db, add_job(store.db, "j"), days(100, 200, 300))
    gap = {"seconds": 0.0}
    asked = threading.Event()

    def quiet_for() -> float:
        asked.set()
        return gap["seconds"]

    pruner = BackgroundPruner(
        store, policy=lambda: POLICY, is_leader=lambda: True, interval_seconds=0.05, clock=FakeClock(NOW),
        quiet_for=quiet_for,
    )  # fmt: skip
    stop, thread = _run_pruner(pruner)
    try:
        assert asked.wait(5), "the pruner asks the scheduler before its first batch"
        threading.Event().wait(0.5)
        assert len(ids_of(store)) == 3, "no batch while a slot is due within the needed gap"
        gap["seconds"] = pruner_module.QUIET_NEEDED_SECONDS / 2
        threading.Event().wait(0.3)
        assert len(ids_of(store)) == 3, "a gap shorter than a batch needs is not taken"
        gap["seconds"] = 5.0
        assert _wait_until(lambda: not ids_of(store), 5), "pruned once the scheduler is quiet"
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive(), "stopping ends a wait for a gap at once"


def test_a_scheduler_that_is_never_quiet_still_gets_its_history_pruned(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pruner_module, "MAX_DEFER_SECONDS", 0.2)
    add_executions(store.db, add_job(store.db, "j"), days(100, 200))
    pruner = BackgroundPruner(
        store, policy=lambda: POLICY, is_leader=lambda: True, interval_seconds=0.05, clock=FakeClock(NOW),
        quiet_for=lambda: 0.0,
    )  # fmt: skip
    stop, thread = _run_pruner(pruner)
    try:
        assert _wait_until(lambda: not ids_of(store), 5), "after the longest wait a batch goes anyway"
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_next_table_of_a_pass_also_waits_for_a_gap(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A gap lets one batch through. When that batch finishes a table (the expired executions),
    the first batch of the next table (the audit log here) waits for a gap of its own too."""
    monkeypatch.setattr(pruner_module, "MAX_DEFER_SECONDS", 60.0)
    add_executions(store.db, add_job(store.db, "j"), days(100, 200))
    audit.record(store, actor="t", action="job.created", target_type="job", at=NOW - timedelta(days=400))
    gaps = {"left": 1}
    lock = threading.Lock()

    def quiet_for() -> float:
        with lock:
            if gaps["left"] > 0:
                gaps["left"] -= 1
                return 5.0
            return 0.0

    def audit_entries() -> int:
        return int(store.db.scalar("SELECT COUNT(*) FROM audit_log"))

    pruner = BackgroundPruner(
        store, policy=lambda: POLICY, is_leader=lambda: True, interval_seconds=0.05, clock=FakeClock(NOW),
        quiet_for=quiet_for,
    )  # fmt: skip
    stop, thread = _run_pruner(pruner)
    try:
        assert _wait_until(lambda: not ids_of(store), 5), "the one gap's batch"
        threading.Event().wait(0.5)
        assert audit_entries() == 1, "the audit log's first batch went without a gap"
        with lock:
            gaps["left"] = 100
        assert _wait_until(lambda: audit_entries() == 0, 5), "pruned in the next gaps"
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def _history_of_every_kind(store: Store) -> dict[str, list[str]]:
    """Something for each pruner of a pass to remove under POLICY, and runs it keeps."""
    job = add_job(store.db, "j")
    expired = add_executions(store.db, job, days(100, 200), output="old\n")
    output_due = add_executions(store.db, job, days(40, 50), output="output past output_keep_days\n")
    fresh = add_executions(store.db, job, days(1), output="fresh\n")
    audit.record(store, actor="t", action="job.created", target_type="job", at=NOW - timedelta(days=400))
    store.db.execute(
        """
        INSERT INTO notification_deliveries (id, dedupe_key, event, notifier, status, payload, created_at,
            next_attempt_at) VALUES ('d', 'k', 'failure', 'ops', 'sent', '{}', :at, :at)
        """,
        {"at": NOW - timedelta(days=100)},
    )  # fmt: skip
    return {"expired": expired, "output_due": output_due, "fresh": fresh}


def _outputs_left(store: Store, ids: list[str]) -> int:
    return sum(
        int(store.db.scalar("SELECT COUNT(*) FROM execution_output WHERE execution_id = :id", {"id": one}))
        for one in ids
    )


def _fail_the_output_pruner(monkeypatch: pytest.MonkeyPatch, error: Exception) -> list[int]:
    calls: list[int] = []

    def failing(self: ExpiredOutput, now: datetime, limit: int) -> Batch:
        calls.append(limit)
        with self.db.transaction():  # fails half-way through its transaction, which is rolled back
            self.db.execute("UPDATE executions SET output_pruned = :yes", {"yes": True})
            raise error

    monkeypatch.setattr(ExpiredOutput, "prune_batch", failing)
    return calls


@pytest.mark.parametrize(
    ("error", "level", "traceback"),
    [
        (OverflowError("date value out of range"), logging.ERROR, True),
        (StoreError("store sqlite:///x: a value the store refuses"), logging.WARNING, False),
    ],
    ids=["unexpected", "store-refuses-a-statement"],
)
def test_one_kind_of_history_failing_does_not_keep_the_leaders_pass_from_the_others(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
    level: int,
    traceback: bool,
) -> None:
    """The output pruner fails in the middle of the pass: the audit log and the deliveries, which
    come after it, are pruned all the same; the output is pruned at the next pass."""
    rows = _history_of_every_kind(store)
    calls = _fail_the_output_pruner(monkeypatch, error)
    pruner = BackgroundPruner(store, policy=lambda: POLICY, is_leader=lambda: True, clock=FakeClock(NOW))
    stop = threading.Event()

    with caplog.at_level(logging.INFO, logger="jobctl.scheduler.pruner"):
        removed = pruner.prune_once(stop)

    assert calls, "the output pruner ran, and failed"
    assert removed == 2 + 1 + 1  # the expired runs, the audit entry, the delivery
    assert ids_of(store) == {*rows["output_due"], *rows["fresh"]}
    assert store.db.scalar("SELECT COUNT(*) FROM audit_log") == 0
    assert store.db.scalar("SELECT COUNT(*) FROM notification_deliveries") == 0
    assert _outputs_left(store, rows["output_due"]) == 2, "the failed kind is left for the next pass"
    assert store.db.scalar("SELECT COUNT(*) FROM executions WHERE output_pruned IS NOT NULL") == 0, "rolled back"
    failures = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(failures) == 1, caplog.text
    assert failures[0].levelno == level and failures[0].getMessage().startswith("pruning history (outputs) failed")
    assert "the rest of the pass goes on" in failures[0].getMessage()
    assert (failures[0].exc_info is not None) == traceback
    assert "pruned 4 rows of history" in caplog.text
    kept = {pruner.name: pruner for pruner in pruner._pruners or []}

    monkeypatch.undo()
    assert pruner.prune_once(stop) == 2
    assert _outputs_left(store, rows["output_due"]) == 0 and _outputs_left(store, rows["fresh"]) == 1
    again = {pruner.name: pruner for pruner in pruner._pruners or []}
    assert again["outputs"] is not kept["outputs"], "the failed pruner starts afresh"
    assert again["excessExecutions"] is kept["excessExecutions"], "the others keep what they remember"


def test_store_prune_still_stops_at_a_failure_and_the_leader_at_an_unavailable_store(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history_of_every_kind(store)
    _fail_the_output_pruner(monkeypatch, OverflowError("date value out of range"))
    with pytest.raises(OverflowError):
        prune_store(store, POLICY, now=NOW)  # jobctl store prune: an internal error, exit 1
    assert store.db.scalar("SELECT COUNT(*) FROM audit_log") == 1

    _fail_the_output_pruner(monkeypatch, StoreUnavailable("store sqlite:///x: connection lost"))
    reported: list[str] = []
    with pytest.raises(StoreUnavailable):  # every pruner would fail alike: the pass ends
        prune_store(store, POLICY, now=NOW, pause=lambda _: None, on_failure=lambda name, _: reported.append(name))
    assert reported == [] and store.db.scalar("SELECT COUNT(*) FROM audit_log") == 1


def test_audit_entries_and_sent_deliveries_go_when_old_and_waiting_deliveries_stay(store: Store) -> None:
    for age in (400, 366, 10):
        audit.record(store, actor="t", action="job.created", target_type="job", at=NOW - timedelta(days=age))
    for number, (age, status) in enumerate([(100, "sent"), (100, "failed"), (100, "pending"), (5, "sent")]):
        at = NOW - timedelta(days=age)
        store.db.execute(
            """
            INSERT INTO notification_deliveries (id, dedupe_key, event, notifier, status, payload, created_at,
                next_attempt_at) VALUES (:id, :key, 'failure', 'ops', :status, '{}', :at, :at)
            """,
            {"id": f"d{number}", "key": f"k{number}", "status": status, "at": at},
        )  # fmt: skip

    report = prune_store(store, POLICY, now=NOW)

    assert (report.removed["auditEntries"], report.removed["deliveries"]) == (2, 2)
    assert store.db.scalar("SELECT COUNT(*) FROM audit_log") == 1
    left = {row["id"] for row in store.db.fetch_all("SELECT id FROM notification_deliveries")}
    assert left == {"d2", "d3"}


@pytest.mark.parametrize("key", ["keep_days", "keep_per_job", "output_keep_days", "audit_keep_days"])
@pytest.mark.parametrize("value", ["0", "-5", "1.5", '"30"'], ids=["zero", "negative", "float", "string"])
def test_retention_values_must_be_whole_numbers_of_at_least_1(tmp_path: Path, key: str, value: str) -> None:
    path = tmp_path / "jobctl.toml"
    path.write_text(f"[history]\n{key} = {value}\n")
    with pytest.raises(UsageError) as caught:
        load_config(str(path))
    assert f"[history] {key}" in caught.value.message


def test_history_settings_are_read(tmp_path: Path) -> None:
    path = tmp_path / "jobctl.toml"
    path.write_text("[history]\nkeep_days = 7\nkeep_per_job = 3\noutput_keep_days = 1\naudit_keep_days = 2\n")
    assert load_config(str(path)).retention == RetentionPolicy(
        keep_days=7, keep_per_job=3, output_keep_days=1, audit_keep_days=2
    )
    assert load_config(None).retention == RetentionPolicy()


def test_a_bad_retention_value_is_exit_2_on_one_line_and_nothing_is_pruned(sqlite_url: str, tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[history]\nkeep_days = 0\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    result = Cli(env)("--db", sqlite_url, "--config", str(config), "store", "prune")
    assert result.code == 2, result
    assert result.stderr.count("\n") == 1 and "[history] keep_days must be between 1 and 36500 days" in result.stderr
    assert result.stdout == ""


def test_every_history_setting_has_a_largest_value() -> None:
    assert set(HISTORY_RANGES) == set(KEYS["history"])
    assert {bounds.most for bounds in HISTORY_RANGES.values()} == {MAX_KEEP_DAYS, MAX_KEEP_PER_JOB}
    assert (MAX_KEEP_DAYS, MAX_KEEP_PER_JOB) == (36_500, 1_000_000_000)


@pytest.mark.parametrize("key", sorted(KEYS["history"]))
@pytest.mark.parametrize("beyond", [1, 2**31, 2**63, 10**20], ids=["one-more", "2**31", "2**63", "10**20"])
def test_retention_values_above_their_largest_are_a_config_error(tmp_path: Path, key: str, beyond: int) -> None:
    most = HISTORY_RANGES[key].most
    value = most + 1 if beyond == 1 else beyond
    path = tmp_path / "jobctl.toml"
    path.write_text(f"[history]\n{key} = {value}\n")
    with pytest.raises(UsageError) as caught:
        load_config(str(path))
    largest = f"{most} days (100 years)" if key.endswith("_days") else f"{most}"
    assert caught.value.message == f"config file {path}: [history] {key} must be between 1 and {largest}, not {value}"


def _cli_without_jobctl_env() -> Cli:
    return Cli({key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")})


@pytest.mark.parametrize(
    ("setting", "command"),
    [
        ("keep_days = 800000", "store prune --dry-run"),
        ("keep_days = 99999999999999999999", "store prune"),
        ("keep_days = 36501", "store info"),
        ("output_keep_days = 36501", "store prune --dry-run"),
        ("output_keep_days = 800000", "store prune"),
        ("audit_keep_days = 1000000", "store prune --dry-run"),
        ("audit_keep_days = 36501", "store info"),
        ("keep_per_job = 9223372036854775808", "store prune --dry-run"),
        ("keep_per_job = 1000000001", "store prune"),
        ("keep_per_job = 1_000_000_000_000", "store info"),
    ],
)
def test_a_retention_value_too_large_is_exit_2_on_one_line(
    sqlite_url: str, tmp_path: Path, setting: str, command: str
) -> None:
    """Before the bound, the prune failed with an internal error (OverflowError, exit 1) and
    ``store info`` showed the value as if it were fine."""
    store = open_store(sqlite_url)
    try:
        add_executions(store.db, add_job(store.db, "j"), days(100, 200), output="old\n")
    finally:
        store.close()
    config = tmp_path / "bad.toml"
    config.write_text(f"[history]\n{setting}\n")
    result = _cli_without_jobctl_env()("--db", sqlite_url, "--config", str(config), *command.split())
    key, value = setting.split(" = ")
    most = HISTORY_RANGES[key].most
    assert result.code == 2, result
    assert result.stderr.startswith(f"jobctl: config file {config}: [history] {key} must be between 1 and {most}"), (
        result
    )
    assert result.stderr.endswith(f", not {int(value)}\n") and result.stderr.count("\n") == 1, result
    assert result.stdout == ""
    store = open_store(sqlite_url)
    try:
        assert len(ids_of(store)) == 2 and output_rows(store) == 2, "nothing is pruned"
    finally:
        store.close()


def test_the_daemon_refuses_to_start_with_a_retention_value_too_large(sqlite_url: str, tmp_path: Path) -> None:
    """Before the bound, it started, and its pruner failed with a traceback on every pass."""
    config = tmp_path / "bad.toml"
    config.write_text("[history]\nkeep_days = 800000\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    result = subprocess.run(
        [sys.executable, "-m", "jobctl", "--config", str(config), "--db", sqlite_url, "daemon", "--no-api"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert result.returncode == 2, result
    assert result.stderr == (
        f"jobctl: config file {config}: [history] keep_days must be between 1 and 36500 days (100 years), not 800000\n"
    ), result.stderr
    assert result.stdout == ""


LARGEST = "\n".join(f"{key} = {bounds.most}" for key, bounds in HISTORY_RANGES.items())


def test_the_largest_retention_values_keep_a_century_and_prune_what_is_older(store: Store, tmp_path: Path) -> None:
    """At the largest values, the cutoffs are a hundred years back and the count a billion, on
    either backend: a prune runs, removes what is older than that and keeps the rest."""
    path = tmp_path / "jobctl.toml"
    path.write_text(f"[history]\n{LARGEST}\n")
    policy = load_config(str(path)).retention
    assert policy == RetentionPolicy(
        keep_days=MAX_KEEP_DAYS, keep_per_job=MAX_KEEP_PER_JOB, output_keep_days=MAX_KEEP_DAYS,
        audit_keep_days=MAX_KEEP_DAYS,
    )  # fmt: skip
    job = add_job(store.db, "j")
    kept = add_executions(store.db, job, days(1, 400, MAX_KEEP_DAYS - 1), output="kept\n")
    gone = add_executions(store.db, job, days(MAX_KEEP_DAYS + 1, MAX_KEEP_DAYS + 30), output="gone\n")
    for age in (MAX_KEEP_DAYS - 1, MAX_KEEP_DAYS + 1):
        audit.record(store, actor="t", action="job.created", target_type="job", at=NOW - timedelta(days=age))

    dry = prune_store(store, policy, now=NOW, dry_run=True)
    report = prune_store(store, policy, now=NOW)

    expected = {"expiredExecutions": 2, "excessExecutions": 0, "outputs": 0, "auditEntries": 1, "deliveries": 0}
    assert dry.removed == expected and report.removed == expected
    assert ids_of(store) == set(kept) and not set(gone) & ids_of(store)
    assert output_rows(store) == 3
    assert store.db.scalar("SELECT COUNT(*) FROM audit_log") == 1


def test_store_info_and_prune_take_the_largest_retention_values(sqlite_url: str, tmp_path: Path) -> None:
    config = tmp_path / "largest.toml"
    config.write_text(f"[history]\n{LARGEST}\n")
    open_store(sqlite_url).close()  # the store commands never create a store
    cli = _cli_without_jobctl_env()
    info = cli("--db", sqlite_url, "--config", str(config), "store", "info", "--json")
    assert info.code == 0, info
    assert json.loads(info.stdout)["retention"] == {
        "keepDays": 36_500, "keepPerJob": 1_000_000_000, "outputKeepDays": 36_500, "auditKeepDays": 36_500,
    }  # fmt: skip
    pruned = cli("--db", sqlite_url, "--config", str(config), "store", "prune")
    assert pruned.code == 0 and pruned.stdout.startswith("removed 0 rows"), pruned


def test_a_later_pass_finds_new_runs_by_a_range_of_the_created_at_index(store: Store) -> None:
    old, new = add_job(store.db, "old"), add_job(store.db, "new")
    add_executions(store.db, old, days(10, 11))
    add_executions(store.db, new, days(1, 2, 3))
    sql = jobs_with_runs_since_sql(sqlite=store.db.is_sqlite)
    assert [row["job_id"] for row in store.db.fetch_all(sql, {"since": NOW - timedelta(days=5)})] == [new]
    assert store.db.fetch_all(sql, {"since": NOW}) == []
    if store.db.is_sqlite:
        plan = " ".join(row["detail"] for row in store.db.fetch_all(f"EXPLAIN QUERY PLAN {sql}", {"since": NOW}))
        assert "SEARCH executions USING INDEX ix_executions_created_id" in plan, plan


def test_show_and_tail_say_that_a_runs_output_was_pruned(store: Store, cli: Cli) -> None:
    """A run whose output retention removed does not read like a run that printed nothing."""
    job = add_job(store.db, "j")
    old, new = add_executions(store.db, job, days(5, 0.1), output="hello\n")
    report = prune_store(store, RetentionPolicy(keep_days=90, keep_per_job=1000, output_keep_days=1), now=NOW)
    assert report.removed["outputs"] == 1
    shown = cli("executions", "show", old)
    assert shown.code == 0 and "output pruned: older than [history] output_keep_days" in shown.stdout, shown
    tailed = cli("executions", "tail", old)
    assert tailed.code == 0 and tailed.stdout == "", tailed
    assert "jobctl: output pruned: older than [history] output_keep_days" in tailed.stderr
    kept = cli("executions", "show", new)
    assert "output pruned" not in kept.stdout and "hello" in kept.stdout
    assert "output pruned" not in cli("executions", "tail", new).stderr
