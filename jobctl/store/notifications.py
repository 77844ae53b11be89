"""Change notifications across processes: Postgres LISTEN/NOTIFY.

SQLite has no such channel; there the scheduler's short maximum sleep bounds how late a change
written by another process is seen.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from jobctl.store.cluster import CHANGES_CHANNEL
from jobctl.store.database import PG_CONNECTION_DEFAULTS
from jobctl.store.url import StoreUrl

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 1.0


def listen_for_changes(url: StoreUrl, on_change: Callable[[], None], stop: threading.Event) -> None:
    """Call ``on_change`` for every notification until ``stop`` is set (Postgres only; returns at once on SQLite).

    Reconnects after errors; while disconnected, the callers' own polling still applies.
    """
    if url.pg_conninfo is None:
        return
    import psycopg

    info: dict[str, Any] = {**PG_CONNECTION_DEFAULTS, **url.pg_conninfo}
    while not stop.is_set():
        try:
            with psycopg.connect(autocommit=True, **info) as conn:
                conn.execute(f"LISTEN {CHANGES_CHANNEL}")
                on_change()
                while not stop.is_set():
                    for _ in conn.notifies(timeout=0.5, stop_after=1):
                        on_change()
        except psycopg.Error as exc:
            log.debug("change listener disconnected: %s", exc)
            stop.wait(RECONNECT_SECONDS)
