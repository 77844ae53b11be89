"""Runs orphaned by an instance that died are finished as ``failed``, within one lease period.

Also runs left active by an instance that stopped without recording them (its store was
unreachable while it shut down).

An instance is dead when its heartbeat is older than the lease TTL. Its active executions can
never be finished by it, so the leader records them as failed with a message saying why, and
marks the instance stopped so it leaves the status list.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from jobctl.models import Execution, ExecutionStatus
from jobctl.notifier_config import NotifySettings
from jobctl.service.notifications import abandoned_effects, execution_event
from jobctl.store import Store

log = logging.getLogger(__name__)


def reap_dead_instances(
    store: Store, *, now: datetime, ttl: timedelta, me: str, notify: NotifySettings | None = None
) -> int:
    """Finish the active runs of dead instances; returns how many were finished."""
    dead = [
        instance
        for instance in store.cluster.live_instances()
        if instance.id != me and now - instance.last_heartbeat > ttl
    ]
    orphans = store.executions.active_of_instances([i.id for i in dead])
    names = {i.id: i.running_it() for i in dead}
    for execution in orphans:
        who = names.get(execution.instance_id or "", f"the daemon running it (instance {execution.instance_id})")
        _abandon(store, execution, now, f"{who} stopped heartbeating", notify)
    leftovers = store.executions.active_of_gone_instances()
    for execution in leftovers:
        _abandon(store, execution, now, f"the daemon running it (instance {execution.instance_id}) stopped", notify)
    for instance in dead:
        store.cluster.mark_stopped(instance.id, instance.last_heartbeat)
    store.cluster.forget_instances(stopped_before=now - timedelta(days=7))
    return len(orphans) + len(leftovers)


ABANDONED = "abandoned: "
"""How the error of a run recorded by a leader for a dead instance begins (after the cancel's
reason, ``cancelled by WHO; abandoned: ...``, for a run someone asked to cancel)."""


def was_abandoned(execution: Execution) -> bool:
    """Whether a leader recorded ``execution`` for an instance that stopped heartbeating."""
    error = execution.error_message or ""
    return error.startswith(ABANDONED) or f"; {ABANDONED}" in error


def _abandon(store: Store, execution: Execution, now: datetime, why: str, notify: NotifySettings | None) -> None:
    """Finish the run as failed, with its ``abandoned`` event in the same transaction; a run
    someone asked to cancel as ``cancelled``, with its ``cancelled`` event (docs/cancelling-runs.md)."""
    with store.transaction():
        recorded = store.executions.abandon(
            execution.id, completed_at=now, error=f"{ABANDONED}{why}; outcome unknown",
            cancel_note=f"; {ABANDONED}{why} before it confirmed the stop",
        )  # fmt: skip
        if recorded is None:
            return
        cancelled = recorded.status == ExecutionStatus.CANCELLED
        if notify is not None:
            if cancelled:
                execution_event(store, notify, recorded, "cancelled", now=now)
            else:
                abandoned_effects(store, notify, recorded, now=now)
    log.warning("finished orphaned execution %s as %s: %s", execution.id, recorded.status.value, why)
