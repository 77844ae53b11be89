"""``PUT /jobs/{id}`` with a body that changes nothing writes nothing: the job's ``updatedAt`` and
``updatedBy`` still name the last change, and the audit log has no entry (docs/audit-log.md)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import Api


@pytest.mark.parametrize(
    "body",
    [{}, {"retryCount": 0}, {"scheduleConfig": {"minutes": 5}, "taskArgs": {"command": "true"}, "labels": {}}],
    ids=["empty", "same-retries", "same-fields"],
)
def test_an_update_that_changes_nothing_writes_nothing(api: Api, body: dict[str, Any]) -> None:
    job = api.create_job("same")
    entries = api.get("/audit").json()["entries"]
    answer = api.call("PUT", f"/jobs/{job['id']}", json=body)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["updatedAt"], answer.json()["updatedBy"]) == (job["updatedAt"], job["updatedBy"])
    stored = api.get(f"/jobs/{job['id']}").json()
    assert (stored["updatedAt"], stored["updatedBy"]) == (job["updatedAt"], job["updatedBy"])
    assert api.get("/audit").json()["entries"] == entries

    changed = api.call("PUT", f"/jobs/{job['id']}", json={"retryCount": 1})
    assert changed.json()["updatedAt"] != job["updatedAt"]
    assert api.get("/audit").json()["entries"][0]["action"] == "job.updated"


@pytest.mark.parametrize(
    ("first", "again"),
    [({"isPaused": True}, {"isPaused": True}), ({"isEnabled": False}, {"isEnabled": False}),
     (None, {"isEnabled": True, "isPaused": False})],
    ids=["pause-paused", "disable-disabled", "enable-active"],
)  # fmt: skip
def test_a_status_already_as_asked_writes_nothing(
    api: Api, first: dict[str, Any] | None, again: dict[str, Any]
) -> None:
    job = api.create_job("same")
    if first is not None:
        job = api.call("PUT", f"/jobs/{job['id']}/status", json=first).json()
    entries = api.get("/audit").json()["entries"]
    answer = api.call("PUT", f"/jobs/{job['id']}/status", json=again)
    assert answer.status_code == 200, answer.text
    stored = api.get(f"/jobs/{job['id']}").json()
    assert (stored["updatedAt"], stored["updatedBy"]) == (job["updatedAt"], job["updatedBy"])
    assert api.get("/audit").json()["entries"] == entries
