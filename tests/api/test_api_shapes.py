"""Every endpoint answers with the seed's keys (plus the SPEC's extensions) and status codes,
and the response models of the OpenAPI document match what the service really returns."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from jobctl.api import openapi
from jobctl.wire import responses
from tests.api.helpers import Api, job_body, run_execution, start_leader

TASK_FUNCTION_KEYS = {
    "id", "name", "displayName", "description", "handlerPath", "handlerType", "queue",
    "defaultTimeoutSeconds", "isActive", "isSystem", "createdAt",
}  # fmt: skip
JOB_TYPE_KEYS = {"id", "name", "displayName", "description"}
JOB_KEYS = {
    "id", "name", "description", "taskFunctionId", "jobTypeId", "scheduleConfig", "taskArgs", "maxInstances",
    "timeoutSeconds", "retryCount", "retryDelaySeconds", "isEnabled", "isPaused", "nextRunTime", "lastRunTime",
    "lastStatus", "createdAt", "updatedAt", "createdBy", "updatedBy", "misfirePolicy", "labels", "environment",
    "workingDirectory", "umask", "nice", "stdin", "runAsUser", "runAsGroup", "source",
    "notify", "pauseAfterFailures", "pausedReason", "pausedBy", "pausedAt", "startGraceSeconds",
    "maxRuntimeAlertSeconds", "expectSuccessWithinSeconds",
    "retryBackoff", "retryMaxDelaySeconds", "retryOnExitCodes",
}  # fmt: skip
JOB_KEYS |= {"overlapPolicy", "maxQueued", "concurrencyGroup"}  # docs/overlap.md, docs/concurrency-groups.md
DETAIL_KEYS = JOB_KEYS | {"taskFunction", "jobType", "recentExecutions"}
EXECUTION_KEYS = {
    "id", "jobId", "celeryTaskId", "status", "startedAt", "completedAt", "durationSeconds", "result",
    "errorMessage", "triggeredBy", "triggeredByUserId", "scheduledFor", "attempt", "instanceId", "outputDroppedBytes",
    "outputPruned",
    "cancelledBy",
    "missedCount",
    "missedUntil",
    "pendingReason",
    "createdAt",
}  # fmt: skip
EXECUTION_KEYS |= {"pendingReason"}
INSTANCE_KEYS = {"id", "hostname", "pid", "isLeader", "leaderSince", "lastHeartbeat", "startedAt", "version"}
STATUS_KEYS = {
    "isRunning",
    "leaderInstance",
    "totalJobs",
    "enabledJobs",
    "runningJobs",
    "nextScheduledJob",
    "instances",
}
STATUS_KEYS |= {"concurrencyGroups", "leaseExpiresAt", "leaderHeartbeatOverdue", "pausedJobs"}


def _assert_utc(value: str | None) -> None:
    assert value is None or value.endswith("Z"), value


def test_task_functions_list(api: Api) -> None:
    body = api.get("/task-functions").json()
    assert set(body) == {"taskFunctions", "total"}
    assert body["total"] == len(body["taskFunctions"]) >= 1
    assert set(body["taskFunctions"][0]) == TASK_FUNCTION_KEYS
    _assert_utc(body["taskFunctions"][0]["createdAt"])


def test_job_types_list(api: Api) -> None:
    body = api.get("/job-types").json()
    assert [(jt["id"], jt["name"]) for jt in body][:2] == [(1, "interval"), (2, "cron")]
    assert all(set(jt) == JOB_TYPE_KEYS for jt in body)


def test_create_job_is_201_with_the_job(api: Api) -> None:
    response = api.call("POST", "/jobs", json={
        "name": "nightly", "description": "d", "taskFunctionId": 1, "jobTypeId": 2,
        "scheduleConfig": {"hour": "3", "minute": "0"}, "taskArgs": {"command": "true"}, "maxInstances": 2,
        "timeoutSeconds": 30, "retryCount": 1, "retryDelaySeconds": 5, "isEnabled": True, "misfirePolicy": "skip",
    })  # fmt: skip
    assert response.status_code == 201
    job = response.json()
    assert set(job) == JOB_KEYS
    assert job["scheduleConfig"] == {"hour": "3", "minute": "0", "timezone": "Europe/Berlin"}
    assert (job["createdBy"], job["updatedBy"], job["misfirePolicy"]) == ("admin-token", "admin-token", "skip")
    assert job["nextRunTime"].endswith("Z") and job["lastRunTime"] is None
    assert api.changes, "on_change was not called after a create"


def test_get_job_has_detail_and_recent_executions(api: Api) -> None:
    job = api.create_job()
    execution_id = run_execution(api, job["id"])
    detail = api.get(f"/jobs/{job['id']}").json()
    assert set(detail) == DETAIL_KEYS
    assert set(detail["taskFunction"]) == TASK_FUNCTION_KEYS
    assert set(detail["jobType"]) == JOB_TYPE_KEYS
    assert [e["id"] for e in detail["recentExecutions"]] == [execution_id]
    assert set(detail["recentExecutions"][0]) == EXECUTION_KEYS


def test_an_id_in_the_path_may_be_written_in_capitals(api: Api) -> None:
    """Ids are stored in lower case; ``job_id=``, ``after=`` and the CLI took capitals, while
    the paths answered 404 for a job or run that exists."""
    job = api.create_job()
    execution_id = run_execution(api, job["id"])
    upper_job, upper_run = job["id"].upper(), execution_id.upper()
    assert api.get(f"/jobs/{upper_job}").json()["id"] == job["id"]
    assert [e["id"] for e in api.get(f"/jobs/{upper_job}/executions").json()["executions"]] == [execution_id]
    assert api.get(f"/executions/{upper_run}").json()["id"] == execution_id
    assert api.get(f"/executions/{upper_run}/log").status_code == 200
    assert api.get(f"/jobs/{upper_job}/next").status_code == 200


def test_update_job_returns_the_detail(api: Api) -> None:
    job = api.create_job()
    response = api.call("PUT", f"/jobs/{job['id']}", json={"name": "renamed", "scheduleConfig": {"hours": 2}})
    assert response.status_code == 200
    detail = response.json()
    assert set(detail) == DETAIL_KEYS
    assert (detail["name"], detail["scheduleConfig"]) == ("renamed", {"hours": 2})
    assert api.get(f"/jobs/{job['id']}").json()["name"] == "renamed"


@pytest.mark.parametrize(
    ("body", "enabled", "paused", "has_next_run"),
    [
        ({"isEnabled": False}, False, False, False),
        ({"isPaused": True}, True, True, False),
        ({"isEnabled": True, "isPaused": False}, True, False, True),
    ],
    ids=["disable", "pause", "both"],
)
def test_status_update(api: Api, body: dict[str, bool], enabled: bool, paused: bool, has_next_run: bool) -> None:
    job = api.create_job()
    response = api.call("PUT", f"/jobs/{job['id']}/status", json=body)
    assert response.status_code == 200
    detail = response.json()
    assert set(detail) == DETAIL_KEYS
    assert (detail["isEnabled"], detail["isPaused"], detail["nextRunTime"] is not None) == (
        enabled,
        paused,
        has_next_run,
    )


def test_a_run_a_forced_delete_ended_answers_410_with_its_last_record(api: Api) -> None:
    """Its execution went with the job's history; whoever follows it learns how it ended
    (docs/deleting-jobs.md). An id no run ever had stays a 404."""
    job = api.create_job()
    execution_id = api.call("POST", f"/jobs/{job['id']}/trigger").json()["executionId"]
    assert api.call("DELETE", f"/jobs/{job['id']}?force=true").status_code == 204
    for path in (f"/executions/{execution_id}", f"/executions/{execution_id}/log"):
        response = api.get(path, role="viewer")
        assert response.status_code == 410, (path, response.text)
        body = TypeAdapter(openapi.GoneBody).validate_python(response.json())
        record = body["execution"]
        assert (record["id"], record["jobId"], record["jobName"], record["status"], record["deletedBy"]) == (
            execution_id, job["id"], "backup", "skipped", "admin-token",
        )  # fmt: skip
        assert record["errorMessage"] == "job deleted by admin-token before the run started"
        assert body["detail"] == (
            f"execution '{execution_id}' was deleted with its job 'backup'; it had ended skipped: "
            "job deleted by admin-token before the run started"
        )
    assert api.get(f"/executions/{job['id']}").status_code == 404


def test_delete_is_204_without_body(api: Api) -> None:
    job = api.create_job()
    changes = len(api.changes)
    response = api.call("DELETE", f"/jobs/{job['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert api.get(f"/jobs/{job['id']}").status_code == 404
    assert len(api.changes) == changes + 1


def test_trigger_records_a_pending_manual_run(api: Api) -> None:
    job = api.create_job()
    response = api.call("POST", f"/jobs/{job['id']}/trigger", role="operator")
    assert response.status_code == 200
    body = response.json()
    assert body == {"jobId": job["id"], "executionId": body["executionId"], "celeryTaskId": None,
                    "message": "Job triggered successfully"}  # fmt: skip
    execution = api.get(f"/executions/{body['executionId']}").json()
    assert set(execution) == EXECUTION_KEYS
    assert (execution["status"], execution["triggeredBy"], execution["triggeredByUserId"]) == (
        "pending",
        "manual",
        "operator-token",
    )
    assert (execution["scheduledFor"], execution["attempt"]) == (None, 1)


def test_execution_lists_and_log(api: Api) -> None:
    job = api.create_job()
    first = run_execution(api, job["id"], output="one\n")
    second = run_execution(api, job["id"], output="two\n", status="failed")
    everything = api.get("/executions").json()
    assert set(everything) == {"executions", "total", "nextCursor"}
    assert [e["id"] for e in everything["executions"]] == [second, first]  # newest first
    assert all(set(e) == EXECUTION_KEYS for e in everything["executions"])
    assert api.get(f"/jobs/{job['id']}/executions").json() == everything
    assert api.get(f"/jobs/{job['id']}/executions", params={"status": "failed"}).json()["total"] == 1
    log = api.get(f"/executions/{first}/log").json()
    assert log == {"data": "one\n", "nextOffset": 4, "complete": True}
    assert api.get(f"/executions/{first}/log", params={"offset": 2}).json()["data"] == "e\n"


def test_status_document(api: Api) -> None:
    job = api.create_job()
    start_leader(api)
    status = api.get("/status").json()
    assert set(status) == STATUS_KEYS
    assert status["isRunning"] is True
    assert set(status["leaderInstance"]) == INSTANCE_KEYS
    assert [i["id"] for i in status["instances"]] == ["instance-1"]
    assert (status["totalJobs"], status["enabledJobs"], status["runningJobs"]) == (1, 1, 0)
    assert status["nextScheduledJob"] == {"id": job["id"], "name": job["name"], "nextRunTime": job["nextRunTime"]}


def test_healthz_needs_no_token(api: Api) -> None:
    response = api.client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    ("path", "role"),
    [("/jobs", "viewer"), ("/job-types", "viewer"), ("/task-functions", "viewer"), ("/status", "viewer"),
     ("/executions", "viewer")],
    ids=["jobs", "job-types", "task-functions", "status", "executions"],
)  # fmt: skip
def test_alias_paths_serve_the_same(api: Api, path: str, role: str) -> None:
    api.create_job()
    main = api.get(path, role=role)
    alias = api.get(path, role=role, prefix="/api/setting/scheduler")
    assert alias.status_code == main.status_code == 200
    if path != "/status":
        assert alias.json() == main.json()


def test_alias_paths_accept_writes(api: Api) -> None:
    alias = "/api/setting/scheduler"
    created = api.call("POST", "/jobs", prefix=alias, json=job_body("via-alias"))
    assert created.status_code == 201
    job_id = created.json()["id"]
    assert api.call("PUT", f"/jobs/{job_id}/status", prefix=alias, json={"isEnabled": True}).status_code == 200
    assert api.call("POST", f"/jobs/{job_id}/trigger", prefix=alias).status_code == 200
    assert api.call("DELETE", f"/jobs/{job_id}", prefix=alias).status_code == 409  # its run waits
    assert api.call("DELETE", f"/jobs/{job_id}?force=true", prefix=alias).status_code == 204


def _model_keys(shape: type) -> set[str]:
    return set(shape.__required_keys__) | set(shape.__optional_keys__)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("model", "keys"),
    [(responses.TaskFunctionOut, TASK_FUNCTION_KEYS), (responses.JobTypeOut, JOB_TYPE_KEYS),
     (responses.JobOut, JOB_KEYS), (responses.JobDetail, DETAIL_KEYS), (responses.ExecutionOut, EXECUTION_KEYS),
     (responses.InstanceOut, INSTANCE_KEYS), (responses.SchedulerStatus, STATUS_KEYS)],
    ids=["task-function", "job-type", "job", "job-detail", "execution", "instance", "status"],
)  # fmt: skip
def test_response_shapes_have_the_documented_keys(model: type, keys: set[str]) -> None:
    assert _model_keys(model) == keys


def test_real_responses_validate_against_the_response_models(api: Api) -> None:
    """As the OpenAPI document describes them: closed (:mod:`jobctl.api.openapi`), no key missing or extra."""
    assert openapi.JobList is responses.JobList
    job = api.create_job()
    execution_id = run_execution(api, job["id"])
    start_leader(api)
    checks: list[tuple[type, str]] = [
        (responses.JobList, "/jobs"), (responses.JobDetail, f"/jobs/{job['id']}"),
        (responses.ExecutionList, "/executions"), (responses.ExecutionOut, f"/executions/{execution_id}"),
        (responses.ExecutionLog, f"/executions/{execution_id}/log"), (responses.TaskFunctionList, "/task-functions"),
        (responses.SchedulerStatus, "/status"),
    ]  # fmt: skip
    assert all(shape.__pydantic_config__ == {"extra": "forbid"} for shape, _ in checks)  # type: ignore[attr-defined]
    for model, path in checks:
        TypeAdapter(model).validate_python(api.get(path).json())
