"""A job's free-form JSON fields (``taskArgs``, ``scheduleConfig``) hold no number that is not
finite and nest at most 64 levels (docs/free-form-json.md): a 422 at the field, nothing stored.
A store that already holds such a number (written by an older release) still answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jobctl.wire.free_json import MAX_DEPTH
from tests.api.helpers import Api, job_body, nested_args

JSON = {"Content-Type": "application/json"}


def _send(api: Api, method: str, path: str, text: str) -> Any:
    return api.call(method, path, content=text.encode(), headers=JSON)


def _errors(response: Any) -> list[tuple[list[Any], str]]:
    assert response.status_code == 422, response.text
    return [(error["loc"], error["msg"]) for error in response.json()["detail"]]


BODY_TEXT = '{"name": "huge", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5}, "taskArgs": %s}'
"""A create body with the arguments spelled as given (JSON reads ``1e999`` as infinity)."""


@pytest.mark.parametrize(
    ("args", "loc"),
    [('{"command": "true", "x": 1e999}', ["body", "taskArgs", "x"]),
     ('{"command": "true", "x": [1, {"y": -1e999}]}', ["body", "taskArgs", "x", 1, "y"])],
    ids=["infinity", "nested-minus-infinity"],
)  # fmt: skip
def test_a_number_json_reads_as_infinite_is_refused_at_its_loc(
    shared_api: Api, unchanged_job: dict[str, Any], args: str, loc: list[Any]
) -> None:
    created = _send(shared_api, "POST", "/jobs", BODY_TEXT.replace("%s", args))
    message = f"must be a finite number: JSON has no NaN or Infinity, got {_sign(args)}inf"
    assert _errors(created) == [(loc, message)]
    updated = _send(shared_api, "PUT", f"/jobs/{unchanged_job['id']}", f'{{"taskArgs": {args}}}')
    assert [loc for loc, _ in _errors(updated)] == [loc]


@pytest.mark.parametrize(
    ("method", "path", "text", "error"),
    [("POST", "/jobs", BODY_TEXT.replace("%s", '{"command": "true", "x": NaN}'),
      (["body", "taskArgs", "x"], "must be a finite number: JSON has no NaN or Infinity, got nan")),
     ("PUT", "/jobs/{id}", '{"scheduleConfig": {"minutes": -Infinity}}',
      (["body", "scheduleConfig", "minutes"], "must be a finite number: JSON has no NaN or Infinity, got -inf")),
     ("PUT", "/jobs/{id}/status", '{"isEnabled": NaN}', (["body", "isEnabled"], "Input should be a valid boolean"))],
    ids=["create", "update", "status"],
)  # fmt: skip
def test_nan_and_infinity_as_python_writes_them_are_refused_at_their_field(
    shared_api: Api, unchanged_job: dict[str, Any], method: str, path: str, text: str, error: tuple[list[Any], str]
) -> None:
    """What ``jobctl --api`` sends for a jobs file's ``nan`` or a ``--from-json`` body's ``NaN``: the
    one validation refuses it where it is, in the words the CLI on the store uses (it was
    ``malformed JSON`` at ``["body"]``, and the CLI failed to encode it: an internal error)."""
    assert _errors(_send(shared_api, method, path.format(id=unchanged_job["id"]), text)) == [error]


def _sign(args: str) -> str:
    return "-" if "-1e999" in args else ""


def test_an_infinite_number_in_the_schedule_is_refused_at_its_loc(
    shared_api: Api, unchanged_job: dict[str, Any]
) -> None:
    text = json.dumps(job_body("huge")).replace('{"minutes": 5}', '{"minutes": 1e999}')
    assert _errors(_send(shared_api, "POST", "/jobs", text)) == [
        (["body", "scheduleConfig", "minutes"], "must be a finite number: JSON has no NaN or Infinity, got inf")
    ]


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 495, 900], ids=["one-too-many", "495", "900"])
def test_arguments_nested_too_deep_are_refused_at_the_field(
    shared_api: Api, unchanged_job: dict[str, Any], levels: int
) -> None:
    """495 levels, a 2 KB body, was a 500 (RecursionError masking the audit entry)."""
    message = f"is nested more than {MAX_DEPTH} levels deep (objects and arrays within one another)"
    body = job_body("deep", taskArgs=nested_args(levels))
    assert _errors(shared_api.call("POST", "/jobs", json=body)) == [(["body", "taskArgs"], message)]
    update = {"taskArgs": nested_args(levels)}
    assert _errors(shared_api.call("PUT", f"/jobs/{unchanged_job['id']}", json=update)) == [
        (["body", "taskArgs"], message)
    ]


def test_a_schedule_nested_too_deep_is_refused_at_the_field(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    config: Any = {"minutes": 5}
    for _ in range(600):
        config = {"x": config}
    response = shared_api.call("POST", "/jobs", json=job_body("deep", scheduleConfig=config))
    assert [loc for loc, _ in _errors(response)] == [["body", "scheduleConfig"]]


def test_a_jobs_file_nested_too_deep_is_refused_at_its_key(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    table = {"name": "deep", "every": "5m", "task": "shell", "args": nested_args(600)}
    response = shared_api.call("POST", "/apply", json={"source": "deep.toml", "jobs": [table]})
    assert [loc for loc, _ in _errors(response)] == [["body", "jobs", 0, "args"]]


def test_arguments_at_the_depth_limit_are_taken_one_more_level_is_not(api: Api) -> None:
    job = api.create_job("deep", taskArgs=nested_args(MAX_DEPTH))
    assert job["taskArgs"] == nested_args(MAX_DEPTH)
    assert api.get("/audit").status_code == 200
    refused = api.call("PUT", f"/jobs/{job['id']}", json={"taskArgs": nested_args(MAX_DEPTH + 1)})
    assert [loc for loc, _ in _errors(refused)] == [["body", "taskArgs"]]
    assert api.get(f"/jobs/{job['id']}").json()["taskArgs"] == nested_args(MAX_DEPTH)


def test_a_stored_number_that_is_not_finite_reads_as_null(api: Api) -> None:
    """What an older release stored (``json.dumps`` writes ``NaN``) answers: ``null`` in its place."""
    job = api.create_job("old", taskArgs={"command": "true", "x": 1})
    api.store.db.execute(
        "UPDATE jobs SET task_args = :args WHERE id = :id", {"args": '{"command":"true","x":NaN}', "id": job["id"]}
    )
    api.store.db.execute(
        "UPDATE audit_log SET details = :details WHERE target_id = :id",
        {"details": '{"changes":{"taskArgs":{"old":{"x":Infinity},"new":{"x":-Infinity}}}}', "id": job["id"]},
    )
    api.call("DELETE", f"/jobs/{job['id']}")  # the audit entries stay

    listed = api.get("/audit", params={"job_id": job["id"]})
    assert listed.status_code == 200, listed.text
    changes = [(entry["details"] or {}).get("changes") for entry in listed.json()["entries"]]
    assert {"taskArgs": {"old": {"x": None}, "new": {"x": None}}} in changes


def test_a_stored_number_that_is_not_finite_reads_as_null_in_jobs(api: Api) -> None:
    job = api.create_job("old", taskArgs={"command": "true", "x": 1})
    api.store.db.execute(
        "UPDATE jobs SET task_args = :args WHERE id = :id", {"args": '{"command":"true","x":NaN}', "id": job["id"]}
    )
    for path in ("/jobs", f"/jobs/{job['id']}"):
        response = api.get(path)
        assert response.status_code == 200, f"{path}: {response.text}"
        found = response.json()["jobs"][0] if path == "/jobs" else response.json()
        assert found["taskArgs"] == {"command": "true", "x": None}
