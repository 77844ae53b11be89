"""Labels over HTTP: ``GET /jobs?label=k=v`` (repeatable, all must match), 422s with their loc, the document."""

from __future__ import annotations

import pytest

from tests.api.helpers import Api, job_body


def test_jobs_are_filtered_by_every_label_given(api: Api) -> None:
    api.create_job("a", labels={"team": "ops", "tier": "gold"})
    api.create_job("b", labels={"team": "ops"})
    api.create_job("c")
    both = api.get("/jobs", params=[("label", "team=ops"), ("label", "tier=gold")])
    assert both.status_code == 200
    assert [job["name"] for job in both.json()["jobs"]] == ["a"]
    one = api.get("/jobs", params={"label": "team=ops"}, role="viewer").json()
    assert ([job["name"] for job in one["jobs"]], one["total"]) == (["a", "b"], 2)
    alias = api.get("/jobs", params={"label": "team=ops"}, prefix="/api/setting/scheduler").json()
    assert alias == one
    assert [job["labels"] for job in api.get("/jobs").json()["jobs"]] == [{"team": "ops", "tier": "gold"},
                                                                          {"team": "ops"}, {}]  # fmt: skip


@pytest.mark.parametrize("text", ["team", "Team=ops", "team=a\x01b"], ids=["no-value", "bad-key", "control"])
def test_a_bad_label_filter_is_422_at_query_label(api: Api, text: str) -> None:
    response = api.get("/jobs", params={"label": text})
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", "label"]]


def test_bad_labels_in_a_body_are_422_at_their_loc(api: Api) -> None:
    created = api.call("POST", "/jobs", json={**job_body("x"), "labels": {"ok": "1", "Bad": "2"}})
    assert created.status_code == 422
    assert [error["loc"] for error in created.json()["detail"]] == [["body", "labels", "Bad", "[key]"]]
    job = api.create_job("y", labels={"team": "ops"})
    updated = api.call("PUT", f"/jobs/{job['id']}", json={"labels": {"team": "x" * 256}})
    assert updated.status_code == 422
    assert [error["loc"] for error in updated.json()["detail"]] == [["body", "labels", "team"]]
    assert api.get(f"/jobs/{job['id']}").json()["labels"] == {"team": "ops"}


def test_the_openapi_document_describes_labels(api: Api) -> None:
    document = api.client.get("/openapi.json", headers=api.headers("viewer")).json()
    schemas = document["components"]["schemas"]
    assert schemas["JobOut"]["properties"]["labels"]["type"] == "object"
    assert "labels" in schemas["JobOut"]["required"]
    create = schemas["JobCreate"]["properties"]["labels"]
    assert create["maxProperties"] == 64
    assert create["propertyNames"]["pattern"] == "^[a-z0-9][a-z0-9._/-]*$"
    parameters = document["paths"]["/api/v1/scheduler/jobs"]["get"]["parameters"]
    assert "label" in [parameter["name"] for parameter in parameters]
