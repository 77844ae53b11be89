"""What is checked first: the token (401), then the role (403), then the content type (415),
then the body (422); and only routes that take a body ask for ``application/json``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import Api

BODY_ROUTES = {
    "create": ("POST", "/jobs", "admin"),
    "update": ("PUT", "/jobs/{id}", "admin"),
    "status": ("PUT", "/jobs/{id}/status", "operator"),
}
TOO_LOW = {"admin": ("viewer", "operator"), "operator": ("viewer",)}
BAD_BODIES = {
    "malformed": (b'{"name": ', "application/json"),
    "not-an-object": (b"[1, 2]", "application/json"),
    "unknown-field": (b'{"nope": 1}', "application/json"),
    "text-plain": (b'{"retryCount": 2}', "text/plain"),
    "no-content-type": (b'{"retryCount": 2}', None),
}
CASES = [
    (route, role, bad)
    for route, (_, _, needed) in BODY_ROUTES.items()
    for role in TOO_LOW[needed]
    for bad in BAD_BODIES
]


def _send(api: Api, route: str, job_id: str, raw: bytes, content_type: str | None, **kwargs: Any) -> Any:
    method, path, _ = BODY_ROUTES[route]
    headers = {"Content-Type": content_type} if content_type else {}
    return api.call(method, path.format(id=job_id), content=raw, headers=headers, **kwargs)


@pytest.mark.parametrize(("route", "role", "bad"), CASES, ids=["-".join(case) for case in CASES])
def test_a_role_too_low_is_403_whatever_the_body(
    shared_api: Api, unchanged_job: dict[str, Any], route: str, role: str, bad: str
) -> None:
    raw, content_type = BAD_BODIES[bad]
    response = _send(shared_api, route, unchanged_job["id"], raw, content_type, role=role)
    assert response.status_code == 403, response.text
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("route", sorted(BODY_ROUTES))
def test_no_token_is_401_before_anything_about_the_body(
    shared_api: Api, unchanged_job: dict[str, Any], route: str
) -> None:
    response = _send(shared_api, route, unchanged_job["id"], b"{", "text/plain", role=None)
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx",
     "text/json", ""],
    ids=["none", "text", "form", "multipart", "jsonx", "text-json", "empty"],
)  # fmt: skip
@pytest.mark.parametrize("route", sorted(BODY_ROUTES))
def test_a_body_not_sent_as_json_is_415(
    shared_api: Api, unchanged_job: dict[str, Any], route: str, content_type: str | None
) -> None:
    response = _send(shared_api, route, unchanged_job["id"], b'{"isPaused": false}', content_type)
    assert response.status_code == 415, response.text
    assert "application/json" in response.json()["detail"]


@pytest.mark.parametrize("route", sorted(BODY_ROUTES))
def test_a_malformed_body_sent_as_json_is_still_422(shared_api: Api, unchanged_job: dict[str, Any], route: str) -> None:
    response = _send(shared_api, route, unchanged_job["id"], b"{", "application/json")
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body"]


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON", " application/json ;"],
)  # fmt: skip
def test_json_with_parameters_or_any_case_is_accepted(api: Api, content_type: str) -> None:
    job = api.create_job("typed")
    for route, raw, status in (("status", b'{"isPaused": true}', 200), ("update", b'{"retryCount": 3}', 200)):
        assert _send(api, route, job["id"], raw, content_type).status_code == status
    created = _send(api, "create", "", b'{"name": "made", "taskFunctionId": 1, "jobTypeId": 1, '
                    b'"scheduleConfig": {"minutes": 5}, "taskArgs": {"command": "true"}}', content_type)  # fmt: skip
    assert created.status_code == 201, created.text


def test_routes_without_a_body_need_no_content_type(api: Api) -> None:
    job = api.create_job("bodiless")
    triggered = api.call("POST", f"/jobs/{job['id']}/trigger")
    assert "content-type" not in triggered.request.headers
    assert triggered.status_code == 200, triggered.text
    with_text = api.call(
        "POST", f"/jobs/{job['id']}/trigger", content=b"ignored", headers={"Content-Type": "text/plain"}
    )
    assert with_text.status_code == 409  # got past the content type: maxInstances 1 is reached
    deleted = api.call("DELETE", f"/jobs/{api.create_job('idle')['id']}")  # no active run to refuse it
    assert "content-type" not in deleted.request.headers
    assert deleted.status_code == 204
