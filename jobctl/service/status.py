"""``GET /status``: who leads, which instances live, and what runs next."""

from __future__ import annotations

from datetime import datetime, timedelta

from jobctl.models import HEARTBEATS_PER_LEASE, Instance, LeadingDaemon, Lease, RunningDaemon
from jobctl.store import JobFilter, Store
from jobctl.wire import responses
from jobctl.wire.responses import SchedulerStatus


def scheduler_status(store: Store, now: datetime) -> SchedulerStatus:
    """The status document; ``isRunning`` means a live leader holds an unexpired lease."""
    lease = store.cluster.lease()
    leader_id = lease.holder_id if lease.expires_at is not None and lease.expires_at > now else None
    live = store.cluster.live_instances()
    instances = [responses.instance(instance, leader_id=leader_id, leader_since=lease.acquired_at) for instance in live]
    leader = next((entry for entry in instances if entry["isLeader"]), None)
    leading = next((instance for instance in live if instance.id == leader_id), None)
    counts = store.jobs.counts(JobFilter())
    upcoming = store.jobs.next_scheduled()
    return {
        "isRunning": leader is not None,
        "leaderInstance": leader,
        "leaseExpiresAt": responses.timestamp(lease.expires_at) if leader is not None else None,
        "leaderHeartbeatOverdue": leading is not None and heartbeat_overdue(leading, lease, now),
        "totalJobs": counts.total,
        "enabledJobs": counts.enabled,
        "pausedJobs": store.jobs.paused_count(),
        "runningJobs": counts.running,
        "nextScheduledJob": None if upcoming is None else responses.next_scheduled_job(upcoming),
        "instances": instances,
        "concurrencyGroups": [
            responses.concurrency_group(group.name, group.limit, group.running, group.waiting)
            for group in store.groups.usage()
        ],
    }


MISSED_HEARTBEATS = 2
"""Heartbeats a leader may miss before status says it is not heartbeating: one late beat (a slow
store write) is not news, two mean it is dead, frozen or cut off (docs/leader-heartbeat.md)."""


def heartbeat_overdue(leader: Instance, lease: Lease, now: datetime) -> bool:
    """Whether the lease holder has missed :data:`MISSED_HEARTBEATS` heartbeats at ``now``.

    Its heartbeat interval is its lease TTL over :data:`HEARTBEATS_PER_LEASE`. The TTL is the
    daemon's setting, which the reader may not share; it is read from the store instead: the
    leader renews the lease (``expires_at`` = renewal + TTL) and writes its heartbeat at once
    after, so ``expires_at - last_heartbeat`` is the TTL, a few milliseconds short.
    """
    if lease.expires_at is None:
        return False
    return silent_too_long(leader.last_heartbeat, lease.expires_at - leader.last_heartbeat, now)


def silent_too_long(last_heartbeat: datetime, ttl: timedelta, now: datetime) -> bool:
    """Whether a daemon with lease TTL ``ttl`` (a heartbeat every ``ttl`` /
    :data:`HEARTBEATS_PER_LEASE`) has missed :data:`MISSED_HEARTBEATS` heartbeats at ``now``."""
    return now - last_heartbeat > ttl * MISSED_HEARTBEATS / HEARTBEATS_PER_LEASE


def running_daemon(store: Store, instance_id: str) -> RunningDaemon | None:
    """The instance ``instance_id`` as the store last heard from it, with its lease TTL while it
    holds the lease; None once it has stopped (or is not known)."""
    instance = next((i for i in store.cluster.live_instances() if i.id == instance_id), None)
    if instance is None:
        return None
    lease = store.cluster.lease()
    holds = lease.holder_id == instance.id and lease.expires_at is not None
    return RunningDaemon(
        hostname=instance.hostname,
        pid=instance.pid,
        last_heartbeat=instance.last_heartbeat,
        lease_ttl=lease.expires_at - instance.last_heartbeat if holds and lease.expires_at is not None else None,
    )


def leading_daemon(store: Store, now: datetime) -> LeadingDaemon | None:
    """The daemon that leads at ``now`` by the rule of ``isRunning``, and whether its heartbeat
    is overdue by the rule of ``leaderHeartbeatOverdue`` (one query); None when none leads."""
    found = store.cluster.live_leader(now)
    if found is None:
        return None
    instance, lease = found
    return LeadingDaemon(
        hostname=instance.hostname,
        pid=instance.pid,
        last_heartbeat=instance.last_heartbeat,
        lease_expires_at=lease.expires_at,
        heartbeat_overdue=heartbeat_overdue(instance, lease, now),
    )
