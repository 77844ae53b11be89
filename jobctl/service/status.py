"""``GET /status``: who leads, which instances live, and what runs next."""

from __future__ import annotations

from datetime import datetime

from jobctl.store import JobFilter, Store
from jobctl.wire import responses
from jobctl.wire.responses import SchedulerStatus


def scheduler_status(store: Store, now: datetime) -> SchedulerStatus:
    """The status document; ``isRunning`` means a live leader holds an unexpired lease."""
    lease = store.cluster.lease()
    leader_id = lease.holder_id if lease.expires_at is not None and lease.expires_at > now else None
    instances = [
        responses.instance(instance, leader_id=leader_id, leader_since=lease.acquired_at)
        for instance in store.cluster.live_instances()
    ]
    leader = next((entry for entry in instances if entry["isLeader"]), None)
    counts = store.jobs.counts(JobFilter())
    upcoming = store.jobs.next_scheduled()
    return {
        "isRunning": leader is not None,
        "leaderInstance": leader,
        "totalJobs": counts.total,
        "enabledJobs": counts.enabled,
        "runningJobs": counts.running,
        "nextScheduledJob": None if upcoming is None else responses.next_scheduled_job(upcoming),
        "instances": instances,
        "concurrencyGroups": [
            responses.concurrency_group(group.name, group.limit, group.running, group.waiting)
            for group in store.groups.usage()
        ],
    }
