"""The service layer (the API's operations) over a real store, on both backends."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jobctl.config import config_from_dict
from jobctl.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from jobctl.models import Caller, ExecutionStatus, Instance, Role, TaskFunctionSpec, TriggeredBy
from jobctl.service import Service
from jobctl.service.registry import sync_task_functions
from jobctl.service.tokens import authenticate, create_token, list_tokens, revoke_token
from jobctl.store import Store
from jobctl.store.writes import NewExecution

BERLIN = ZoneInfo("Europe/Berlin")

TASK_FUNCTION_KEYS = {"id", "name", "displayName", "description", "handlerPath", "handlerType", "queue",
                      "defaultTimeoutSeconds", "isActive", "isSystem", "createdAt"}  # fmt: skip
JOB_TYPE_KEYS = {"id", "name", "displayName", "description"}
JOB_KEYS = {"id", "name", "description", "taskFunctionId", "jobTypeId", "scheduleConfig", "taskArgs", "maxInstances",
            "timeoutSeconds", "retryCount", "retryDelaySeconds", "isEnabled", "isPaused", "nextRunTime",
            "lastRunTime", "lastStatus", "createdAt", "updatedAt", "createdBy", "updatedBy",
            "misfirePolicy", "labels", "environment", "workingDirectory", "umask", "nice", "stdin",
            "runAsUser", "runAsGroup", "source", "notify", "pauseAfterFailures", "pausedReason", "pausedBy",
            "pausedAt", "startGraceSeconds", "maxRuntimeAlertSeconds", "expectSuccessWithinSeconds",
            "retryBackoff", "retryMaxDelaySeconds", "retryOnExitCodes"}  # fmt: skip
JOB_KEYS |= {"overlapPolicy", "maxQueued", "concurrencyGroup"}
JOB_DETAIL_KEYS = JOB_KEYS | {"taskFunction", "jobType", "recentExecutions"}
EXECUTION_KEYS = {"id", "jobId", "celeryTaskId", "status", "startedAt", "completedAt", "durationSeconds", "result",
                  "errorMessage", "triggeredBy", "triggeredByUserId",
                  "scheduledFor", "attempt", "instanceId", "outputDroppedBytes", "outputPruned",
                  "cancelledBy", "missedCount", "missedUntil",
                  "pendingReason", "createdAt"}  # fmt: skip
INSTANCE_KEYS = {"id", "hostname", "pid", "isLeader", "leaderSince", "lastHeartbeat", "startedAt", "version"}
STATUS_KEYS = {"isRunning", "leaderInstance", "totalJobs", "enabledJobs", "runningJobs", "nextScheduledJob",
               "instances"}  # fmt: skip
STATUS_KEYS |= {"concurrencyGroups", "leaseExpiresAt", "leaderHeartbeatOverdue", "pausedJobs"}
JOB_LIST_KEYS = {"jobs", "total", "enabledCount", "disabledCount", "runningCount", "nextCursor"}
TRIGGER_KEYS = {"jobId", "executionId", "celeryTaskId", "message"}


def body(name: str = "job", **overrides: Any) -> dict[str, Any]:
    """A valid ``POST /jobs`` body: the shell task every five minutes."""
    return {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
            "taskArgs": {"command": "echo hi"}, **overrides}  # fmt: skip


def cron_body(name: str, config: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return body(name, jobTypeId=2, scheduleConfig=config, **overrides)


def ts(text: str | None) -> datetime:
    assert text is not None and text.endswith("Z"), text
    return datetime.fromisoformat(text)


def as_role(store: Store, role: Role) -> Service:
    return Service(store, Caller(user_id=f"{role.value}-user", role=role), default_timezone="Europe/Berlin")


def writes(store: Store) -> tuple[int, int, int]:
    """Jobs, executions and the change counter: equal before and after means nothing was written."""
    return (int(store.db.scalar("SELECT COUNT(*) FROM jobs")), int(store.db.scalar("SELECT COUNT(*) FROM executions")),
            store.cluster.generation())  # fmt: skip


def next_wall_time(after: datetime, zone: ZoneInfo, hour: int, minute: int) -> datetime:
    """The first ``hour:minute`` wall time in ``zone`` at or after ``after``, in UTC (no DST edge cases here)."""
    local = after.astimezone(zone)
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate < local:
        day = (local + timedelta(days=1)).date()
        candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return candidate.astimezone(UTC)


def add_system_task_function(store: Store) -> int:
    spec = TaskFunctionSpec(name="sys_sync", display_name="System sync", description="protected",
                            handler_type="command", handler_path="/bin/true", is_system=True)  # fmt: skip
    return store.catalog.upsert_task_function(spec, datetime.now(UTC)).id


# -- shapes --------------------------------------------------------------------------------


def test_every_method_returns_the_seed_shape(store: Store, service: Service) -> None:
    now = datetime.now(UTC)
    store.cluster.register_instance(Instance(id=str(uuid.uuid4()), hostname="h1", pid=42, version="1.0",
                                             started_at=now, last_heartbeat=now, stopped_at=None))  # fmt: skip
    leader = store.cluster.live_instances()[0]
    assert store.cluster.acquire_or_renew_lease(leader.id, timedelta(seconds=60)) is not None

    created = service.create_job(body("shape", description="d", timeoutSeconds=60))
    assert set(created) == JOB_KEYS
    detail = service.get_job(created["id"])
    assert set(detail) == JOB_DETAIL_KEYS
    assert set(detail["taskFunction"]) == TASK_FUNCTION_KEYS and set(detail["jobType"]) == JOB_TYPE_KEYS
    listed = service.list_jobs()
    assert set(listed) == JOB_LIST_KEYS and all(set(job) == JOB_KEYS for job in listed["jobs"])
    assert set(service.update_job(created["id"], {"description": "e"})) == JOB_DETAIL_KEYS
    assert set(service.set_job_status(created["id"], {"isPaused": False})) == JOB_DETAIL_KEYS
    triggered = service.trigger_job(created["id"])
    assert set(triggered) == TRIGGER_KEYS
    executions = service.list_executions()
    assert set(executions) == {"executions", "total", "nextCursor"}
    assert set(executions["executions"][0]) == EXECUTION_KEYS
    assert service.list_job_executions(created["id"]) == executions
    assert set(service.get_execution(triggered["executionId"])) == EXECUTION_KEYS
    assert set(service.get_job(created["id"])["recentExecutions"][0]) == EXECUTION_KEYS
    assert set(service.get_execution_log(triggered["executionId"])) == {"data", "nextOffset", "complete"}
    functions = service.list_task_functions()
    assert set(functions) == {"taskFunctions", "total"} and set(functions["taskFunctions"][0]) == TASK_FUNCTION_KEYS
    job_types = service.list_job_types()
    assert [(t["id"], t["name"]) for t in job_types] == [(1, "interval"), (2, "cron"), (3, "date")]
    assert all(set(t) == JOB_TYPE_KEYS for t in job_types)
    status = service.get_status()
    assert set(status) == STATUS_KEYS
    assert status["isRunning"] is True
    assert set(status["leaderInstance"]) == INSTANCE_KEYS and status["leaderInstance"]["id"] == leader.id
    assert [set(i) for i in status["instances"]] == [INSTANCE_KEYS]
    assert status["nextScheduledJob"] == {"id": created["id"], "name": "shape",
                                          "nextRunTime": service.get_job(created["id"])["nextRunTime"]}  # fmt: skip
    for document in (created, detail, listed, executions, functions, status):
        json.dumps(document)  # plain JSON values only


def test_timestamps_are_utc_with_z_and_ids_are_uuids(service: Service) -> None:
    created = service.create_job(body("times"))
    for key in ("createdAt", "updatedAt", "nextRunTime"):
        assert ts(created[key]).tzinfo == UTC
    assert str(uuid.UUID(created["id"])) == created["id"]
    run = service.get_execution(service.trigger_job(created["id"])["executionId"])
    assert str(uuid.UUID(run["id"])) == run["id"]


# -- create, next run time ---------------------------------------------------------------


def test_interval_job_next_run_is_one_period_after_creation(service: Service) -> None:
    created = service.create_job(body("every-90m", scheduleConfig={"hours": 1, "minutes": 30}))
    assert ts(created["nextRunTime"]) - ts(created["createdAt"]) == timedelta(minutes=90)
    assert (created["isEnabled"], created["isPaused"], created["misfirePolicy"]) == (True, False, "run_once")
    assert (created["createdBy"], created["updatedBy"]) == ("tester", "tester")
    assert (created["lastRunTime"], created["lastStatus"]) == (None, None)


@pytest.mark.parametrize(
    ("config", "zone"),
    [
        ({"hour": "9", "minute": "0"}, BERLIN),
        ({"hour": "9", "minute": "0", "timezone": "America/New_York"}, ZoneInfo("America/New_York")),
        ({"expression": "0 9 * * *"}, BERLIN),
    ],
    ids=["fields-default-zone", "fields-own-zone", "expression"],
)
def test_cron_job_next_run_is_the_next_wall_time_in_its_zone(service: Service, config: dict[str, Any],
                                                              zone: ZoneInfo) -> None:  # fmt: skip
    created = service.create_job(cron_body("nine", config))
    assert ts(created["nextRunTime"]) == next_wall_time(ts(created["createdAt"]), zone, 9, 0)
    assert created["scheduleConfig"]["timezone"] == zone.key  # the zone is fixed at creation


def test_next_run_is_null_while_disabled_or_paused_and_recomputed_after(service: Service) -> None:
    job = service.create_job(cron_body("daily", {"hour": "9", "minute": "0"}, isEnabled=False))
    assert job["nextRunTime"] is None
    enabled = service.set_job_status(job["id"], {"isEnabled": True})
    assert ts(enabled["nextRunTime"]) == next_wall_time(ts(enabled["updatedAt"]), BERLIN, 9, 0)
    paused = service.set_job_status(job["id"], {"isPaused": True})
    assert (paused["isEnabled"], paused["isPaused"], paused["nextRunTime"]) == (True, True, None)
    resumed = service.set_job_status(job["id"], {"isPaused": False})
    assert ts(resumed["nextRunTime"]) == next_wall_time(ts(resumed["updatedAt"]), BERLIN, 9, 0)
    both = service.set_job_status(job["id"], {"isEnabled": False, "isPaused": True})
    assert (both["isEnabled"], both["isPaused"], both["nextRunTime"]) == (False, True, None)
    assert service.get_job(job["id"])["nextRunTime"] is None
    paused_at_create = service.create_job(body("paused", isPaused=True))
    assert paused_at_create["nextRunTime"] is None


def test_update_changes_only_what_was_sent_and_recomputes_the_schedule(service: Service) -> None:
    job = service.create_job(body("upd", description="old", retryCount=2))
    kept = service.update_job(job["id"], {"description": "new"})
    assert (kept["description"], kept["retryCount"], kept["nextRunTime"]) == ("new", 2, job["nextRunTime"])
    moved = service.update_job(job["id"], {"jobTypeId": 2, "scheduleConfig": {"hour": "9", "minute": "0"},
                                           "timeoutSeconds": 3600, "name": "renamed"})  # fmt: skip
    assert ts(moved["nextRunTime"]) == next_wall_time(ts(moved["updatedAt"]), BERLIN, 9, 0)
    assert (moved["name"], moved["timeoutSeconds"], moved["jobType"]["name"]) == ("renamed", 3600, "cron")
    off = service.update_job(job["id"], {"isEnabled": False})
    assert off["nextRunTime"] is None
    cleared = service.update_job(job["id"], {"timeoutSeconds": None, "description": None})
    assert (cleared["timeoutSeconds"], cleared["description"]) == (None, None)


# -- conflicts -----------------------------------------------------------------------------


def test_duplicate_name_is_a_conflict_and_writes_nothing(store: Store, service: Service) -> None:
    first = service.create_job(body("same"))
    other = service.create_job(body("other"))
    before = writes(store)
    with pytest.raises(Conflict):
        service.create_job(body("same"))
    with pytest.raises(Conflict):
        service.update_job(other["id"], {"name": "same"})
    assert writes(store) == before
    assert service.get_job(other["id"])["name"] == "other"
    assert service.resolve_job("same") == first["id"]


def test_trigger_records_a_pending_manual_run(store: Store, service: Service) -> None:
    job = service.create_job(body("trig", isPaused=True))  # paused: manual triggers still allowed
    result = service.trigger_job(job["id"])
    assert (result["jobId"], result["celeryTaskId"]) == (job["id"], None)
    run = service.get_execution(result["executionId"])
    assert (run["status"], run["triggeredBy"], run["triggeredByUserId"]) == ("pending", "manual", "tester")
    assert (run["scheduledFor"], run["attempt"], run["startedAt"], run["celeryTaskId"]) == (None, 1, None, None)
    assert service.get_job(job["id"])["recentExecutions"][0]["id"] == run["id"]


def test_trigger_of_a_disabled_job_is_a_conflict(store: Store, service: Service) -> None:
    job = service.create_job(body("off", isEnabled=False))
    before = writes(store)
    with pytest.raises(Conflict, match="disabled"):
        service.trigger_job(job["id"])
    assert writes(store) == before


def test_trigger_at_max_instances_is_a_conflict(store: Store, service: Service) -> None:
    job = service.create_job(body("busy", maxInstances=2))
    first = service.trigger_job(job["id"])["executionId"]
    service.trigger_job(job["id"])
    before = writes(store)
    with pytest.raises(Conflict, match="maxInstances"):
        service.trigger_job(job["id"])
    assert writes(store) == before
    assert store.executions.mark_running(first, instance_id="i", started_at=datetime.now(UTC))
    with pytest.raises(Conflict):  # running counts as well as pending
        service.trigger_job(job["id"])
    now = datetime.now(UTC)
    assert store.executions.finish(first, status="success", started_at=None, completed_at=now, duration_seconds=0.1,
                                   result={"exitCode": 0}, error_message=None)  # fmt: skip
    service.trigger_job(job["id"])  # a slot is free again
    assert service.list_jobs()["runningCount"] == 0


@pytest.mark.parametrize(
    "disable",
    [lambda s, job_id: s.set_job_status(job_id, {"isEnabled": False}),
     lambda s, job_id: s.update_job(job_id, {"isEnabled": False})],
    ids=["status", "update"],
)  # fmt: skip
def test_disabling_ends_runs_that_have_not_started(
    store: Store, service: Service, disable: Callable[[Service, str], Any]
) -> None:
    job = service.create_job(body("soon", maxInstances=3))
    waiting = service.trigger_job(job["id"])["executionId"]
    started = service.trigger_job(job["id"])["executionId"]
    assert store.executions.mark_running(started, instance_id="i", started_at=datetime.now(UTC))
    disable(service, job["id"])
    ended = service.get_execution(waiting)
    assert (ended["status"], ended["errorMessage"]) == ("skipped", "job disabled by tester before the run started")
    assert ended["startedAt"] is None and ended["completedAt"] is not None
    assert service.get_execution(started)["status"] == "running"  # a started run goes on
    service.set_job_status(job["id"], {"isEnabled": True})
    assert service.get_execution(waiting)["status"] == "skipped"  # enabling does not bring it back


def test_pausing_keeps_runs_that_have_not_started(service: Service) -> None:
    job = service.create_job(body("later"))
    waiting = service.trigger_job(job["id"])["executionId"]
    service.set_job_status(job["id"], {"isPaused": True})
    assert service.get_execution(waiting)["status"] == "pending"


def test_delete_removes_the_job_and_its_history(store: Store, service: Service) -> None:
    job = service.create_job(body("gone"))
    run = service.trigger_job(job["id"])["executionId"]
    assert store.executions.finish(run, status="success", started_at=None, completed_at=datetime.now(UTC),
                                   duration_seconds=0.1, result={"exitCode": 0}, error_message=None)  # fmt: skip
    service.delete_job(job["id"])
    for call in (lambda: service.get_job(job["id"]), lambda: service.get_execution(run),
                 lambda: service.delete_job(job["id"]), lambda: service.resolve_job("gone")):  # fmt: skip
        with pytest.raises(NotFound):
            call()
    assert writes(store)[:2] == (0, 0)


def test_delete_of_a_job_with_active_runs_is_a_conflict_naming_them(store: Store, service: Service) -> None:
    job = service.create_job(body("busy", maxInstances=2))
    waiting = service.trigger_job(job["id"])["executionId"]
    running = service.trigger_job(job["id"])["executionId"]
    assert store.executions.mark_running(running, instance_id="i", started_at=datetime.now(UTC))
    before = writes(store)
    with pytest.raises(Conflict) as caught:
        service.delete_job(job["id"])
    assert caught.value.message == (
        f"job 'busy' has 2 active runs: {waiting} (pending), {running} (running); "
        "delete with force (jobs delete --force, DELETE ?force=true) to stop them first"
    )
    assert writes(store) == before
    assert service.get_job(job["id"])["isEnabled"] is True


def test_a_forced_delete_ends_waiting_runs_without_a_daemon(store: Store, service: Service) -> None:
    """Nothing is running, so nothing waits for a daemon: the pending run is skipped and goes with the job."""
    job = service.create_job(body("queued"))
    waiting = service.trigger_job(job["id"])["executionId"]
    seen: list[tuple[str, str | None]] = []
    original = store.jobs.delete

    def delete_seeing_the_run(job_id: str) -> bool:
        ended = store.executions.get(waiting)
        assert ended is not None
        seen.append((ended.status, ended.error_message))
        return original(job_id)

    store.jobs.delete = delete_seeing_the_run  # type: ignore[method-assign]
    service.delete_job(job["id"], force=True)
    assert seen == [("skipped", "job deleted by tester before the run started")]
    for call in (lambda: service.get_job(job["id"]), lambda: service.get_execution(waiting)):
        with pytest.raises(NotFound):
            call()


def test_a_forced_delete_records_a_run_no_daemon_confirms(store: Store, service: Service) -> None:
    """A running row whose daemon is gone: after the wait, the service records the stop itself."""
    from jobctl.service.job_delete import stop_runs_for_delete

    job = service.create_job(body("orphan"))
    run = service.trigger_job(job["id"])["executionId"]
    assert store.executions.mark_running(run, instance_id="gone", started_at=datetime.now(UTC))
    stop_runs_for_delete(store, store.jobs.get(job["id"]), "tester", wait_seconds=0.2)  # type: ignore[arg-type]
    ended = service.get_execution(run)
    assert ended["status"] == "failed"
    assert ended["errorMessage"] == (
        "stopped: job 'orphan' deleted by tester; its daemon did not confirm the stop within 0.2s"
    )
    assert service.get_job(job["id"])["isEnabled"] is False
    service.delete_job(job["id"])  # nothing active is left


def test_delete_of_a_system_task_function_job_is_a_conflict(store: Store, service: Service) -> None:
    system_id = add_system_task_function(store)
    job = service.create_job(body("protected", taskFunctionId=system_id, taskArgs=None))
    before = writes(store)
    with pytest.raises(Conflict, match="system"):
        service.delete_job(job["id"])
    assert writes(store) == before
    assert service.get_job(job["id"])["taskFunction"]["isSystem"] is True


@pytest.mark.parametrize(
    "call",
    [
        lambda s, ref: s.get_job(ref),
        lambda s, ref: s.update_job(ref, {"description": "x"}),
        lambda s, ref: s.delete_job(ref),
        lambda s, ref: s.set_job_status(ref, {"isEnabled": False}),
        lambda s, ref: s.trigger_job(ref),
        lambda s, ref: s.list_job_executions(ref),
        lambda s, ref: s.get_execution(ref),
        lambda s, ref: s.get_execution_log(ref),
        lambda s, ref: s.resolve_job(ref),
    ],
    ids=["get", "update", "delete", "status", "trigger", "job-executions", "execution", "execution-log", "resolve"],
)
def test_unknown_or_malformed_ids_are_not_found(service: Service, call: Callable[[Service, str], Any]) -> None:
    service.create_job(body("exists"))
    for ref in (str(uuid.uuid4()), "not-a-uuid", "", "../etc/passwd"):
        with pytest.raises(NotFound):
            call(service, ref)


# -- listing -------------------------------------------------------------------------------


def test_list_jobs_filters_pages_and_counts(store: Store, service: Service) -> None:
    ids = [service.create_job(body(f"job-{n}", isEnabled=n % 2 == 0))["id"] for n in range(5)]
    page = service.list_jobs(page=2, per_page=2)
    assert [job["id"] for job in page["jobs"]] == ids[2:4]
    assert (page["total"], page["enabledCount"], page["disabledCount"]) == (5, 3, 2)
    enabled = service.list_jobs(is_enabled=True)
    assert [job["id"] for job in enabled["jobs"]] == ids[0::2]
    assert (enabled["total"], enabled["enabledCount"], enabled["disabledCount"]) == (3, 3, 0)
    named = service.list_jobs(name="JOB-3")
    assert [job["name"] for job in named["jobs"]] == ["job-3"] and named["total"] == 1
    assert service.list_jobs(task_function_id=1)["total"] == 5
    assert service.list_jobs(task_function_id=999)["total"] == 0
    assert service.list_jobs(page=9)["jobs"] == []


def test_executions_are_newest_first_and_recent_holds_the_latest_ten(store: Store, service: Service) -> None:
    job = service.create_job(body("many"))
    base = datetime(2026, 1, 1, tzinfo=UTC)
    ids = []
    for n in range(12):
        execution_id = str(uuid.uuid4())
        at = base + timedelta(minutes=n)
        status, by = ExecutionStatus.SUCCESS, TriggeredBy.SCHEDULER
        store.executions.insert(NewExecution(id=execution_id, job_id=job["id"], status=status, triggered_by=by,
                                             scheduled_for=at, created_at=at))  # fmt: skip
        ids.append(execution_id)
    newest_first = ids[::-1]
    assert [e["id"] for e in service.get_job(job["id"])["recentExecutions"]] == newest_first[:10]
    listed = service.list_executions(job_id=job["id"], per_page=5, page=2)
    assert [e["id"] for e in listed["executions"]] == newest_first[5:10] and listed["total"] == 12
    assert service.list_executions(status="failed")["total"] == 0
    assert service.list_executions(status="success")["total"] == 12


@pytest.mark.parametrize(
    ("call", "loc"),
    [
        (lambda s: s.list_jobs(page=0), ["query", "page"]),
        (lambda s: s.list_jobs(per_page=0), ["query", "per_page"]),
        (lambda s: s.list_jobs(per_page=101), ["query", "per_page"]),
        (lambda s: s.list_executions(page=0), ["query", "page"]),
        (lambda s: s.list_executions(per_page=101), ["query", "per_page"]),
        (lambda s: s.list_executions(status="done"), ["query", "status"]),
        (lambda s: s.list_executions(job_id="nope"), ["query", "job_id"]),
        (lambda s: s.list_task_functions(page=0), ["query", "page"]),
        (lambda s: s.list_task_functions(per_page=0), ["query", "per_page"]),
        (lambda s: s.list_task_functions(per_page=101), ["query", "per_page"]),
    ],
    ids=["jobs-page-0", "jobs-per-page-0", "jobs-per-page-101", "executions-page-0", "executions-per-page-101",
         "executions-bad-status", "executions-bad-job-id", "task-functions-page-0", "task-functions-per-page-0",
         "task-functions-per-page-101"],
)  # fmt: skip
def test_bad_query_parameters_are_422_at_their_loc(service: Service, call: Callable[[Service], Any],
                                                   loc: list[str]) -> None:  # fmt: skip
    with pytest.raises(ValidationFailed) as caught:
        call(service)
    assert [error["loc"] for error in caught.value.errors] == [loc]
    assert service.list_jobs(page=1, per_page=100)["total"] == 0
    assert service.list_jobs(page=1, per_page=1)["total"] == 0


def test_execution_log_offset_must_not_be_negative(service: Service) -> None:
    run = service.trigger_job(service.create_job(body("log"))["id"])["executionId"]
    with pytest.raises(ValidationFailed) as caught:
        service.get_execution_log(run, offset=-1)
    assert caught.value.errors[0]["loc"] == ["query", "offset"]
    assert service.get_execution_log(run) == {"data": "", "nextOffset": 0, "complete": False}


# -- validation ----------------------------------------------------------------------------

BAD_BODIES: list[tuple[str, Callable[[dict[str, Any]], None], list[str | int]]] = [
    ("cron-hour-25", lambda b: b.update(jobTypeId=2, scheduleConfig={"hour": "25"}),
     ["body", "scheduleConfig", "hour"]),
    ("cron-minute-text", lambda b: b.update(jobTypeId=2, scheduleConfig={"minute": "often"}),
     ["body", "scheduleConfig", "minute"]),
    ("cron-bad-expression", lambda b: b.update(jobTypeId=2, scheduleConfig={"expression": "61 * * * *"}),
     ["body", "scheduleConfig", "expression"]),
    ("cron-never-fires", lambda b: b.update(jobTypeId=2, scheduleConfig={"month": "2", "day": "30"}),
     ["body", "scheduleConfig", "day"]),
    ("cron-bad-zone", lambda b: b.update(jobTypeId=2, scheduleConfig={"hour": "1", "timezone": "Mars/Base"}),
     ["body", "scheduleConfig", "timezone"]),
    ("zero-interval", lambda b: b.update(scheduleConfig={"hours": 0, "minutes": 0, "seconds": 0}),
     ["body", "scheduleConfig", "hours"]),
    ("empty-interval", lambda b: b.update(scheduleConfig={}), ["body", "scheduleConfig"]),
    ("negative-interval", lambda b: b.update(scheduleConfig={"minutes": -5}), ["body", "scheduleConfig", "minutes"]),
    ("string-interval", lambda b: b.update(scheduleConfig={"minutes": "5"}), ["body", "scheduleConfig", "minutes"]),
    ("negative-jitter", lambda b: b.update(scheduleConfig={"minutes": 5, "jitter": -1}),
     ["body", "scheduleConfig", "jitter"]),
    ("unknown-interval-key", lambda b: b.update(scheduleConfig={"minutes": 5, "minute": 1}),
     ["body", "scheduleConfig", "minute"]),
    ("unknown-cron-key", lambda b: b.update(jobTypeId=2, scheduleConfig={"hour": "1", "hours": 1}),
     ["body", "scheduleConfig", "hours"]),
    ("schedule-not-object", lambda b: b.update(scheduleConfig=[5]), ["body", "scheduleConfig"]),
    ("negative-max-instances", lambda b: b.update(maxInstances=-1), ["body", "maxInstances"]),
    ("zero-max-instances", lambda b: b.update(maxInstances=0), ["body", "maxInstances"]),
    ("negative-retries", lambda b: b.update(retryCount=-1), ["body", "retryCount"]),
    ("negative-retry-delay", lambda b: b.update(retryDelaySeconds=-1), ["body", "retryDelaySeconds"]),
    ("negative-timeout", lambda b: b.update(timeoutSeconds=-1), ["body", "timeoutSeconds"]),
    ("unknown-task-function", lambda b: b.update(taskFunctionId=999), ["body", "taskFunctionId"]),
    ("unknown-job-type", lambda b: b.update(jobTypeId=9), ["body", "jobTypeId"]),
    ("empty-name", lambda b: b.update(name=""), ["body", "name"]),
    ("10kb-name", lambda b: b.update(name="x" * 10_240), ["body", "name"]),
    ("whitespace-name", lambda b: b.update(name=" \t "), ["body", "name"]),
    ("newline-name", lambda b: b.update(name="a\nb"), ["body", "name"]),
    ("missing-name", lambda b: b.pop("name"), ["body", "name"]),
    ("list-task-args", lambda b: b.update(taskArgs=["command"]), ["body", "taskArgs"]),
    ("string-task-args", lambda b: b.update(taskArgs="echo hi"), ["body", "taskArgs"]),
    ("unknown-field", lambda b: b.update(colour="red"), ["body", "colour"]),
    ("snake-case-field", lambda b: b.update(max_instances=2), ["body", "max_instances"]),
    ("string-max-instances", lambda b: b.update(maxInstances="1"), ["body", "maxInstances"]),
    ("int-is-enabled", lambda b: b.update(isEnabled=1), ["body", "isEnabled"]),
    ("string-is-paused", lambda b: b.update(isPaused="false"), ["body", "isPaused"]),
    ("bad-misfire-policy", lambda b: b.update(misfirePolicy="always"), ["body", "misfirePolicy"]),
    ("shell-without-args", lambda b: b.update(taskArgs=None), ["body", "taskArgs"]),
    ("shell-without-command", lambda b: b.update(taskArgs={"cmd": "echo"}), ["body", "taskArgs"]),
    ("shell-blank-command", lambda b: b.update(taskArgs={"command": "  "}), ["body", "taskArgs"]),
]  # fmt: skip


@pytest.mark.parametrize(("change", "loc"), [case[1:] for case in BAD_BODIES], ids=[case[0] for case in BAD_BODIES])
def test_a_bad_create_body_is_rejected_at_its_loc_and_writes_nothing(
    store: Store, service: Service, change: Callable[[dict[str, Any]], None], loc: list[str | int]
) -> None:
    bad = body("bad")
    change(bad)
    before = writes(store)
    with pytest.raises(ValidationFailed) as caught:
        service.create_job(bad)
    assert loc in [error["loc"] for error in caught.value.errors], caught.value.errors
    assert all(set(error) == {"loc", "msg", "type"} and error["msg"] for error in caught.value.errors)
    assert writes(store) == before


def test_a_body_that_is_not_an_object_is_rejected(store: Store, service: Service) -> None:
    for bad in ([], "job", None, 5):
        with pytest.raises(ValidationFailed) as caught:
            service.create_job(bad)  # type: ignore[arg-type]
        assert caught.value.errors[0]["loc"] == ["body"]
    assert writes(store)[0] == 0


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"scheduleConfig": {"hour": "25"}, "jobTypeId": 2}, ["body", "scheduleConfig", "hour"]),
        ({"scheduleConfig": {"seconds": 0}}, ["body", "scheduleConfig", "seconds"]),
        ({"name": None}, ["body", "name"]),
        ({"maxInstances": "2"}, ["body", "maxInstances"]),
        ({"taskArgs": None}, ["body", "taskArgs"]),
        ({"taskFunctionId": 999}, ["body", "taskFunctionId"]),
        ({"bogus": 1}, ["body", "bogus"]),
    ],
    ids=["cron-hour-25", "zero-interval", "null-name", "string-max-instances", "shell-args-removed",
         "unknown-task-function", "unknown-field"],
)  # fmt: skip
def test_a_bad_update_is_rejected_and_changes_nothing(store: Store, service: Service, patch: dict[str, Any],
                                                      loc: list[str]) -> None:  # fmt: skip
    job = service.create_job(body("steady"))
    before, generation = service.get_job(job["id"]), store.cluster.generation()
    with pytest.raises(ValidationFailed) as caught:
        service.update_job(job["id"], copy.deepcopy(patch))
    assert loc in [error["loc"] for error in caught.value.errors]
    assert service.get_job(job["id"]) == before
    assert store.cluster.generation() == generation


@pytest.mark.parametrize(
    "status_body", [{}, {"isEnabled": "yes"}, {"isPaused": 0}, {"isEnabled": True, "extra": 1}],
    ids=["empty", "string", "int", "extra-field"],
)  # fmt: skip
def test_a_bad_status_body_is_rejected(store: Store, service: Service, status_body: dict[str, Any]) -> None:
    job = service.create_job(body("status"))
    before = service.get_job(job["id"])
    with pytest.raises(ValidationFailed):
        service.set_job_status(job["id"], status_body)
    assert service.get_job(job["id"]) == before


def test_an_inactive_task_function_cannot_be_scheduled(store: Store, service: Service) -> None:
    sync_task_functions(store, config_from_dict(_two_functions_config()).task_functions)
    sync_task_functions(store, ())
    inactive = store.catalog.get_task_function_by_name("cleanup_tmp")
    assert inactive is not None and not inactive.is_active
    with pytest.raises(ValidationFailed) as caught:
        service.create_job(body("late", taskFunctionId=inactive.id, taskArgs=None))
    assert caught.value.errors[0]["loc"] == ["body", "taskFunctionId"]


# -- roles ---------------------------------------------------------------------------------


def test_a_viewer_can_read_but_not_change_anything(store: Store, service: Service) -> None:
    job = service.create_job(body("watched"))
    viewer = as_role(store, Role.VIEWER)
    assert viewer.list_jobs()["total"] == 1
    assert viewer.get_job(job["id"])["name"] == "watched"
    viewer.list_executions()
    viewer.list_task_functions()
    viewer.list_job_types()
    viewer.get_status()
    before = writes(store)
    for call in (lambda: viewer.trigger_job(job["id"]), lambda: viewer.create_job(body("nope")),
                 lambda: viewer.set_job_status(job["id"], {"isEnabled": False}),
                 lambda: viewer.update_job(job["id"], {"description": "x"}),
                 lambda: viewer.delete_job(job["id"])):  # fmt: skip
        with pytest.raises(PermissionDenied):
            call()
    assert writes(store) == before


def test_an_operator_can_trigger_and_set_status_but_not_create_or_delete(store: Store, service: Service) -> None:
    job = service.create_job(body("operated"))
    operator = as_role(store, Role.OPERATOR)
    run = operator.get_execution(operator.trigger_job(job["id"])["executionId"])
    assert run["triggeredByUserId"] == "operator-user"
    paused = operator.set_job_status(job["id"], {"isPaused": True})
    assert (paused["isPaused"], paused["updatedBy"]) == (True, "operator-user")
    before = writes(store)
    for call in (lambda: operator.create_job(body("nope")), lambda: operator.delete_job(job["id"]),
                 lambda: operator.update_job(job["id"], {"description": "x"})):  # fmt: skip
        with pytest.raises(PermissionDenied):
            call()
    assert writes(store) == before


# -- tokens --------------------------------------------------------------------------------


def test_token_secret_is_shown_once_and_only_its_hash_is_stored(store: Store) -> None:
    secret, token = create_token(store, "ci", "viewer")
    assert secret.startswith("jobctl_") and len(secret) > 30
    assert (token.name, token.role, token.revoked_at) == ("ci", "viewer", None)
    rows = store.db.fetch_all("SELECT * FROM api_tokens")
    assert len(rows) == 1 and rows[0]["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(rows) and secret.removeprefix("jobctl_") not in repr(rows)
    if store.url.sqlite_path is not None:
        path = store.url.sqlite_path
        for file in (path, path.with_name(path.name + "-wal")):
            if file.exists():
                assert secret.removeprefix("jobctl_").encode() not in file.read_bytes(), file
    listed = list_tokens(store)
    assert [t["name"] for t in listed] == ["ci"] and secret not in json.dumps(listed)
    assert set(listed[0]) == {"id", "name", "role", "createdAt", "lastUsedAt", "revokedAt"}


def test_authenticate_accepts_live_tokens_only(store: Store) -> None:
    viewer_secret, _ = create_token(store, "reader", "viewer")
    admin_secret, _ = create_token(store, "boss", "admin")
    assert authenticate(store, viewer_secret) == Caller(user_id="reader", role=Role.VIEWER)
    assert authenticate(store, admin_secret) == Caller(user_id="boss", role=Role.ADMIN)
    revoke_token(store, "reader")
    for bad in (viewer_secret, "jobctl_unknown", admin_secret + "x", "", None):
        with pytest.raises(NotAuthenticated):
            authenticate(store, bad)
    assert authenticate(store, admin_secret).role is Role.ADMIN
    with pytest.raises(NotFound):
        revoke_token(store, "reader")  # already revoked
    with pytest.raises(NotFound):
        revoke_token(store, "nobody")
    assert [t["revokedAt"] is not None for t in list_tokens(store)] == [True, False]


def test_token_names_and_roles_are_checked(store: Store) -> None:
    create_token(store, "one", "operator")
    with pytest.raises(Conflict):
        create_token(store, "one", "viewer")
    for name, role in (("two", "root"), ("", "viewer"), ("   ", "viewer"), ("x" * 201, "viewer")):
        with pytest.raises(ValidationFailed):
            create_token(store, name, role)
    assert [t["name"] for t in list_tokens(store)] == ["one"]


# -- task function sync --------------------------------------------------------------------


def _two_functions_config(*, only_first: bool = False) -> dict[str, Any]:
    functions = [
        {"name": "cleanup_tmp", "display_name": "Temp cleanup", "description": "Delete old files",
         "handler_type": "command", "handler_path": "find /tmp -type f -mtime +7 -delete", "queue": "default",
         "default_timeout_seconds": 300, "is_system": False},
        {"name": "report", "handler_type": "python", "handler_path": "reports.build:main"},
    ]  # fmt: skip
    return {"task_functions": functions[:1] if only_first else functions}


def test_sync_upserts_the_config_and_marks_the_rest_inactive(store: Store, service: Service) -> None:
    report = sync_task_functions(store, config_from_dict(_two_functions_config()).task_functions)
    assert (report.upserted, report.deactivated) == (["cleanup_tmp", "report"], [])
    by_name = {tf["name"]: tf for tf in service.list_task_functions()["taskFunctions"]}
    assert set(by_name) == {"shell", "cleanup_tmp", "report"}
    cleanup = by_name["cleanup_tmp"]
    assert (cleanup["displayName"], cleanup["handlerType"], cleanup["queue"], cleanup["defaultTimeoutSeconds"],
            cleanup["isActive"]) == ("Temp cleanup", "command", "default", 300, True)  # fmt: skip
    assert (by_name["report"]["displayName"], by_name["report"]["handlerType"]) == ("report", "python")
    job = service.create_job(body("uses-report", taskFunctionId=by_name["report"]["id"], taskArgs={"n": 1}))

    report = sync_task_functions(store, config_from_dict(_two_functions_config(only_first=True)).task_functions)
    assert report.deactivated == ["report"]
    after = {tf["name"]: tf for tf in service.list_task_functions()["taskFunctions"]}
    assert set(after) == {"shell", "cleanup_tmp", "report"}  # never deleted
    assert (after["report"]["isActive"], after["report"]["id"]) == (False, by_name["report"]["id"])
    assert after["shell"]["isActive"] and after["cleanup_tmp"]["isActive"]
    assert service.get_job(job["id"])["taskFunction"]["name"] == "report"  # the job still points at it
    assert [tf["name"] for tf in service.list_task_functions(is_active=False)["taskFunctions"]] == ["report"]

    sync_task_functions(store, config_from_dict(_two_functions_config()).task_functions)
    assert store.catalog.get_task_function_by_name("report").is_active  # type: ignore[union-attr]


def test_sync_always_keeps_the_builtin_shell(store: Store, service: Service) -> None:
    shell_before = store.catalog.get_task_function_by_name("shell")
    sync_task_functions(store, ())
    impostor = config_from_dict({"task_functions": [{"name": "shell", "handler_type": "python",
                                                     "handler_path": "evil:run"}]})  # fmt: skip
    sync_task_functions(store, impostor.task_functions)
    shell = store.catalog.get_task_function_by_name("shell")
    assert shell is not None and shell_before is not None
    assert (shell.id, shell.is_active, shell.handler_type, shell.handler_path) == (
        shell_before.id, True, "command", "/bin/sh -c")  # fmt: skip
    service.create_job(body("still-works"))
