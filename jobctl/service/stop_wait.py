"""Waiting for the daemon that runs an execution to confirm it stopped it.

A stop (a forced delete, a cancel) is asked through the store and carried out by whichever
process runs the execution; the caller waits for the record. When none comes in time (that
daemon died or lost the store), the caller records the run itself, saying why.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from jobctl.models import ExecutionStatus
from jobctl.store import Store

POLL_SECONDS = 0.05


def still_running_after(store: Store, execution_ids: Sequence[str], wait_seconds: float) -> list[str]:
    """The executions of ``execution_ids`` still running once ``wait_seconds`` have passed
    (fewer, sooner, as their daemons record them)."""
    deadline = time.monotonic() + wait_seconds
    running = list(store.executions.still_running(list(execution_ids)))
    while running and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        running = list(store.executions.still_running(running))
    return running


def record_unconfirmed_stop(
    store: Store, execution_id: str, status: ExecutionStatus, reason: str, wait_seconds: float
) -> bool:
    """Record a run whose daemon did not confirm its stop; False if it was recorded meanwhile."""
    return bool(
        store.executions.finish(
            execution_id,
            status=status.value,
            started_at=None,
            completed_at=datetime.now(UTC),
            duration_seconds=None,
            result=None,
            error_message=f"{reason}; its daemon did not confirm the stop within {wait_seconds:g}s",
        )
    )
