"""Run output on its way to the store: a bounded window of the tail, flushed a few times a second.

The reactor thread only appends to the window (it must never wait for the store); the recorder
thread writes the new part of it out when due and before a run's outcome is recorded. The window
holds at most the last ``OUTPUT_LIMIT_CHARS`` characters, so however fast a job prints, the
daemon's memory for it is bounded and each flush writes at most that much (docs/output-limit.md).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from jobctl.errors import StoreError, StoreUnavailable
from jobctl.store import Store
from jobctl.store.executions import OUTPUT_LIMIT_CHARS

log = logging.getLogger(__name__)

FLUSH_INTERVAL_SECONDS = 0.25


def byte_length(text: str) -> int:
    """How many bytes the job wrote for ``text`` (decoded with ``surrogateescape``: each byte
    that was not UTF-8 is one surrogate character, and encodes back to that one byte)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogateescape"))


class OutputWriter:
    """Keeps the tail of one execution's output and appends what is new to the store.

    Offsets count characters of the whole output, dropped or not, so a reader following the
    log by offsets never sees a chunk twice. ``dropped_bytes`` counts the bytes dropped from the
    start, exactly as the job wrote them. A flush is due ``FLUSH_INTERVAL_SECONDS`` after the
    last one, so ``tail -f`` sees output within about a quarter second.
    """

    def __init__(self, store: Store, execution_id: str, *, limit: int = OUTPUT_LIMIT_CHARS) -> None:
        self.store = store
        self.execution_id = execution_id
        self.limit = limit
        self.total = 0
        """Characters received so far (the offset after the last one)."""
        self.dropped_bytes = 0
        self._window: deque[str] = deque()
        self._window_size = 0
        self._unflushed = 0
        """How many characters at the end of the window are not stored yet."""
        self._stored_dropped_bytes = 0
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        """Take ``text`` into the window, dropping its oldest characters past the limit; never
        touches the store."""
        if not text:
            return
        with self._lock:
            self.total += len(text)
            if len(text) > self.limit:
                self.dropped_bytes += byte_length(text[: -self.limit])
                text = text[-self.limit :]
            self._window.append(text)
            self._window_size += len(text)
            self._unflushed += len(text)
            self._trim()

    def _trim(self) -> None:
        while self._window_size > self.limit:
            excess = self._window_size - self.limit
            oldest = self._window[0]
            if len(oldest) <= excess:
                self._window.popleft()
                cut = oldest
            else:
                cut, self._window[0] = oldest[:excess], oldest[excess:]
            self.dropped_bytes += byte_length(cut)
            self._window_size -= len(cut)
        self._unflushed = min(self._unflushed, self._window_size)

    def flush_due(self) -> bool:
        with self._lock:
            return self._unflushed > 0 and time.monotonic() - self._last_flush >= FLUSH_INTERVAL_SECONDS

    def flush(self) -> None:
        """Append the part of the window not stored yet. During a store outage it stays unstored
        and the next flush tries again (the window still bounds it); output the store refuses is
        logged and dropped.

        Called from one thread only (the recorder's), so chunks reach the store in order.
        """
        with self._lock:
            if not self._unflushed:
                return
            data = self._unstored_tail()
            start = self.total - self._unflushed
            self._unflushed = 0
            dropped = self.dropped_bytes if self.dropped_bytes != self._stored_dropped_bytes else None
            self._last_flush = time.monotonic()
        try:
            self.store.executions.append_output(self.execution_id, start, data, dropped_bytes=dropped)
        except StoreUnavailable as exc:
            with self._lock:  # still in the window (as far as it is still in the tail): next flush
                self._unflushed = min(self._window_size, self._unflushed + len(data))
            log.warning("output of execution %s not stored yet, will try again: %s", self.execution_id, exc.message)
            return
        except StoreError as exc:
            log.warning("output of execution %s lost (%d chars): %s", self.execution_id, len(data), exc.message)
            return
        if dropped is not None:
            self._stored_dropped_bytes = dropped

    def _unstored_tail(self) -> str:
        """The last ``_unflushed`` characters of the window (called with the lock held)."""
        pieces: list[str] = []
        needed = self._unflushed
        for piece in reversed(self._window):
            if needed <= 0:
                break
            pieces.append(piece[-needed:] if len(piece) > needed else piece)
            needed -= len(piece)
        return "".join(reversed(pieces))
