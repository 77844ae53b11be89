"""Jobs files through the API: ``POST /apply`` answers what the local service does (the CLI
through a real daemon: ``tests/remote/test_remote_cli.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from jobctl.errors import PermissionDenied, ValidationFailed
from tests.remote.helpers import Pair

TABLES: list[dict[str, Any]] = [
    {"name": "a-backup", "cron": "0 2 * * *", "command": "true", "timeout": "30s"},
    {"name": "a-ping", "every": "5m", "command": "true", "labels": {"team": "ops"}},
]


def test_post_apply_answers_as_the_local_service(pair: Pair) -> None:
    remote_plan = pair.remote.apply_jobs(source="r.toml", jobs=TABLES, dry_run=True)
    assert remote_plan == pair.local.apply_jobs(source="r.toml", jobs=TABLES, dry_run=True)
    assert pair.local.list_jobs()["total"] == 0
    assert pair.remote.apply_jobs(source="r.toml", jobs=TABLES)["created"] == ["a-backup", "a-ping"]
    changed = [{**TABLES[0], "timeout": "1m"}]
    assert pair.local.apply_jobs(source="r.toml", jobs=changed, prune=True, dry_run=True) == pair.remote.apply_jobs(
        source="r.toml", jobs=changed, prune=True
    )
    assert pair.local.apply_jobs(source="r.toml", jobs=changed)["unchanged"] == 1

    bad = [{"name": "x", "every": "5q", "command": "true", "colour": 1}, {"name": 7}]
    errors = []
    for service in (pair.local, pair.remote):
        with pytest.raises(ValidationFailed) as caught:
            service.apply_jobs(source="r.toml", jobs=bad)
        errors.append(caught.value.errors)
    assert errors[0] == errors[1]
    assert {tuple(error["loc"][:4]) for error in errors[0]} >= {
        ("body", "jobs", 0, "colour"),
        ("body", "jobs", 1, "name"),
    }


def test_post_apply_needs_an_admin_and_a_well_formed_body(pair: Pair) -> None:
    with pytest.raises(PermissionDenied):
        pair.remote_as("operator").apply_jobs(source="r.toml", jobs=TABLES, dry_run=True)
    for body, loc in (
        ({"jobs": []}, ["body", "source"]),
        ({"source": "r", "jobs": {}}, ["body", "jobs"]),
        ({"source": "r", "jobs": [1]}, ["body", "jobs", 0]),
        ({"source": "r", "jobs": [], "dryRun": "yes"}, ["body", "dryRun"]),
        ({"source": "r", "jobs": [], "extra": 1}, ["body", "extra"]),
    ):
        response = pair.client.post(
            "/api/v1/scheduler/apply", json=body, headers={"Authorization": f"Bearer {pair.secrets['admin']}"}
        )
        assert response.status_code == 422, response.text
        assert [error["loc"] for error in response.json()["detail"]] == [loc]


def test_post_apply_masks_keeps_pauses_and_refuses_an_empty_prune_as_the_local_service(pair: Pair) -> None:
    """The plan's masked values and kept pauses, and the refusal of a file of no jobs with
    ``prune`` (422 at ``["body", "jobs"]``, ``allowEmpty`` to let it), the same through the API."""
    secret = {**TABLES[1], "env": {"PGPASSWORD": "s3cret-one"}}
    pair.remote.apply_jobs(source="r.toml", jobs=[TABLES[0], secret])
    pair.local.set_job_status(pair.local.resolve_job("a-backup"), {"isPaused": True, "reason": "disk swap"})
    changed = [TABLES[0], {**secret, "env": {"PGPASSWORD": "s3cret-two"}}]
    local, remote = (
        service.apply_jobs(source="r.toml", jobs=changed, dry_run=True) for service in (pair.local, pair.remote)
    )
    assert remote == local
    assert remote["updated"] == [{"name": "a-ping", "changes": {"env.PGPASSWORD": ["***", "***"]}}]
    assert [(job["name"], job["pausedReason"]) for job in remote["staysPaused"]] == [("a-backup", "disk swap")]

    admin = {"Authorization": f"Bearer {pair.secrets['admin']}"}
    body = {"source": "r.toml", "jobs": [], "prune": True}
    for dry_run in (True, False):
        refused = pair.client.post("/api/v1/scheduler/apply", json={**body, "dryRun": dry_run}, headers=admin)
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["detail"]
        assert error["loc"] == ["body", "jobs"]
        assert error["msg"].endswith("would delete all 2 jobs of source 'r.toml'; nothing was applied (send allowEmpty:"
                                     " true to delete them)")  # fmt: skip
    assert pair.local.list_jobs()["total"] == 2
    bad = pair.client.post("/api/v1/scheduler/apply", json={**body, "allowEmpty": "yes"}, headers=admin)
    assert [error["loc"] for error in bad.json()["detail"]] == [["body", "allowEmpty"]]
    allowed = pair.client.post("/api/v1/scheduler/apply", json={**body, "allowEmpty": True}, headers=admin)
    assert (allowed.status_code, allowed.json()["deleted"]) == (200, ["a-backup", "a-ping"])
    assert pair.local.list_jobs()["total"] == 0
