"""Authentication (401 with a Bearer challenge) and the role matrix (403), on a shared store."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from jobctl.service.tokens import create_token, revoke_token
from tests.api.helpers import Api, job_body


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic dXNlcjpwdw=="}, {"Authorization": "Bearer"},
     {"Authorization": "bearer jobctl_wrong"}],
    ids=["missing", "unknown", "basic-scheme", "empty-bearer", "lowercase-scheme-unknown"],
)  # fmt: skip
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/jobs"), ("GET", "/status"), ("GET", "/executions/00000000-0000-0000-0000-000000000000"),
     ("POST", "/jobs"), ("DELETE", "/jobs/{id}"), ("POST", "/jobs/{id}/trigger")],
    ids=["list", "status", "execution", "create", "delete", "trigger"],
)  # fmt: skip
def test_bad_credentials_are_401(shared_api: Api, unchanged_job: dict[str, Any], headers: dict[str, str],
                                 method: str, path: str) -> None:  # fmt: skip
    body = job_body("x") if method == "POST" and path == "/jobs" else None
    response = shared_api.call(method, path.format(id=unchanged_job["id"]), role=None, headers=headers, json=body)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert isinstance(response.json()["detail"], str)


def test_a_revoked_token_is_401_on_its_next_request(shared_api: Api) -> None:
    name = f"short-lived-{uuid.uuid4().hex[:6]}"
    secret, _ = create_token(shared_api.store, name, "viewer")
    headers = {"Authorization": f"Bearer {secret}"}
    assert shared_api.get("/jobs", role=None, headers=headers).status_code == 200
    revoke_token(shared_api.store, name)
    assert shared_api.get("/jobs", role=None, headers=headers).status_code == 401


WRITES: dict[str, tuple[str, str, str, int]] = {
    "create": ("admin", "POST", "/jobs", 201),
    "update": ("admin", "PUT", "/jobs/{id}", 200),
    "delete": ("admin", "DELETE", "/jobs/{id}", 204),
    "status": ("operator", "PUT", "/jobs/{id}/status", 200),
    "trigger": ("operator", "POST", "/jobs/{id}/trigger", 200),
}
BODIES: dict[str, Any] = {"update": {"retryCount": 2}, "status": {"isPaused": True}}
RANK = {"viewer": 0, "operator": 1, "admin": 2}


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
@pytest.mark.parametrize("write", sorted(WRITES))
def test_role_matrix(shared_api: Api, role: str, write: str) -> None:
    needed, method, path, ok_status = WRITES[write]
    job = shared_api.create_job(f"matrix-{uuid.uuid4().hex[:8]}")
    new_name = f"created-{uuid.uuid4().hex[:8]}"
    body = job_body(new_name) if write == "create" else BODIES.get(write)
    before = shared_api.get(f"/jobs/{job['id']}").json()
    response = shared_api.call(method, path.format(id=job["id"]), role=role, json=body)
    if RANK[role] >= RANK[needed]:
        assert response.status_code == ok_status, response.text
        return
    assert response.status_code == 403
    assert needed in response.json()["detail"]
    assert shared_api.get(f"/jobs/{job['id']}").json() == before
    assert shared_api.get("/jobs", params={"name": new_name}).json()["total"] == 0


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_every_role_reads(shared_api: Api, unchanged_job: dict[str, Any], role: str) -> None:
    job_id = unchanged_job["id"]
    for path in ("/jobs", f"/jobs/{job_id}", "/executions", f"/jobs/{job_id}/executions", "/status",
                 "/task-functions", "/job-types"):  # fmt: skip
        assert shared_api.get(path, role=role).status_code == 200, path


def test_a_request_records_the_tokens_last_use_once_a_minute(api: Api) -> None:
    def last_used(name: str) -> Any:
        return {t.name: t.last_used_at for t in api.store.tokens.list()}[name]

    assert last_used("viewer-token") is None
    assert api.get("/jobs", role="viewer").status_code == 200
    recorded = last_used("viewer-token")
    assert recorded is not None
    for _ in range(3):
        assert api.get("/status", role="viewer").status_code == 200
    assert last_used("viewer-token") == recorded, "no write per request"
    assert last_used("admin-token") is None
