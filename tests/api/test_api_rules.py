"""Filters, paging counts, conflicts (409), authentication (401) and the role matrix (403)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import Api, job_body


@pytest.fixture
def three_jobs(api: Api) -> list[dict[str, Any]]:
    """``alpha-backup`` (enabled), ``beta-backup`` (disabled), ``gamma`` (enabled, system task function)."""
    system_id = api.system_task_function()
    return [
        api.create_job("alpha-backup"),
        api.create_job("beta-backup", isEnabled=False),
        api.create_job("gamma", taskFunctionId=system_id, taskArgs=None),
    ]


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({}, ["alpha-backup", "beta-backup", "gamma"]),
        ({"name": "BACKUP"}, ["alpha-backup", "beta-backup"]),
        ({"name": "%"}, []),
        ({"is_enabled": "true"}, ["alpha-backup", "gamma"]),
        ({"is_enabled": "false"}, ["beta-backup"]),
        ({"task_function_id": 1}, ["alpha-backup", "beta-backup"]),
        ({"name": "backup", "is_enabled": "true"}, ["alpha-backup"]),
    ],
    ids=["all", "name-any-case", "name-wildcard-literal", "enabled", "disabled", "task-function", "combined"],
)
def test_job_filters_and_counts(api: Api, three_jobs: list[dict[str, Any]], params: dict[str, Any],
                                names: list[str]) -> None:  # fmt: skip
    body = api.get("/jobs", params=params).json()
    assert [job["name"] for job in body["jobs"]] == names
    assert body["total"] == len(names)
    assert body["enabledCount"] + body["disabledCount"] == body["total"]
    assert body["runningCount"] == 0


@pytest.mark.parametrize(
    ("page", "per_page", "names"),
    [
        (1, 2, ["alpha-backup", "beta-backup"]),
        (2, 2, ["gamma"]),
        (3, 2, []),
        (1, 100, ["alpha-backup", "beta-backup", "gamma"]),
    ],
    ids=["first", "last", "past-the-end", "max-size"],
)
def test_job_paging(api: Api, three_jobs: list[dict[str, Any]], page: int, per_page: int, names: list[str]) -> None:
    body = api.get("/jobs", params={"page": page, "per_page": per_page}).json()
    assert [job["name"] for job in body["jobs"]] == names
    assert (body["total"], body["enabledCount"], body["disabledCount"]) == (3, 2, 1)


def test_execution_filters_and_paging(api: Api, three_jobs: list[dict[str, Any]]) -> None:
    alpha, _, gamma = three_jobs
    for job in (alpha, gamma, alpha):
        api.call("POST", f"/jobs/{job['id']}/trigger")  # runs stay pending; maxInstances is 1
    assert api.get("/executions").json()["total"] == 2  # the third trigger was a 409
    assert api.get("/executions", params={"job_id": alpha["id"]}).json()["total"] == 1
    assert api.get("/executions", params={"status": "pending", "per_page": 1}).json()["total"] == 2
    assert len(api.get("/executions", params={"per_page": 1, "page": 2}).json()["executions"]) == 1
    assert api.get("/executions", params={"status": "success"}).json() == {
        "executions": [],
        "total": 0,
        "nextCursor": None,
    }


def test_task_function_filter(api: Api) -> None:
    api.system_task_function()
    assert api.get("/task-functions", params={"is_active": "true"}).json()["total"] == 2
    assert api.get("/task-functions", params={"is_active": "false"}).json()["total"] == 0
    assert len(api.get("/task-functions", params={"per_page": 1, "page": 2}).json()["taskFunctions"]) == 1


# -- conflicts ------------------------------------------------------------------------------


def _active_runs(api: Api, job_id: str) -> int:
    return int(api.get("/executions", params={"job_id": job_id, "status": "pending"}).json()["total"])


def test_trigger_of_a_disabled_job_is_409(api: Api) -> None:
    job = api.create_job(isEnabled=False)
    response = api.call("POST", f"/jobs/{job['id']}/trigger")
    assert response.status_code == 409
    assert "disabled" in response.json()["detail"]
    assert _active_runs(api, job["id"]) == 0


def test_trigger_at_max_instances_is_409(api: Api) -> None:
    job = api.create_job(maxInstances=2)
    assert [api.call("POST", f"/jobs/{job['id']}/trigger").status_code for _ in range(3)] == [200, 200, 409]
    assert _active_runs(api, job["id"]) == 2


def test_trigger_of_a_paused_job_is_allowed(api: Api) -> None:
    job = api.create_job(isPaused=True)
    assert api.call("POST", f"/jobs/{job['id']}/trigger").status_code == 200


def test_delete_of_a_system_job_is_409(api: Api, three_jobs: list[dict[str, Any]]) -> None:
    gamma = three_jobs[2]
    response = api.call("DELETE", f"/jobs/{gamma['id']}")
    assert response.status_code == 409
    assert api.get(f"/jobs/{gamma['id']}").status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT"], ids=["create", "rename"])
def test_duplicate_name_is_409(api: Api, three_jobs: list[dict[str, Any]], method: str) -> None:
    if method == "POST":
        response = api.call("POST", "/jobs", json=job_body("gamma"))
    else:
        response = api.call("PUT", f"/jobs/{three_jobs[0]['id']}", json={"name": "gamma"})
    assert response.status_code == 409
    assert api.get("/jobs").json()["total"] == 3
