"""The remote client returns exactly what the local service returns, and fails the same way.

Both implement :class:`JobService` with its exact signatures; each call below runs both ways
on one store and the answers must be equal.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobctl.client import RemoteService
from jobctl.errors import Conflict, JobctlError, ValidationFailed
from jobctl.service import Service
from jobctl.service.contract import JobService
from tests.remote.helpers import Pair, job_body

UNKNOWN = "3f0c8a40-95a3-4b8e-9d1e-9b5e7b0f2a11"
UNTIL = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
SINCE = (datetime.now(UTC) - timedelta(days=2)).isoformat()
"""A fixed window for timelines, so both calls read the same one."""
Call = Callable[[Any, dict[str, str]], Any]

READS: dict[str, Call] = {
    "task-functions": lambda s, ids: s.list_task_functions(),
    "task-functions-inactive": lambda s, ids: s.list_task_functions(is_active=False),
    "task-functions-page-2": lambda s, ids: s.list_task_functions(page=2, per_page=1),
    "resolve-task-function": lambda s, ids: s.resolve_task_function("shell"),
    "resolve-inactive-task-function": lambda s, ids: s.resolve_task_function("sys"),
    "job-types": lambda s, ids: s.list_job_types(),
    "jobs": lambda s, ids: s.list_jobs(),
    "jobs-by-name": lambda s, ids: s.list_jobs(name="BACK"),
    "jobs-disabled": lambda s, ids: s.list_jobs(is_enabled=False),
    "jobs-enabled": lambda s, ids: s.list_jobs(is_enabled=True),
    "jobs-of-task-function": lambda s, ids: s.list_jobs(task_function_id=1),
    "jobs-by-label": lambda s, ids: s.list_jobs(labels=["team=ops"]),
    "jobs-by-two-labels": lambda s, ids: s.list_jobs(labels=["team=ops", "tier=gold"]),
    "jobs-page-2": lambda s, ids: s.list_jobs(page=2, per_page=3),
    "job": lambda s, ids: s.get_job(ids["backup"]),
    "resolve-job-by-name": lambda s, ids: s.resolve_job("backup"),
    "resolve-job-by-id": lambda s, ids: s.resolve_job(ids["backup"]),
    "jobs-by-id-prefix": lambda s, ids: s.list_jobs(id_prefix=ids["backup"][:8].upper()),
    "resolve-job-by-id-prefix": lambda s, ids: s.resolve_job(ids["backup"][:8]),
    "resolve-job-by-dashed-prefix": lambda s, ids: s.resolve_job(ids["backup"][:11]),
    "executions-by-id-prefix": lambda s, ids: s.list_executions(id_prefix=ids["run"][:4]),
    "resolve-execution-by-id": lambda s, ids: s.resolve_execution(ids["run"]),
    "resolve-execution-by-prefix": lambda s, ids: s.resolve_execution(ids["run"][:6]),
    "executions": lambda s, ids: s.list_executions(),
    "executions-of-job": lambda s, ids: s.list_executions(job_id=ids["backup"]),
    "executions-failed": lambda s, ids: s.list_executions(status="failed", per_page=1),
    "job-executions": lambda s, ids: s.list_job_executions(ids["backup"], status="success"),
    "execution": lambda s, ids: s.get_execution(ids["run"]),
    "log": lambda s, ids: s.get_execution_log(ids["run"]),
    "log-from-offset": lambda s, ids: s.get_execution_log(ids["run"], offset=5),
    "log-of-pending-run": lambda s, ids: s.get_execution_log(ids["pending"]),
    "next-runs": lambda s, ids: s.get_next_runs(ids["backup"]),
    "next-runs-of-cron": lambda s, ids: s.get_next_runs(ids["nightly"], count=100),
    "status": lambda s, ids: s.get_status(),
    "timeline": lambda s, ids: s.get_job_timeline(ids["backup"], since=SINCE, until=UNTIL),
    "timeline-of-cron-job": lambda s, ids: s.get_job_timeline(ids["nightly"], since=SINCE, until=UNTIL),
    "audit": lambda s, ids: s.list_audit(per_page=100),
    "audit-of-job": lambda s, ids: s.list_audit(job_id=ids["backup"], since="1d"),
    "audit-of-actor": lambda s, ids: s.list_audit(actor="admin-token", page=2, per_page=2),
    "leading-daemon": lambda s, ids: s.leading_daemon(),
}

FAILURES: dict[str, Call] = {
    "label-filter-without-value": lambda s, ids: s.list_jobs(labels=["team"]),
    "label-filter-with-a-bad-key": lambda s, ids: s.list_jobs(labels=["Team=ops"]),
    "bad-label-in-body": lambda s, ids: s.update_job(ids["backup"], {"labels": {"team": 1}}),
    "unknown-job": lambda s, ids: s.get_job(UNKNOWN),
    "timeline-of-unknown-job": lambda s, ids: s.get_job_timeline(UNKNOWN),
    "timeline-reversed": lambda s, ids: s.get_job_timeline(ids["backup"], since="1h", until="2h"),
    "timeline-over-366-days": lambda s, ids: s.get_job_timeline(ids["backup"], since="367d"),
    "timeline-bad-until": lambda s, ids: s.get_job_timeline(ids["backup"], until="yesterday"),
    "audit-bad-job-id": lambda s, ids: s.list_audit(job_id="nope"),
    "audit-bad-since": lambda s, ids: s.list_audit(since="2026-13-01"),
    "audit-page-0": lambda s, ids: s.list_audit(page=0),
    "next-runs-of-unknown-job": lambda s, ids: s.get_next_runs(UNKNOWN),
    "next-runs-count-0": lambda s, ids: s.get_next_runs(ids["backup"], count=0),
    "next-runs-count-101": lambda s, ids: s.get_next_runs(ids["backup"], count=101),
    "malformed-job-id": lambda s, ids: s.get_job("not-an-id"),
    "empty-job-id": lambda s, ids: s.get_job(""),
    "dotted-job-id": lambda s, ids: s.update_job("..", {"name": "x"}),
    "unknown-job-name": lambda s, ids: s.resolve_job("no-such-job"),
    "unknown-job-uuid-ref": lambda s, ids: s.resolve_job(UNKNOWN),
    "overlong-job-name": lambda s, ids: s.resolve_job("x" * 300),
    "unknown-task-function": lambda s, ids: s.resolve_task_function("nope"),
    "too-short-id-prefix": lambda s, ids: s.resolve_job(ids["backup"][:3]),
    "unknown-execution-ref": lambda s, ids: s.resolve_execution("not-an-id"),
    "too-short-execution-prefix": lambda s, ids: s.resolve_execution(ids["run"][:3]),
    "bad-id-prefix-filter": lambda s, ids: s.list_jobs(id_prefix="xyz"),
    "bad-execution-id-prefix-filter": lambda s, ids: s.list_executions(id_prefix="-abc"),
    "unknown-execution": lambda s, ids: s.get_execution(UNKNOWN),
    "malformed-execution-log": lambda s, ids: s.get_execution_log("nope"),
    "job-executions-of-unknown-job": lambda s, ids: s.list_job_executions(UNKNOWN),
    "trigger-disabled": lambda s, ids: s.trigger_job(ids["disabled"]),
    "delete-system-job": lambda s, ids: s.delete_job(ids["protected"]),
    "duplicate-name": lambda s, ids: s.create_job(job_body("backup")),
    "rename-to-taken": lambda s, ids: s.update_job(ids["disabled"], {"name": "backup"}),
    "bad-cron": lambda s, ids: s.create_job(job_body("c", jobTypeId=2, scheduleConfig={"hour": "24"})),
    "unknown-field": lambda s, ids: s.update_job(ids["backup"], {"nmae": "x"}),
    "empty-status": lambda s, ids: s.set_job_status(ids["backup"], {}),
    "wrong-type": lambda s, ids: s.create_job(job_body("t", maxInstances="2")),
    "page-zero": lambda s, ids: s.list_jobs(page=0),
    "per-page-too-big": lambda s, ids: s.list_executions(per_page=101),
    "unknown-status": lambda s, ids: s.list_executions(status="done"),
    "malformed-job-filter": lambda s, ids: s.list_executions(job_id="x"),
    "negative-log-offset": lambda s, ids: s.get_execution_log(ids["run"], offset=-1),
    "cancel-ended-run": lambda s, ids: s.cancel_execution(ids["run"]),
    "cancel-unknown-execution": lambda s, ids: s.cancel_execution(UNKNOWN),
    "cancel-malformed-execution-id": lambda s, ids: s.cancel_execution("nope"),
}


def _public(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}


def test_both_services_have_exactly_the_contract() -> None:
    """mypy proves both conform to :class:`JobService`; this also keeps the local service free of
    public methods outside the contract, which remote mode would lack."""
    contract = _public(JobService)
    assert _public(Service) == contract
    assert _public(RemoteService) - {"close"} == contract
    for name in contract:
        expected = str(inspect.signature(getattr(JobService, name)))
        assert str(inspect.signature(getattr(Service, name))) == expected, name
        assert str(inspect.signature(getattr(RemoteService, name))) == expected, name


@pytest.mark.parametrize("call", READS.values(), ids=list(READS))
def test_reads_are_the_same(shared_pair: Pair, call: Call) -> None:
    assert call(shared_pair.remote, shared_pair.ids) == call(shared_pair.local, shared_pair.ids)


@pytest.mark.parametrize("call", FAILURES.values(), ids=list(FAILURES))
def test_failures_are_the_same(shared_pair: Pair, call: Call) -> None:
    with pytest.raises(JobctlError) as local:
        call(shared_pair.local, shared_pair.ids)
    with pytest.raises(JobctlError) as remote:
        call(shared_pair.remote, shared_pair.ids)
    assert type(remote.value) is type(local.value)
    assert remote.value.exit_code == local.value.exit_code
    if isinstance(local.value, ValidationFailed):
        assert isinstance(remote.value, ValidationFailed)
        assert [e["loc"] for e in remote.value.errors] == [e["loc"] for e in local.value.errors]
        if local.value.errors[0]["loc"][0] == "body":  # the service validated it on both sides
            assert remote.value.errors == local.value.errors
    else:
        assert remote.value.message == local.value.message


def test_create_returns_the_stored_job(shared_pair: Pair) -> None:
    created = shared_pair.remote.create_job(job_body(f"new-{uuid.uuid4().hex[:6]}", description="from remote"))
    stored = shared_pair.local.get_job(created["id"])
    assert created == {key: value for key, value in stored.items() if key in created}
    assert created["createdBy"] == "admin-token"


@pytest.mark.parametrize(
    ("method", "body"),
    [("update_job", {"description": "changed", "retryCount": 2}), ("set_job_status", {"isPaused": True})],
    ids=["update", "status"],
)
def test_writes_return_what_the_service_then_reads(shared_pair: Pair, method: str, body: dict[str, Any]) -> None:
    job = shared_pair.local.create_job(job_body(f"w-{uuid.uuid4().hex[:6]}"))
    assert getattr(shared_pair.remote, method)(job["id"], body) == shared_pair.local.get_job(job["id"])


def test_trigger_and_delete(shared_pair: Pair) -> None:
    job = shared_pair.local.create_job(job_body(f"t-{uuid.uuid4().hex[:6]}"))
    triggered = shared_pair.remote.trigger_job(job["id"])
    execution = shared_pair.local.get_execution(triggered["executionId"])
    assert (execution["status"], execution["triggeredBy"], execution["triggeredByUserId"]) == (
        "pending", "manual", "admin-token")  # fmt: skip
    with pytest.raises(Conflict) as remote_refusal:
        shared_pair.remote.delete_job(job["id"])  # the triggered run waits
    with pytest.raises(Conflict) as local_refusal:
        shared_pair.local.delete_job(job["id"])
    assert remote_refusal.value.message == local_refusal.value.message
    assert triggered["executionId"] in remote_refusal.value.message
    assert shared_pair.remote.delete_job(job["id"], force=True) is None
    with pytest.raises(JobctlError):
        shared_pair.local.get_job(job["id"])


def test_cancel_of_a_pending_run_returns_what_the_service_then_reads(shared_pair: Pair) -> None:
    job = shared_pair.local.create_job(job_body(f"c-{uuid.uuid4().hex[:6]}"))
    execution_id = shared_pair.local.trigger_job(job["id"])["executionId"]
    cancelled = shared_pair.remote.cancel_execution(execution_id)
    assert cancelled == shared_pair.local.get_execution(execution_id)
    assert (cancelled["status"], cancelled["cancelledBy"]) == ("cancelled", "admin-token")
    listed = shared_pair.remote.list_executions(job_id=job["id"], status="cancelled")
    assert listed == shared_pair.local.list_executions(job_id=job["id"], status="cancelled")
    assert [e["id"] for e in listed["executions"]] == [execution_id]
    with pytest.raises(Conflict):
        shared_pair.local.cancel_execution(execution_id)


def test_resolve_job_pages_through_partial_matches(shared_pair: Pair) -> None:
    names = [f"pager-{n:03d}" for n in range(105)]
    for name in names:
        shared_pair.local.create_job(job_body(name))
    assert shared_pair.remote.resolve_job("pager-104") == shared_pair.local.resolve_job("pager-104")


def test_both_services_say_whether_a_live_daemon_leads_and_whether_it_heartbeats(pair: Pair) -> None:
    """The rules of ``isRunning`` (an instance that has not stopped holds an unexpired lease) and
    of ``leaderHeartbeatOverdue`` (it missed two heartbeats, the TTL read from the store)."""
    from datetime import UTC, datetime, timedelta

    from jobctl.models import Instance

    def leader() -> tuple[int, bool] | None:
        """The leader's pid and whether it is overdue, the same from both services."""
        local, remote = pair.local.leading_daemon(), pair.remote.leading_daemon()
        assert local == remote
        return None if local is None else (local.pid, local.heartbeat_overdue)

    cluster, now, ttl = pair.store.cluster, datetime.now(UTC), timedelta(seconds=60)
    assert leader() is None, "no daemon ever ran"
    assert cluster.acquire_or_renew_lease("ghost", ttl) is not None
    assert leader() is None, "the lease is held, but by no live instance (a standby sees this)"
    cluster.release_lease("ghost")
    cluster.register_instance(Instance(id="i1", hostname="h", pid=1, version="0", started_at=now,
                                       last_heartbeat=now, stopped_at=None))  # fmt: skip
    assert leader() is None, "a standby alone"
    assert cluster.acquire_or_renew_lease("i1", ttl) is not None
    cluster.heartbeat("i1", datetime.now(UTC))
    assert leader() == (1, False)
    cluster.heartbeat("i1", datetime.now(UTC) - timedelta(seconds=50))  # the TTL read is 110 s: 44 s is overdue
    assert leader() == (1, True), "silent for two heartbeats, its lease running on"
    pair.store.db.execute("UPDATE leases SET expires_at = :past", {"past": now - ttl})  # the store's clock moved on
    assert leader() is None, "its lease expired"
    assert cluster.acquire_or_renew_lease("i1", ttl) is not None
    cluster.mark_stopped("i1", now)
    assert leader() is None, "it stopped"


def test_an_ambiguous_prefix_fails_alike(shared_pair: Pair) -> None:
    """Two ids sharing a start: both modes refuse the shared part (exit 2, naming both) and take a longer one."""
    import dataclasses

    from jobctl.errors import AmbiguousId
    from jobctl.models import JobSettings
    from jobctl.store.writes import NO_NEXT_SLOT, NewJob

    store, local = shared_pair.store, shared_pair.local
    job = store.jobs.get(shared_pair.ids["backup"])
    assert job is not None
    base = str(uuid.uuid4())
    twins = [base[:6] + tail + base[7:] for tail in "ab"]
    for number, twin in enumerate(twins):
        settings = {f.name: getattr(job, f.name) for f in dataclasses.fields(JobSettings)}
        settings["name"] = f"twin-{number}-{base[:4]}"
        store.jobs.insert(NewJob(id=twin, settings=JobSettings(**settings), next=NO_NEXT_SLOT,
                                 created_at=job.created_at, created_by=None))  # fmt: skip
    failures = []
    for service in (local, shared_pair.remote):
        with pytest.raises(AmbiguousId) as caught:
            service.resolve_job(base[:6])
        failures.append(caught.value)
        assert service.resolve_job(twins[1][:7]) == twins[1]
    assert failures[0].message == failures[1].message and failures[0].exit_code == 2
    assert all(twin in failures[0].message for twin in twins)


def test_overview_is_the_same_but_for_its_time(shared_pair: Pair) -> None:
    remote, local = shared_pair.remote.get_overview(), shared_pair.local.get_overview()
    assert remote.pop("generatedAt") and local.pop("generatedAt")  # type: ignore[misc]
    assert remote == local
    assert [slot["jobName"] for slot in local["upcoming"]], "the shared store has scheduled jobs"
