"""A job's ``environment`` through the service on SQLite and Postgres."""

from __future__ import annotations

from typing import Any

import pytest

from jobctl.errors import ValidationFailed
from jobctl.service import Service
from jobctl.store import Store


def body(name: str, **overrides: Any) -> dict[str, Any]:
    return {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
            "taskArgs": {"command": "true"}, **overrides}  # fmt: skip


def test_the_environment_is_stored_and_null_when_unset(service: Service, store: Store) -> None:
    plain = service.create_job(body("plain"))
    variables = {"TAR_OPTIONS": "--one-file-system", "PATH": "/opt/bin:/usr/bin:/bin", "_x1": "", "U": "ü =\n"}
    set_ = service.create_job(body("set", environment=variables))
    assert plain["environment"] is None
    assert set_["environment"] == variables
    assert service.get_job(set_["id"])["environment"] == variables
    assert [job["environment"] for job in service.list_jobs()["jobs"]] == [None, variables]
    stored = store.jobs.get(set_["id"])
    assert stored is not None and stored.environment == variables


def test_an_update_replaces_clears_or_keeps_the_environment(service: Service) -> None:
    job = service.create_job(body("job", environment={"A": "1", "B": "2"}))
    assert service.update_job(job["id"], {"retryCount": 2})["environment"] == {"A": "1", "B": "2"}
    assert service.update_job(job["id"], {"environment": {"C": "3"}})["environment"] == {"C": "3"}
    assert service.set_job_status(job["id"], {"isPaused": True})["environment"] == {"C": "3"}
    assert service.update_job(job["id"], {"environment": None})["environment"] is None


@pytest.mark.parametrize(
    ("environment", "loc"),
    [
        ({"BAD-NAME": "x"}, ["body", "environment", "BAD-NAME", "[key]"]),
        ({"1ST": "x"}, ["body", "environment", "1ST", "[key]"]),
        ({"": "x"}, ["body", "environment", "", "[key]"]),
        ({"A B": "x"}, ["body", "environment", "A B", "[key]"]),
        ({"JOBCTL_JOB_ID": "x"}, ["body", "environment", "JOBCTL_JOB_ID", "[key]"]),
        ({"A": "a\x00b"}, ["body", "environment", "A"]),
        ({"A": 1}, ["body", "environment", "A"]),
        ({"A": "x" * (32 * 1024 + 1)}, ["body", "environment", "A"]),
        ({f"V{n}": "" for n in range(257)}, ["body", "environment"]),
        (["A=1"], ["body", "environment"]),
    ],
    ids=["dash", "leading-digit", "empty", "space", "jobctl-name", "nul", "non-string", "value-too-long",
         "too-many", "not-an-object"],
)  # fmt: skip
def test_a_bad_environment_is_422_at_its_loc(service: Service, environment: Any, loc: list[str]) -> None:
    with pytest.raises(ValidationFailed) as created:
        service.create_job(body("bad", environment=environment))
    assert [error["loc"] for error in created.value.errors] == [loc]
    job = service.create_job(body("good", environment={"A": "1"}))
    with pytest.raises(ValidationFailed) as updated:
        service.update_job(job["id"], {"environment": environment})
    assert [error["loc"] for error in updated.value.errors] == [loc]
    assert service.get_job(job["id"])["environment"] == {"A": "1"}
