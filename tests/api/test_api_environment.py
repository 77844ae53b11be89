"""A job's ``environment`` over HTTP: 422s with their loc, never a 500, and the document."""

from __future__ import annotations

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
