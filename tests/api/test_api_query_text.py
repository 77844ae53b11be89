"""A NUL in any query parameter or path segment of any endpoint is a 4xx naming it, on both
stores: Postgres cannot compare a NUL with a text column, so ``/audit?actor=%00`` was a 503 there
(and a 200 on SQLite). The endpoints and their parameters are read from the OpenAPI document,
so a parameter added later is held to the same rule without a word here."""

from __future__ import annotations

from typing import Any

import pytest

from jobctl.api import API_PREFIX
from tests.api.helpers import Api

UNKNOWN_ID = "3f0c8a40-95a3-4b8e-9d1e-9b5e7b0f2a11"


def _operations(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    document = api.client.get("/openapi.json", headers=api.headers("viewer")).json()
    return [
        (method.upper(), path.removeprefix(API_PREFIX), operation)
        for path, item in document["paths"].items()
        if path.startswith(API_PREFIX)
        for method, operation in item.items()
    ]


def _filled(path: str, job_id: str) -> str:
    return path.replace("{job_id}", job_id).replace("{execution_id}", UNKNOWN_ID).replace("{name}", "none")


def test_a_nul_in_any_query_parameter_is_422_at_its_name(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    checked = []
    for method, path, operation in _operations(shared_api):
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            name = parameter["name"]
            response = shared_api.call(method, _filled(path, unchanged_job["id"]), params={name: "a\x00b"})
            assert response.status_code == 422, (method, path, name, response.status_code, response.text)
            locs = [error["loc"][:2] for error in response.json()["detail"]]  # a repeated one adds its index
            assert ["query", name] in locs, (method, path, name, locs)
            checked.append(f"{method} {path}?{name}")
    assert "GET /audit?actor" in checked and "GET /jobs?name" in checked and len(checked) > 40, checked


@pytest.mark.parametrize("name", ["actor", "name"])
def test_a_nul_in_a_text_filter_is_said_as_in_a_body(shared_api: Api, unchanged_job: dict[str, Any], name: str) -> None:
    path = "/audit" if name == "actor" else "/jobs"
    response = shared_api.get(path, params={name: "\x00"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [
        {"loc": ["query", name], "msg": "must not contain NUL characters", "type": "value_error"}
    ]


def test_a_nul_in_any_path_segment_is_404_or_422(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    for method, path, _ in _operations(shared_api):
        if "{" not in path:
            continue
        nul_path = path.replace("{job_id}", "%00").replace("{execution_id}", "%00").replace("{name}", "%00")
        response = shared_api.call(method, nul_path, json={} if method in ("POST", "PUT") else None)
        assert response.status_code in (404, 422), (method, path, response.status_code, response.text)
