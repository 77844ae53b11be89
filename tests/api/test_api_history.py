"""``GET /audit`` and ``GET /jobs/{id}/timeline`` over HTTP: roles, paging, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import Api


def test_changes_through_the_api_are_audited_under_the_tokens_name(api: Api) -> None:
    job = api.create_job("audited")
    assert api.call("PUT", f"/jobs/{job['id']}/status", json={"isPaused": True, "reason": "disk full"},
                    role="operator").status_code == 200  # fmt: skip
    assert api.call("POST", f"/jobs/{job['id']}/trigger", role="operator").status_code == 200
    page = api.get("/audit", params={"job_id": job["id"], "per_page": 2})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 3 and [e["action"] for e in body["entries"]] == ["job.triggered", "job.paused"]
    assert [(e["actor"], e["reason"]) for e in body["entries"]] == [("operator-token", None),
                                                                    ("operator-token", "disk full")]  # fmt: skip
    older = api.get("/audit", params={"job_id": job["id"], "per_page": 2, "page": 2}).json()["entries"]
    assert [(e["action"], e["actor"], e["targetName"]) for e in older] == [("job.created", "admin-token", "audited")]
    assert api.get("/audit", params={"actor": "nobody"}).json() == {"entries": [], "total": 0}


def test_an_update_is_audited_as_json_values_and_the_environment_by_name(api: Api) -> None:
    """``details`` holds JSON values (``false``, ``null``), not Python reprs in strings, and an
    environment change names its variables beside the masked maps; the timeline words it so."""
    job = api.create_job("spelled", environment={"PGDATABASE": "app"})
    body = {"environment": {"PGDATABASE": "app2"}, "isPaused": True, "description": "x"}
    assert api.call("PUT", f"/jobs/{job['id']}", json=body).status_code == 200
    entry = api.get("/audit", params={"job_id": job["id"], "per_page": 1}).json()["entries"][0]
    assert entry["details"] == {"changes": {
        "description": {"old": None, "new": "x"},
        "environment": {"old": {"PGDATABASE": "***"}, "new": {"PGDATABASE": "***"},
                        "added": [], "removed": [], "changed": ["PGDATABASE"]},
        "isPaused": {"old": False, "new": True},
    }}  # fmt: skip
    events = api.get(f"/jobs/{job['id']}/timeline").json()["events"]
    assert events[-1]["text"] == (
        'updated by admin-token: description null -> "x"; environment: PGDATABASE changed; isPaused false -> true'
    )


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_read_the_audit_log(api: Api, role: str) -> None:
    assert api.get("/audit", role=role).status_code == 403
    assert api.get("/audit", role=None).status_code == 401


@pytest.mark.parametrize(
    ("path", "params", "loc"),
    [("/audit", {"since": "yesterday"}, ["query", "since"]), ("/audit", {"job_id": "x"}, ["query", "job_id"]),
     ("/audit", {"per_page": 101}, ["query", "per_page"]),
     ("/jobs/{id}/timeline", {"since": "1h", "until": "2h"}, ["query", "until"]),
     ("/jobs/{id}/timeline", {"since": "400d"}, ["query", "since"]),
     ("/jobs/{id}/timeline", {"until": "2026-13-01"}, ["query", "until"])],
    ids=["audit-since", "audit-job-id", "audit-per-page", "reversed", "too-long", "bad-until"],
)  # fmt: skip
def test_bad_windows_and_filters_are_422_at_their_field(
    shared_api: Api, unchanged_job: dict[str, Any], path: str, params: dict[str, object], loc: list[str]
) -> None:
    response = shared_api.get(path.format(id=unchanged_job["id"]), params=params)
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [loc]


def test_a_viewer_reads_a_timeline_and_an_unknown_job_is_404(api: Api) -> None:
    job = api.create_job("seen")
    timeline = api.get(f"/jobs/{job['id']}/timeline", role="viewer")
    assert timeline.status_code == 200, timeline.text
    assert [e["text"] for e in timeline.json()["events"]] == ["created by admin-token"]
    assert api.get("/jobs/3f0c8a40-95a3-4b8e-9d1e-9b5e7b0f2a11/timeline", role="viewer").status_code == 404


AN_INSTANT = "2026-12-01T00:00:00Z"


@pytest.mark.parametrize("path", ["/executions", "/jobs/{id}/executions", "/executions/stream", "/jobs/{id}/timeline"])
@pytest.mark.parametrize(
    "params",
    [{"since": AN_INSTANT, "until": AN_INSTANT}, {"since": AN_INSTANT, "until": "2026-11-30T23:59:59Z"}],
    ids=["empty", "reversed"],
)
def test_every_window_refuses_an_empty_or_reversed_one_in_the_same_words(
    shared_api: Api, unchanged_job: dict[str, Any], path: str, params: dict[str, str]
) -> None:
    """The timeline said ``must not be before since (the window is reversed)`` and took an empty
    window where the execution listings refused both with ``must be later than since``."""
    response = shared_api.get(path.format(id=unchanged_job["id"]), params=params)
    assert response.status_code == 422, response.text
    assert [(e["loc"], e["msg"]) for e in response.json()["detail"]] == [
        (["query", "until"], "must be later than since")
    ]
