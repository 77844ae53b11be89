"""Ids in paths and queries: one rule (a UUID's 36-character form with dashes, in any case), one
error for a query's malformed id, and a long one not echoed back whole (docs/api.md, "Ids")."""

from __future__ import annotations

from typing import Any

import pytest

from jobctl.shown import ELLIPSIS, LONGEST_SHOWN
from tests.api.helpers import Api, run_execution

NOT_A_UUID = {"msg": "must be a UUID, 36 characters with dashes (8-4-4-4-12 hex digits)", "type": "uuid_parsing"}
QUERY_IDS = [
    ("/executions", "job_id"),
    ("/executions/stream", "job_id"),
    ("/audit", "job_id"),
    ("/notifications", "job_id"),
    ("/executions", "after"),
    ("/executions", "before"),
    ("/executions/stream", "after"),
    ("/jobs/{id}/executions", "after"),
    ("/jobs/{id}/executions", "before"),
]


@pytest.mark.parametrize(("path", "name"), QUERY_IDS)
def test_a_malformed_id_in_a_query_is_one_error_wherever_it_is(
    shared_api: Api, unchanged_job: dict[str, Any], path: str, name: str
) -> None:
    """``after`` said ``must be a UUID`` (``type_error.uuid``), ``job_id`` pydantic's ``Input
    should be a valid UUID, ...`` (``uuid_parsing``)."""
    response = shared_api.get(path.format(id=unchanged_job["id"]), params={name: "not-an-id"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [{"loc": ["query", name], **NOT_A_UUID}]


def _spellings(job_id: str) -> dict[str, str]:
    return {
        "braces": "{" + job_id + "}",
        "urn": "urn:uuid:" + job_id,
        "no-dashes": job_id.replace("-", ""),
    }


def test_an_id_is_its_36_characters_in_any_case_in_a_path_and_in_a_query(api: Api) -> None:
    """``?job_id=`` took ``{UUID}``, ``urn:uuid:UUID`` and the 32 digits without dashes, which a
    path answered with 404: both now take the one form ids are shown in, in any case."""
    job = api.create_job("spelt")
    execution_id = run_execution(api, job["id"])
    upper = job["id"].upper()
    assert api.get(f"/jobs/{upper}").json()["id"] == job["id"]
    listed = api.get("/executions", params={"job_id": upper}).json()["executions"]
    assert [run["id"] for run in listed] == [execution_id]
    assert api.get("/executions", params={"after": execution_id.upper()}).status_code == 200
    for spelling, text in _spellings(job["id"]).items():
        assert api.get(f"/jobs/{text}").status_code == 404, spelling
        response = api.get("/executions", params={"job_id": text})
        assert response.status_code == 422, (spelling, response.text)
        assert response.json()["detail"] == [{"loc": ["query", "job_id"], **NOT_A_UUID}], spelling


@pytest.mark.parametrize("path", ["/jobs/{}", "/jobs/{}/timeline", "/executions/{}", "/executions/{}/log"])
def test_a_long_unknown_id_is_cut_in_the_answer(shared_api: Api, unchanged_job: dict[str, Any], path: str) -> None:
    """A 10,000-character id was echoed back whole in the 404's detail."""
    response = shared_api.get(path.format("a" * 10_000))
    assert response.status_code == 404, response.text
    kind = "job" if path.startswith("/jobs") else "execution"
    assert response.json() == {"detail": f"no {kind} '{'a' * LONGEST_SHOWN}{ELLIPSIS}'"}
    assert shared_api.get(path.format("nope")).json() == {"detail": f"no {kind} 'nope'"}
