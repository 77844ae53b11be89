"""Bad input is a 4xx naming what is wrong, never a 500, and never changes the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.helpers import Api, job_body

UNKNOWN_ID = "3f0c8a40-95a3-4b8e-9d1e-9b5e7b0f2a11"
ONE_MIB = 1024 * 1024


def _locs(response: Any) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/jobs"), ("PUT", "/jobs/{id}"), ("PUT", "/jobs/{id}/status")],
    ids=["create", "update", "status"],
)
@pytest.mark.parametrize(
    "raw",
    [b"{", b"", b"nul", b'{"name": "x",}', b"\xff\xfe", b"[" * 100_000, b'{"name": "\\ud800"}'],
    ids=["truncated", "empty", "not-json", "trailing-comma", "not-utf8", "deeply-nested", "lone-surrogate"],
)  # fmt: skip
def test_malformed_json_is_422(
    shared_api: Api, unchanged_job: dict[str, Any], method: str, path: str, raw: bytes
) -> None:
    response = shared_api.call(
        method, path.format(id=unchanged_job["id"]), content=raw, headers={"Content-Type": "application/json"}
    )
    assert _locs(response) == [["body"]]
    assert response.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/jobs"), ("PUT", "/jobs/{id}"), ("PUT", "/jobs/{id}/status")],
    ids=["create", "update", "status"],
)  # fmt: skip
@pytest.mark.parametrize("body", [[], "text", 3, None], ids=["array", "string", "number", "null"])
def test_a_body_that_is_no_object_is_422(
    shared_api: Api, unchanged_job: dict[str, Any], method: str, path: str, body: Any
) -> None:
    path = path.format(id=unchanged_job["id"])
    response = shared_api.call(method, path, content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert _locs(response) == [["body"]]


WRONG_TYPES = {
    "name": 5, "description": 5, "taskFunctionId": "1", "jobTypeId": 1.0, "scheduleConfig": "every 5m",
    "taskArgs": [1], "maxInstances": "1", "timeoutSeconds": "30", "retryCount": 1.5, "retryDelaySeconds": "60",
    "isEnabled": "true", "isPaused": 1, "misfirePolicy": "sometimes",
}  # fmt: skip


@pytest.mark.parametrize(("field", "value"), WRONG_TYPES.items(), ids=list(WRONG_TYPES))
def test_create_with_a_wrong_type_is_422_naming_the_field(
    shared_api: Api, unchanged_job: dict[str, Any], field: str, value: Any
) -> None:
    assert ["body", field] in _locs(shared_api.call("POST", "/jobs", json={**job_body("other"), field: value}))


@pytest.mark.parametrize(("field", "value"), WRONG_TYPES.items(), ids=list(WRONG_TYPES))
def test_update_with_a_wrong_type_is_422_naming_the_field(
    shared_api: Api, unchanged_job: dict[str, Any], field: str, value: Any
) -> None:
    assert ["body", field] in _locs(shared_api.call("PUT", f"/jobs/{unchanged_job['id']}", json={field: value}))


OUT_OF_RANGE = {
    "taskFunctionId": 2**70, "jobTypeId": 2**63, "maxInstances": 0, "timeoutSeconds": 10**12, "retryCount": -1,
    "description": "nul\x00byte", "name": "tab\tin name", "scheduleConfig": {"minutes": 10**30},
}  # fmt: skip


@pytest.mark.parametrize(("field", "value"), OUT_OF_RANGE.items(), ids=list(OUT_OF_RANGE))
def test_values_the_store_cannot_hold_are_422(shared_api: Api, unchanged_job: dict[str, Any], field: str,
                                              value: Any) -> None:  # fmt: skip
    locs = _locs(shared_api.call("POST", "/jobs", json={**job_body("other"), field: value}))
    assert any(loc[:2] == ["body", field] for loc in locs), locs


@pytest.mark.parametrize(
    ("body", "loc"),
    [({"isEnabled": "false"}, ["body", "isEnabled"]), ({"isPaused": None}, ["body"]), ({}, ["body"]),
     ({"enabled": False}, ["body", "enabled"])],
    ids=["string-flag", "null-only", "empty", "unknown-field"],
)  # fmt: skip
def test_bad_status_bodies_are_422(
    shared_api: Api, unchanged_job: dict[str, Any], body: dict[str, Any], loc: list[str]
) -> None:
    assert loc in _locs(shared_api.call("PUT", f"/jobs/{unchanged_job['id']}/status", json=body))


@pytest.mark.parametrize("method", ["POST", "PUT"], ids=["create", "update"])
def test_unknown_fields_are_422(shared_api: Api, unchanged_job: dict[str, Any], method: str) -> None:
    path = "/jobs" if method == "POST" else f"/jobs/{unchanged_job['id']}"
    body = job_body("other", schedule={"minutes": 1}) if method == "POST" else {"schedule": {"minutes": 1}}
    assert ["body", "schedule"] in _locs(shared_api.call(method, path, json=body))


@pytest.mark.parametrize(
    ("config", "field"),
    [({"hour": "25", "minute": "0"}, "hour"), ({"hour": "x"}, "hour"), ({"minute": "*/0"}, "minute")],
    ids=["hour-out-of-range", "hour-garbage", "zero-step"],
)
def test_invalid_cron_field_is_422_at_its_loc(
    shared_api: Api, unchanged_job: dict[str, Any], config: dict[str, str], field: str
) -> None:
    body = job_body("cron-job", jobTypeId=2, scheduleConfig=config)
    assert ["body", "scheduleConfig", field] in _locs(shared_api.call("POST", "/jobs", json=body))
    assert ["body", "scheduleConfig", field] in _locs(shared_api.call("PUT", f"/jobs/{unchanged_job['id']}", json={
        "jobTypeId": 2, "scheduleConfig": config}))  # fmt: skip


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("PUT", ""), ("DELETE", ""), ("PUT", "/status"), ("POST", "/trigger"), ("GET", "/executions")],
    ids=["get", "update", "delete", "status", "trigger", "executions"],
)
@pytest.mark.parametrize(
    "job_id", ["not-a-uuid", "123", UNKNOWN_ID, UNKNOWN_ID.replace("-", ""), "%20", "..."],
    ids=["word", "number", "unknown", "unhyphenated", "space", "dots"],
)  # fmt: skip
def test_bad_or_unknown_job_ids_are_404(
    shared_api: Api, unchanged_job: dict[str, Any], method: str, suffix: str, job_id: str
) -> None:
    body = {"isEnabled": False} if suffix == "/status" else ({"name": "x"} if method == "PUT" else None)
    response = shared_api.call(method, f"/jobs/{job_id}{suffix}", json=body)
    assert response.status_code == 404, response.text
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("suffix", ["", "/log"], ids=["execution", "log"])
@pytest.mark.parametrize("execution_id", ["nope", UNKNOWN_ID], ids=["malformed", "unknown"])
def test_bad_or_unknown_execution_ids_are_404(
    shared_api: Api, unchanged_job: dict[str, Any], suffix: str, execution_id: str
) -> None:
    assert shared_api.get(f"/executions/{execution_id}{suffix}").status_code == 404


@pytest.mark.parametrize(
    ("path", "params", "loc"),
    [
        ("/jobs", {"page": 0}, ["query", "page"]),
        ("/jobs", {"page": -1}, ["query", "page"]),
        ("/jobs", {"page": "two"}, ["query", "page"]),
        ("/jobs", {"page": 2**64}, ["query", "page"]),
        ("/jobs", {"per_page": 0}, ["query", "per_page"]),
        ("/jobs", {"per_page": 101}, ["query", "per_page"]),
        # whole numbers in digits alone: pydantic's lax text reading took these as 10
        ("/jobs", {"per_page": "1_0"}, ["query", "per_page"]),
        ("/executions", {"per_page": "10.0"}, ["query", "per_page"]),
        ("/executions", {"per_page": " 10 "}, ["query", "per_page"]),
        ("/executions", {"page": "1_0"}, ["query", "page"]),
        ("/jobs", {"task_function_id": "1.0"}, ["query", "task_function_id"]),
        ("/jobs/{id}/next", {"count": "0_5"}, ["query", "count"]),
        ("/executions/{id}/log", {"offset": "1e2"}, ["query", "offset"]),
        ("/jobs", {"is_enabled": "yes"}, ["query", "is_enabled"]),
        ("/jobs", {"is_enabled": "True"}, ["query", "is_enabled"]),
        ("/jobs", {"task_function_id": "shell"}, ["query", "task_function_id"]),
        ("/jobs", {"task_function_id": 2**70}, ["query", "task_function_id"]),
        ("/jobs", {"name": "a\x00b"}, ["query", "name"]),
        ("/task-functions", {"is_active": "1"}, ["query", "is_active"]),
        ("/task-functions", {"per_page": 500}, ["query", "per_page"]),
        ("/executions", {"status": "done"}, ["query", "status"]),
        ("/executions", {"job_id": "not-a-uuid"}, ["query", "job_id"]),
        ("/executions", {"page": 0}, ["query", "page"]),
        ("/jobs/{id}/executions", {"per_page": 0}, ["query", "per_page"]),
        ("/jobs/{id}/executions", {"status": "nope"}, ["query", "status"]),
        ("/executions/{id}/log", {"offset": -1}, ["query", "offset"]),
        # times whose UTC instant is outside the years 1-9999: the store keeps UTC times
        ("/executions", {"since": "0001-01-01T00:00:00+01:00"}, ["query", "since"]),
        ("/executions", {"until": "9999-12-31T23:59:59-05:00"}, ["query", "until"]),
        ("/jobs/{id}/executions", {"until": "9999-12-31T23:59:59-05:00"}, ["query", "until"]),
        ("/executions/stream", {"since": "0001-01-01T00:00:00+01:00"}, ["query", "since"]),
        ("/executions/stream", {"until": "9999-12-31T23:59:59-05:00"}, ["query", "until"]),
        ("/jobs/{id}/timeline", {"since": "0001-01-01T00:00:00+01:00"}, ["query", "since"]),
        ("/jobs/{id}/timeline", {"until": "9999-12-31T23:59:59-05:00"}, ["query", "until"]),
        ("/audit", {"since": "0001-01-01T00:00:00+01:00"}, ["query", "since"]),
        # a stream sends every item after `after`: paging parameters are refused, not ignored
        ("/executions/stream", {"before": UNKNOWN_ID}, ["query", "before"]),
        ("/executions/stream", {"page": 2}, ["query", "page"]),
        ("/executions/stream", {"per_page": 5}, ["query", "per_page"]),
        ("/jobs/stream", {"page": 2}, ["query", "page"]),
        ("/jobs/stream", {"per_page": 5}, ["query", "per_page"]),
        ("/jobs/stream", {"id_prefix": "ffff"}, ["query", "id_prefix"]),
        ("/executions/stream", {"id_prefix": "ffff"}, ["query", "id_prefix"]),
    ],
    ids=lambda value: None if not isinstance(value, dict) else "-".join(f"{k}={v}"[:24] for k, v in value.items()),
)
def test_bad_query_parameters_are_422_naming_them(
    shared_api: Api, unchanged_job: dict[str, Any], path: str, params: dict[str, Any], loc: list[str]
) -> None:
    path = path.format(id=unchanged_job["id"] if "jobs" in path else UNKNOWN_ID)
    assert loc in _locs(shared_api.get(path, params=params))


def test_a_body_over_1_mib_is_413(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    big = job_body("big", description="x" * (2 * ONE_MIB))
    response = shared_api.call("POST", "/jobs", json=big)
    assert response.status_code == 413
    assert "detail" in response.json()


def test_a_streamed_body_over_1_mib_is_413(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "big", "description": "'
        for _ in range(64):
            yield b"x" * 32 * 1024
        yield b'"}'

    response = shared_api.call(
        "PUT", f"/jobs/{unchanged_job['id']}", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_a_body_just_under_the_limit_is_parsed(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    response = shared_api.call("PUT", f"/jobs/{unchanged_job['id']}", json={"description": "x" * (ONE_MIB - 100)})
    assert ["body", "description"] in _locs(response)  # too long for the field, but read and validated


def test_unknown_paths_and_methods(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    assert shared_api.get("/nothing-here").status_code == 404
    assert shared_api.call("PATCH", f"/jobs/{unchanged_job['id']}", json={}).status_code == 405
    assert shared_api.call("DELETE", "/jobs").json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/jobs"), ("PUT", "/jobs/{id}"), ("PUT", "/jobs/{id}/status"), ("POST", "/apply")],
    ids=["create", "update", "status", "apply"],
)
@pytest.mark.parametrize("raw", [b"", b" \n\t "], ids=["empty", "whitespace"])
def test_an_empty_body_is_told_to_send_an_object(
    shared_api: Api, unchanged_job: dict[str, Any], method: str, path: str, raw: bytes
) -> None:
    """It was told ``malformed JSON: Expecting value: line 1 column 1 (char 0)``."""
    response = shared_api.call(
        method, path.format(id=unchanged_job["id"]), content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [
        {"loc": ["body"], "msg": "the body is empty: send a JSON object", "type": "json_invalid"}
    ]
