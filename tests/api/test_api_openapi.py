"""The served OpenAPI document: valid, complete, and true to what the API does (schemathesis)."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

from tests.api.helpers import Api

SEED_OPERATIONS = {
    ("get", "/task-functions"), ("get", "/job-types"), ("get", "/jobs"), ("post", "/jobs"),
    ("get", "/jobs/{job_id}"), ("put", "/jobs/{job_id}"), ("delete", "/jobs/{job_id}"),
    ("put", "/jobs/{job_id}/status"), ("post", "/jobs/{job_id}/trigger"), ("get", "/executions"),
    ("get", "/jobs/{job_id}/executions"), ("get", "/status"),
}  # fmt: skip
EXTENSIONS = {
    ("get", "/executions/{execution_id}"), ("get", "/executions/{execution_id}/log"), ("get", "/jobs/{job_id}/next"),
    ("post", "/apply"),
    ("get", "/notifications"), ("get", "/notifiers"), ("post", "/notifiers/{name}/test"),
    ("post", "/executions/{execution_id}/cancel"),
    ("get", "/overview"),
    ("get", "/jobs/{job_id}/timeline"), ("get", "/audit"), ("get", "/jobs/stream"), ("get", "/executions/stream"),
}  # fmt: skip
PREFIX = "/api/v1/scheduler"
EXAMPLES = int(os.environ.get("JOBCTL_TEST_FUZZ_EXAMPLES", "15"))
"""Examples per operation and mode; raise it (e.g. 500) for a deeper run than the default suite's."""


@pytest.fixture(scope="module")
def document(shared_api: Api) -> dict[str, Any]:
    response = shared_api.client.get("/openapi.json", headers=shared_api.headers("viewer"))
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def test_document_is_valid_openapi(document: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    validate(document)


def test_document_lists_every_endpoint_once(document: dict[str, Any]) -> None:
    operations = {
        (method, path.removeprefix(PREFIX)) for path, item in document["paths"].items() for method in item
        if path.startswith(PREFIX)
    }  # fmt: skip
    assert operations == SEED_OPERATIONS | EXTENSIONS
    assert set(document["paths"]) - {PREFIX + path for _, path in operations} == {"/healthz"}


def test_the_log_describes_its_output_pruned_header(document: dict[str, Any]) -> None:
    answer = document["paths"][f"{PREFIX}/executions/{{execution_id}}/log"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ExecutionLog"}
    header = answer["headers"]["X-Jobctl-Output-Pruned"]
    assert header["schema"] == {"type": "string", "enum": ["true", "false"]}
    assert "retention removed the run's output" in header["description"]


def test_request_bodies_are_described(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    for method, path, model in (("post", "/jobs", "JobCreate"), ("put", "/jobs/{job_id}", "JobUpdate"),
                                ("put", "/jobs/{job_id}/status", "JobStatusUpdate")):  # fmt: skip
        content = document["paths"][PREFIX + path][method]["requestBody"]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{model}"}
        assert components[model]["additionalProperties"] is False
    assert components["JobCreate"]["required"] == ["name", "taskFunctionId", "jobTypeId", "scheduleConfig"]


def test_every_error_is_documented_with_the_one_error_shape(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, item in document["paths"].items():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                    wanted = {"422": "ValidationErrorBody", "410": "GoneBody"}.get(status, "ErrorBody")
                    assert schema == wanted, (path, status)


def test_every_operation_needs_the_bearer_token(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for operation in item.values():
            expected = [] if path == "/healthz" else [{"HTTPBearer": []}]
            assert operation.get("security", []) == expected, path


# -- schemathesis ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_schema(shared_api: Api) -> Any:
    """The served document, for schemathesis to call the app in-process as the admin."""
    shared_api.create_job(f"schemathesis-{uuid.uuid4().hex[:6]}")
    return schemathesis.openapi.from_asgi("/openapi.json", shared_api.client.app, headers=shared_api.headers("viewer"))


CHECKS = [
    checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
    checks.response_schema_conformance, checks.response_headers_conformance,
]  # fmt: skip
OPERATIONS = sorted(SEED_OPERATIONS | EXTENSIONS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m}-{p}" for m, p in OPERATIONS])
def test_api_conforms_to_its_schema(api_schema: Any, shared_api: Api, method: str, path: str,
                                    mode: GenerationMode) -> None:  # fmt: skip
    """Generated requests never get a 5xx or an answer the document does not describe.

    Valid requests go to a job and execution that exist (random ids would only ever be 404);
    invalid ones (wrong types, missing fields, bad or missing token) go wherever they point.
    """
    operation = api_schema[PREFIX + path][method.upper()]
    ids = _existing_ids(shared_api) if mode == GenerationMode.POSITIVE else {}
    known = {name: value for name, value in ids.items() if "{" + name + "}" in path}
    headers = shared_api.headers("admin")

    @given(case=operation.as_strategy(mode, path_parameters=known or None))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              derandomize=True)  # fmt: skip
    def call(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()


def _existing_ids(api: Api) -> dict[str, str]:
    """A new job of this test (it may be changed or deleted) and a run of it."""
    job = api.create_job(f"fuzzed-{uuid.uuid4().hex[:8]}", maxInstances=1000)
    execution = api.call("POST", f"/jobs/{job['id']}/trigger").json()
    return {"job_id": job["id"], "execution_id": execution["executionId"]}


def test_docs_describe_every_endpoint(document: dict[str, Any]) -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    headings = {line.split("`")[1] for line in docs.splitlines() if line.startswith("### `")}
    served = {
        f"{method.upper()} {path.removeprefix(PREFIX)}"
        for path, item in document["paths"].items()
        for method in item
        if path.startswith(PREFIX)
    }
    assert headings == served
