"""Run output on its way to the store: buffered, so a chatty job costs few writes."""

from __future__ import annotations

import logging
import threading
import time

from jobctl.errors import StoreError
from jobctl.store import Store

log = logging.getLogger(__name__)

FLUSH_INTERVAL_SECONDS = 0.25
FLUSH_SIZE_CHARS = 64 * 1024


class OutputWriter:
    """Collects output of one execution and appends it to the store in chunks.

    Flushed when ``FLUSH_INTERVAL_SECONDS`` passed or ``FLUSH_SIZE_CHARS`` piled up, and at the
    end; so ``tail -f`` sees output within about a quarter second.
    """

    def __init__(self, store: Store, execution_id: str) -> None:
        self.store = store
        self.execution_id = execution_id
        self.offset = 0
        self._pending: list[str] = []
        self._pending_size = 0
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        with self._lock:
            self._pending.append(text)
            self._pending_size += len(text)
            due = (
                self._pending_size >= FLUSH_SIZE_CHARS or time.monotonic() - self._last_flush >= FLUSH_INTERVAL_SECONDS
            )
        if due:
            self.flush()

    def flush(self) -> None:
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
