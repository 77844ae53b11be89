"""The scheduler's state in words, for ``jobctl status`` and ``jobctl top``."""

from __future__ import annotations

from datetime import UTC, datetime

from jobctl.cli.output import parse_time
from jobctl.models import LeadingDaemon
from jobctl.times import span
from jobctl.wire.responses import SchedulerStatus


def leader_silence(status: SchedulerStatus, *, now: datetime | None = None) -> str | None:
    """``"leader not heartbeating for 7s (lease ends in 8s)"`` while the leader holds its lease
    but has missed its heartbeats (``leaderHeartbeatOverdue``); None otherwise.

    Until the lease ends no other daemon may lead, so nothing is being scheduled although the
    store still names a leader (docs/leader-heartbeat.md). ``.get``: an older daemon's API
    answers without these keys.
    """
    leader = status["leaderInstance"]
    expires = parse_time(status.get("leaseExpiresAt"))
    last_beat = parse_time(leader["lastHeartbeat"]) if leader is not None else None
    if not status.get("leaderHeartbeatOverdue") or expires is None or last_beat is None:
        return None
    now = now or datetime.now(UTC)
    left = (expires - now).total_seconds()
    ends = f"lease ends in {span(left)}" if left >= 1 else "lease ending now"
    return f"leader not heartbeating for {span((now - last_beat).total_seconds())} ({ends})"


def silent_leader_warning(leader: LeadingDaemon, *, now: datetime | None = None) -> str:
    """What ``jobs create``/``trigger`` say while the leader has missed its heartbeats: ``"the
    leading daemon (web1 pid 4242) has not heartbeated for 7s: nothing will run until it is back
    or another daemon takes over (a standby can when its lease ends, in 8s)"``.
    """
    now = now or datetime.now(UTC)
    silent = span((now - leader.last_heartbeat).total_seconds())
    said = f"the leading daemon ({leader.hostname} pid {leader.pid}) has not heartbeated for {silent}"
    said += ": nothing will run until it is back or another daemon takes over"
    if leader.lease_expires_at is None:
        return said
    left = (leader.lease_expires_at - now).total_seconds()
    return said + (f" (a standby can when its lease ends, in {span(left)})" if left >= 1 else " (a standby can now)")


def job_totals(status: SchedulerStatus) -> str:
    """``"24 total, 23 enabled (3 paused), 0 running"``: a paused job is enabled but does not run
    on schedule, and an auto-pause would otherwise not show in the summary. ``.get``: an older
    daemon's API answers without ``pausedJobs``."""
    paused = status.get("pausedJobs")
    enabled = f"{status['enabledJobs']} enabled" + (f" ({paused} paused)" if paused else "")
    return f"{status['totalJobs']} total, {enabled}, {status['runningJobs']} running"
