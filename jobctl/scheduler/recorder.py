"""One thread records finished runs: whatever finished since the last commit goes in one transaction.

A transaction per run costs a commit (an fsync on Postgres) and a turn on the store's write lock
(SQLite) each; batching them is most of what lets a burst of short runs be recorded as fast as
they finish. Nothing waits for a timer: a lone outcome is written at once, and batches grow only
while outcomes pile up behind a commit. Between batches the thread also does the runner's
periodic chores (flushing run output), so the reactor thread never touches the store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from jobctl.errors import JobctlError, StoreUnavailable

T = TypeVar("T")

log = logging.getLogger(__name__)

MAX_BATCH = 256
"""Most outcomes one transaction carries."""

RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)
"""Waits between attempts to write a batch while the store is unreachable (the last repeats)."""
ATTEMPTS_WHEN_CLOSING = 3
"""Once shutting down, give up after this many more attempts: the reaper of the next leader
finishes what is left once this instance stops heartbeating."""


class OutcomeRecorder(Generic[T]):
    """Writes queued items with ``write_batch`` until the store takes them.

    An outcome that is never recorded would leave its execution ``running`` for as long as this
    instance lives (no reaper finishes the runs of a live instance), so an outage
    (:class:`StoreUnavailable`) is retried with backoff; writes must be idempotent. Any other
    error, a value the store refuses included, is taken as one item's fault: the batch is
    written again item by item and a failing item goes to ``on_failed`` (the batch goes on).
    Every item is handed to ``on_written`` once it is recorded (or given up on when closing).
    """

    def __init__(
        self,
        write_batch: Callable[[list[T]], None],
        *,
        on_written: Callable[[list[T]], None],
        on_failed: Callable[[T, Exception], None],
        chores: Callable[[], None],
        chore_interval: float,
        closing: threading.Event,
    ) -> None:
        self._write_batch = write_batch
        self._on_written = on_written
        self._on_failed = on_failed
        self._chores = chores
        self._chore_interval = chore_interval
        self._closing = closing
        self._cond = threading.Condition()
        self._queue: list[T] = []
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="recorder", daemon=True)
        self._thread.start()

    def put(self, item: T) -> None:
        """Queue ``item`` to be written."""
        with self._cond:
            self._queue.append(item)
            self._cond.notify()

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout)

    def _loop(self) -> None:
        next_chores = time.monotonic() + self._chore_interval
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    if not self._cond.wait(max(0.0, next_chores - time.monotonic())):
                        break
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                closed = self._closed
            now = time.monotonic()
            if batch or now >= next_chores:
                self._run_chores()
                next_chores = now + self._chore_interval
            if batch:
                self._write(batch)
            elif closed:
                return

    def _run_chores(self) -> None:
        try:
            self._chores()
        except Exception:
            log.exception("recorder chores failed; continuing")

    def _write(self, batch: list[T]) -> None:
        """Write ``batch``; if the store refuses it (not an outage), write it item by item so that
        only the faulty item fails, then hand every item on."""
        error = self._attempt(batch)
        if error is not None:
            log.warning("recording %d outcome(s) failed (%s); writing them one by one", len(batch), _describe(error))
            for item in batch:
                failure = self._attempt([item]) if len(batch) > 1 else error
                if failure is not None:
                    self._fail(item, failure)
        self._hand_on(batch)

    def _attempt(self, batch: list[T]) -> Exception | None:
        """Write ``batch``, retrying while the store is unavailable; the error that is not an outage.

        While closing, an outage is given up on after :data:`ATTEMPTS_WHEN_CLOSING` attempts
        (None is returned: the next leader's reaper finishes those runs).
        """
        attempt = 0
        left_when_closing = ATTEMPTS_WHEN_CLOSING
        while True:
            try:
                self._write_batch(batch)
                if attempt:
                    log.info("recorded %d outcome(s) after %d failed attempt(s)", len(batch), attempt)
                return None
            except StoreUnavailable as exc:
                if self._closing.is_set():
                    left_when_closing -= 1
                    if left_when_closing <= 0:
                        log.error("could not record %d outcome(s), giving up: %s", len(batch), exc.message)
                        return None
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                attempt += 1
                log.warning("could not record %d outcome(s) (%s); retrying in %.1fs", len(batch), exc.message, delay)
                if self._closing.is_set():
                    time.sleep(min(delay, 1.0))
                else:
                    self._closing.wait(delay)
            except Exception as exc:  # noqa: BLE001 - the store refused this batch: its items are tried alone
                return exc

    def _fail(self, item: T, error: Exception) -> None:
        try:
            self._on_failed(item, error)
        except Exception:
            log.exception("could not record a failed outcome")

    def _hand_on(self, batch: list[T]) -> None:
        try:
            self._on_written(batch)
        except Exception:
            log.exception("after recording outcomes; continuing")


def _describe(error: Exception) -> str:
    return error.message if isinstance(error, JobctlError) else f"{type(error).__name__}: {error}"
