"""Run output on its way to the store: buffered, so a chatty job costs few writes.

The reactor thread only appends to the buffer (it must never wait for the store); the recorder
thread writes buffers out when they are due and before a run's outcome is recorded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from jobctl.errors import StoreError
from jobctl.store import Store

log = logging.getLogger(__name__)

FLUSH_INTERVAL_SECONDS = 0.25
FLUSH_SIZE_CHARS = 64 * 1024


class OutputWriter:
    """Collects output of one execution and appends it to the store in chunks.

    Due for a flush when ``FLUSH_INTERVAL_SECONDS`` passed or ``FLUSH_SIZE_CHARS`` piled up (then
    ``on_full`` is told, to flush soon); so ``tail -f`` sees output within about a quarter second.
    """

    def __init__(self, store: Store, execution_id: str, *, on_full: Callable[[], None] | None = None) -> None:
        self.store = store
        self.execution_id = execution_id
        self.on_full = on_full
        self.offset = 0
        self._pending: list[str] = []
        self._pending_size = 0
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        """Buffer ``text``; never touches the store."""
        with self._lock:
            before = self._pending_size
            self._pending.append(text)
            self._pending_size += len(text)
            full = before < FLUSH_SIZE_CHARS <= self._pending_size
        if full and self.on_full:
            self.on_full()

    def flush_due(self) -> bool:
        with self._lock:
            return bool(self._pending) and (
                self._pending_size >= FLUSH_SIZE_CHARS or time.monotonic() - self._last_flush >= FLUSH_INTERVAL_SECONDS
            )

    def flush(self) -> None:
        """Append what is buffered to the store (output that cannot be written is logged and dropped).

        Called from one thread only (the recorder's), so chunks reach the store in order.
        """
        with self._lock:
            if not self._pending:
                return
            data = "".join(self._pending)
            self._pending, self._pending_size = [], 0
            start, self.offset = self.offset, self.offset + len(data)
            self._last_flush = time.monotonic()
        try:
            self.store.executions.append_output(self.execution_id, start, data)
        except StoreError as exc:
            log.warning("output of execution %s lost (%d chars): %s", self.execution_id, len(data), exc.message)
