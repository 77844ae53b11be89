"""The reaper finishes runs whose daemon died or stopped without recording them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from jobctl.models import Instance
from jobctl.scheduler.reaper import reap_dead_instances
from jobctl.service import Service
from tests.daemon.helpers import shell_job


def _instance(now: datetime, **changes: object) -> Instance:
    fields = {"id": str(uuid.uuid4()), "hostname": "h", "pid": 1, "version": "t", "started_at": now,
              "last_heartbeat": now, "stopped_at": None, **changes}  # fmt: skip
    return Instance(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("how", ["stale-heartbeat", "stopped", "forgotten"])
def test_active_runs_of_a_gone_instance_are_failed(service: Service, how: str) -> None:
    store = service.store
    now = datetime.now(UTC)
    heartbeat = now - timedelta(seconds=60) if how == "stale-heartbeat" else now
    gone = _instance(now, last_heartbeat=heartbeat)
    store.cluster.register_instance(gone)
    if how == "stopped":
        store.cluster.mark_stopped(gone.id, now)
    job = shell_job(service, "orphaned", "true", scheduleConfig={"hours": 1})
    execution_id = service.trigger_job(job["id"])["executionId"]
    assert store.executions.mark_running(execution_id, instance_id=gone.id, started_at=now)
    if how == "forgotten":
        store.db.execute("DELETE FROM scheduler_instances WHERE id = :id", {"id": gone.id})
    reaped = reap_dead_instances(store, now=now, ttl=timedelta(seconds=15), me=str(uuid.uuid4()))
    assert reaped == 1
    run = service.get_execution(execution_id)
    assert run["status"] == "failed" and run["errorMessage"].startswith("abandoned: the daemon running it")
    assert reap_dead_instances(store, now=now, ttl=timedelta(seconds=15), me="x") == 0


def test_runs_of_live_instances_are_left_alone(service: Service) -> None:
    store = service.store
    now = datetime.now(UTC)
    alive = _instance(now)
    store.cluster.register_instance(alive)
    job = shell_job(service, "busy", "true", scheduleConfig={"hours": 1})
    execution_id = service.trigger_job(job["id"])["executionId"]
    assert store.executions.mark_running(execution_id, instance_id=alive.id, started_at=now)
    assert reap_dead_instances(store, now=now, ttl=timedelta(seconds=15), me=alive.id) == 0
    assert service.get_execution(execution_id)["status"] == "running"


def test_a_run_asked_to_cancel_is_recorded_cancelled_by_the_reaper(service: Service) -> None:
    """Its daemon died before it confirmed the cancel: ``cancelled`` (not ``failed`` with
    ``cancelledBy`` set), the cancel's reason first (docs/cancelling-runs.md)."""
    store = service.store
    now = datetime.now(UTC)
    gone = _instance(now, last_heartbeat=now - timedelta(seconds=60), hostname="web1", pid=4242)
    store.cluster.register_instance(gone)
    job = shell_job(service, "marked", "true", scheduleConfig={"hours": 1})
    execution_id = service.trigger_job(job["id"])["executionId"]
    assert store.executions.mark_running(execution_id, instance_id=gone.id, started_at=now)
    assert store.executions.request_cancel(execution_id, who="ops", reason="cancelled by ops")
    assert reap_dead_instances(store, now=now, ttl=timedelta(seconds=15), me=str(uuid.uuid4())) == 1
    run = service.get_execution(execution_id)
    assert (run["status"], run["cancelledBy"]) == ("cancelled", "ops")
    assert run["errorMessage"] == (
        "cancelled by ops; abandoned: the daemon running it (web1 pid 4242) stopped heartbeating"
        " before it confirmed the stop"
    )
