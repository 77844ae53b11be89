"""``GET /overview``: what ``jobctl top`` draws, read in one call so a remote view costs one
round trip a second: the scheduler's status, the runs going on, the next slots, the latest
failures (by when they ended) and the latest missed ranges."""

from __future__ import annotations

from datetime import datetime

from jobctl.models import ExecutionStatus
from jobctl.service.status import scheduler_status
from jobctl.store import Store
from jobctl.wire import responses
from jobctl.wire.responses import Overview

OVERVIEW_LIMIT = 20
"""Entries per list by default: what fits a terminal."""

ACTIVE = (ExecutionStatus.RUNNING.value,)


def overview(store: Store, now: datetime, *, limit: int = OVERVIEW_LIMIT) -> Overview:
    """The overview at ``now``, each list at most ``limit`` long."""
    figures = store.figures
    return {
        "generatedAt": responses.timestamp(now) or "",
        "status": scheduler_status(store, now),
        "running": [
            responses.active_run(row.execution, row.job_name)
            for row in figures.named_executions(ACTIVE, limit=limit, oldest_first=True)
        ],
        "upcoming": [
            {"jobId": job_id, "jobName": name, "nextRunTime": responses.timestamp(moment) or ""}
            for job_id, name, moment in figures.upcoming(limit=limit)
        ],
        "recentFailures": [
            responses.recent_outcome(row.execution, row.job_name) for row in figures.recent_failures(limit=limit)
        ],
        "missed": [
            responses.missed_range(row.execution, row.job_name)
            for row in figures.named_executions((ExecutionStatus.MISSED.value,), limit=limit)
        ],
    }
