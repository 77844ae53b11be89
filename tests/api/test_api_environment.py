"""A job's ``environment`` over HTTP: 422s with their loc, never a 500, the document, and its
values masked for viewers in every job answer, with its ``stdin`` and secret-looking ``taskArgs``."""

from __future__ import annotations

import json
from typing import Any

from tests.api.helpers import Api, job_body


def test_a_bad_environment_is_422_at_its_loc_over_http(api: Api) -> None:
    created = api.call("POST", "/jobs", json={**job_body("x"), "environment": {"OK": "1", "NOT-OK": "2"}})
    assert created.status_code == 422
    assert [error["loc"] for error in created.json()["detail"]] == [["body", "environment", "NOT-OK", "[key]"]]
    job = api.create_job("y", environment={"A": "1"})
    assert job["environment"] == {"A": "1"}
    updated = api.call("PUT", f"/jobs/{job['id']}", json={"environment": {"A": "a\x00b"}})
    assert updated.status_code == 422
    assert [error["loc"] for error in updated.json()["detail"]] == [["body", "environment", "A"]]
    assert api.get(f"/jobs/{job['id']}").json()["environment"] == {"A": "1"}
    cleared = api.call("PUT", f"/jobs/{job['id']}", json={"environment": None})
    assert (cleared.status_code, cleared.json()["environment"]) == (200, None)


def test_the_openapi_document_describes_the_environment(api: Api) -> None:
    document = api.client.get("/openapi.json", headers=api.headers("viewer")).json()
    schemas = document["components"]["schemas"]
    assert "environment" in schemas["JobOut"]["required"]
    create = schemas["JobCreate"]["properties"]["environment"]
    assert any(option.get("maxProperties") == 256 for option in create["anyOf"])


SECRET_ENVIRONMENT = {"DB_PASSWORD": "hunter2", "EMPTY": ""}
MASKED = {"DB_PASSWORD": "***", "EMPTY": "***"}


def _every_job_answer(api: Api, job_id: str, role: str, key: str = "environment") -> dict[str, Any]:
    """The job's ``key`` as each read gives it to ``role``: show, list (by page and by cursor), stream."""
    first_page = api.get("/jobs", params={"per_page": 1}, role=role).json()
    by_cursor = api.get("/jobs", params={"after": first_page["nextCursor"]}, role=role).json()["jobs"]
    streamed = [json.loads(line) for line in api.get("/jobs/stream", role=role).text.splitlines()]
    answers = {
        "show": api.get(f"/jobs/{job_id}", role=role).json(),
        "list": next(job for job in api.get("/jobs", role=role).json()["jobs"] if job["id"] == job_id),
        "list-by-cursor": next(job for job in by_cursor if job["id"] == job_id),
        "stream": next(job for job in streamed if job["id"] == job_id),
    }
    return {name: answer[key] for name, answer in answers.items()}


def test_a_viewer_reads_environment_names_and_never_their_values(api: Api) -> None:
    """Viewers read ``"environment": {"DB_PASSWORD": "hunter2"}`` from every job answer, where
    the audit log masks every value (docs/secrets.md)."""
    api.create_job("first")
    job = api.create_job("with-secret", environment=SECRET_ENVIRONMENT)
    reads = ("show", "list", "list-by-cursor", "stream")
    assert _every_job_answer(api, job["id"], "viewer") == dict.fromkeys(reads, MASKED)
    for role in ("operator", "admin"):
        assert _every_job_answer(api, job["id"], role) == dict.fromkeys(reads, SECRET_ENVIRONMENT), role
    paused = api.call("PUT", f"/jobs/{job['id']}/status", json={"isPaused": True}, role="operator").json()
    assert paused["environment"] == SECRET_ENVIRONMENT, "an operator's answer carries the values"
    assert api.store.jobs.get(job["id"]).environment == SECRET_ENVIRONMENT, "masking is of answers, never of the job"


def test_a_job_without_environment_reads_the_same_to_every_role(api: Api) -> None:
    job = api.create_job("plain")
    answers = [api.get(f"/jobs/{job['id']}", role=role).json() for role in ("viewer", "operator", "admin")]
    assert answers[0] == answers[1] == answers[2] and answers[0]["environment"] is None


SECRET_ARGS = {"command": "echo $JOBCTL_ARG_PASSWORD", "password": "topsecret", "api_token": "tok123", "day": "mon"}
MASKED_ARGS = {"command": "echo $JOBCTL_ARG_PASSWORD", "password": "***", "api_token": "***", "day": "mon"}


def test_a_viewer_reads_stdin_and_secret_looking_args_masked(api: Api) -> None:
    """A viewer read ``"stdin": "pw=abc"`` and ``"taskArgs": {"password": "topsecret"}`` from
    every job answer, while the audit log and apply plans masked them for everyone: now they
    read as the audit log shows them, by its rule for which keys are secret-looking."""
    api.create_job("first")
    job = api.create_job("with-secrets", taskArgs=SECRET_ARGS, stdin="pw=abc")
    reads = ("show", "list", "list-by-cursor", "stream")
    assert _every_job_answer(api, job["id"], "viewer", "stdin") == dict.fromkeys(reads, "***")
    assert _every_job_answer(api, job["id"], "viewer", "taskArgs") == dict.fromkeys(reads, MASKED_ARGS)
    for role in ("operator", "admin"):
        assert _every_job_answer(api, job["id"], role, "stdin") == dict.fromkeys(reads, "pw=abc"), role
        assert _every_job_answer(api, job["id"], role, "taskArgs") == dict.fromkeys(reads, SECRET_ARGS), role
    created = api.call("GET", f"/audit?job_id={job['id']}").json()["entries"][-1]["details"]["settings"]
    assert created["taskArgs"] == MASKED_ARGS and created["stdin"] == "***", "the audit log's rule, the same"
    paused = api.call("PUT", f"/jobs/{job['id']}/status", json={"isPaused": True}, role="operator").json()
    assert (paused["stdin"], paused["taskArgs"]) == ("pw=abc", SECRET_ARGS), "an operator's answer carries them"
    stored = api.store.jobs.get(job["id"])
    assert (stored.stdin, stored.task_args) == ("pw=abc", SECRET_ARGS), "masking is of answers, never of the job"


def test_an_empty_stdin_and_no_args_read_the_same_to_a_viewer(api: Api) -> None:
    """Masking hides values, not whether there is one: an empty stdin is ``***`` too (as an
    empty environment value is), no stdin stays null, and args with no secret-looking key as they are."""
    empty = api.create_job("empty-stdin", stdin="")
    plain = api.create_job("no-stdin", taskArgs={"command": "true", "day": "mon"})
    assert api.get(f"/jobs/{empty['id']}", role="viewer").json()["stdin"] == "***"
    shown = api.get(f"/jobs/{plain['id']}", role="viewer").json()
    assert (shown["stdin"], shown["taskArgs"]) == (None, {"command": "true", "day": "mon"})
