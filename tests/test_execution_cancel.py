"""Cancelling runs at the service and store level (real SQLite file and real Postgres).

Pending runs end at once; a running run's request goes through the store (the daemon side is in
tests/daemon/test_cancel_run.py). See docs/cancelling-runs.md.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobctl.errors import Conflict, NotFound, PermissionDenied
from jobctl.models import Caller, ExecutionStatus, Role
from jobctl.service import Service
from jobctl.store import Store
from jobctl.store.executions import FinishedRun, StopRequest
from jobctl.store.writes import NewExecution
from tests.conftest import TEST_ZONE

UNKNOWN = "3f0c8a40-95a3-4b8e-9d1e-9b5e7b0f2a11"


def make_job(service: Service, name: str = "nightly", **fields: Any) -> dict[str, Any]:
    body = {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
            "taskArgs": {"command": "true"}, **fields}  # fmt: skip
    return service.create_job(body)


def as_role(store: Store, role: Role, name: str) -> Service:
    return Service(store, Caller(user_id=name, role=role), default_timezone=TEST_ZONE, kill_grace_seconds=0)


def test_a_pending_manual_run_is_cancelled_at_once_and_only_once(service: Service, store: Store) -> None:
    job = make_job(service)
    execution_id = service.trigger_job(job["id"])["executionId"]
    operator = as_role(store, Role.OPERATOR, "ops-token")
    cancelled = operator.cancel_execution(execution_id)
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelledBy"] == "ops-token"
    assert cancelled["errorMessage"] == "cancelled by ops-token"
    assert cancelled["completedAt"] is not None and cancelled["startedAt"] is None
    assert service.get_execution(execution_id) == cancelled
    assert store.executions.startable(datetime.now(UTC) + timedelta(days=1), limit=10) == []
    with pytest.raises(Conflict, match=r"already ended \(cancelled\)"):
        operator.cancel_execution(execution_id)
    service.trigger_job(job["id"])  # the job's slot is free again (maxInstances 1)
    [entry] = [e for e in store.audit.of_target("job", job["id"], until=datetime.now(UTC))
               if e.action == "execution.cancelled"]  # fmt: skip
    assert (entry.actor, entry.details) == ("ops-token", {"executionId": execution_id, "was": "pending"})


def test_a_waiting_retry_is_cancelled(service: Service, store: Store) -> None:
    job = make_job(service)
    first = store.executions.get(service.trigger_job(job["id"])["executionId"])
    assert first is not None
    now = datetime.now(UTC)
    retry = NewExecution.retry_of(first, now=now, run_after=now + timedelta(hours=1))
    store.executions.insert(retry)
    store.executions.finish(first.id, status="failed", started_at=now, completed_at=now, duration_seconds=0.0,
                            result=None, error_message="exit 1")  # fmt: skip
    cancelled = service.cancel_execution(retry.id)
    assert (cancelled["status"], cancelled["attempt"], cancelled["cancelledBy"]) == ("cancelled", 2, "tester")
    assert store.executions.earliest_run_after(now) is None, "nothing waits any more"


def test_cancel_refuses_finished_unknown_and_viewers(service: Service, store: Store) -> None:
    job = make_job(service)
    execution_id = service.trigger_job(job["id"])["executionId"]
    now = datetime.now(UTC)
    store.executions.finish(execution_id, status="success", started_at=now, completed_at=now, duration_seconds=0.1,
                            result=None, error_message=None)  # fmt: skip
    with pytest.raises(Conflict) as refused:
        service.cancel_execution(execution_id)
    assert refused.value.exit_code == 4
    assert service.get_execution(execution_id)["status"] == "success", "a refused cancel changes nothing"
    with pytest.raises(NotFound):
        service.cancel_execution(UNKNOWN)
    with pytest.raises(NotFound):
        service.cancel_execution("not-an-id")
    pending = service.trigger_job(job["id"])["executionId"]
    with pytest.raises(PermissionDenied):
        as_role(store, Role.VIEWER, "reader").cancel_execution(pending)
    assert service.get_execution(pending)["status"] == "pending"


def test_a_running_run_is_marked_for_its_daemon_and_recorded_when_none_confirms(
    service: Service, store: Store, store_url: str
) -> None:
    """No daemon here: the mark is written for the instance running it, then, after the kill
    grace (0 here) and the margin, the service records the run itself."""
    if not store_url.startswith("sqlite"):
        pytest.skip("waiting is the service's, the same on either store: checked on SQLite")
    job = make_job(service)
    execution_id = service.trigger_job(job["id"])["executionId"]
    assert store.executions.mark_running(execution_id, instance_id="gone", started_at=datetime.now(UTC))
    begun = time.monotonic()
    cancelled = as_role(store, Role.ADMIN, "boss").cancel_execution(execution_id)
    assert 2.9 < time.monotonic() - begun < 6
    assert cancelled["status"] == "cancelled" and cancelled["cancelledBy"] == "boss"
    assert cancelled["errorMessage"] == "cancelled by boss; its daemon did not confirm the stop within 3s"
    assert store.executions.running_of_instance("gone") == {}


def test_the_running_instance_sees_the_request(service: Service, store: Store) -> None:
    job = make_job(service)
    execution_id = service.trigger_job(job["id"])["executionId"]
    assert store.executions.mark_running(execution_id, instance_id="i1", started_at=datetime.now(UTC))
    assert store.executions.running_of_instance("i1") == {execution_id: None}
    assert store.executions.request_cancel(execution_id, who="ops", reason="cancelled by ops")
    assert store.executions.running_of_instance("i1") == {execution_id: StopRequest("cancelled by ops", "ops")}


@pytest.mark.parametrize("outcome", ["failed", "timeout", "success"])
def test_a_run_that_ends_on_its_own_after_a_cancel_request_is_recorded_cancelled_unless_it_succeeded(
    service: Service, store: Store, outcome: str
) -> None:
    """The run may end before its daemon sees the request: it is still recorded ``cancelled``
    (and so never retried), with the job's last status the same."""
    job = make_job(service, retryCount=3)
    execution_id = service.trigger_job(job["id"])["executionId"]
    now = datetime.now(UTC)
    assert store.executions.mark_running(execution_id, instance_id="i1", started_at=now)
    assert store.executions.request_cancel(execution_id, who="ops", reason="cancelled by ops")
    run = FinishedRun(
        execution_id=execution_id,
        status=outcome,
        started_at=now,
        completed_at=now,
        duration_seconds=0.2,
        result=None,
        error_message="exit 1" if outcome != "success" else None,
    )
    assert store.executions.finish_run(run)
    expected = "success" if outcome == "success" else ExecutionStatus.CANCELLED.value
    assert service.get_execution(execution_id)["status"] == expected
    assert service.get_job(job["id"])["lastStatus"] == expected
