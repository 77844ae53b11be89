"""``workingDirectory``, ``umask`` and ``nice`` through the service on SQLite and Postgres."""

from __future__ import annotations

from typing import Any

import pytest

from jobctl.errors import ValidationFailed
from jobctl.service import Service
from jobctl.store import Store


def body(name: str, **overrides: Any) -> dict[str, Any]:
    return {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
            "taskArgs": {"command": "true"}, **overrides}  # fmt: skip


def test_the_fields_are_stored_and_null_when_unset(service: Service, store: Store) -> None:
    plain = service.create_job(body("plain"))
    assert (plain["workingDirectory"], plain["umask"], plain["nice"]) == (None, None, None)
    job = service.create_job(body("set", workingDirectory="/srv/app", umask="027", nice=-5))
    assert (job["workingDirectory"], job["umask"], job["nice"]) == ("/srv/app", "027", -5)
    stored = store.jobs.get(job["id"])
    assert stored is not None and (stored.working_directory, stored.umask, stored.nice) == ("/srv/app", "027", -5)
    updated = service.update_job(job["id"], {"umask": "0077", "nice": 19})
    assert (updated["workingDirectory"], updated["umask"], updated["nice"]) == ("/srv/app", "0077", 19)
    reset = service.update_job(job["id"], {"workingDirectory": None, "umask": None, "nice": None})
    assert (reset["workingDirectory"], reset["umask"], reset["nice"]) == (None, None, None)


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"workingDirectory": "srv/app"}, ["body", "workingDirectory"]),
        ({"workingDirectory": ""}, ["body", "workingDirectory"]),
        ({"workingDirectory": "/srv/\x00"}, ["body", "workingDirectory"]),
        ({"workingDirectory": 5}, ["body", "workingDirectory"]),
        ({"umask": "999"}, ["body", "umask"]),
        ({"umask": "1022"}, ["body", "umask"]),
        ({"umask": "0o22"}, ["body", "umask"]),
        ({"umask": 18}, ["body", "umask"]),
        ({"nice": 20}, ["body", "nice"]),
        ({"nice": -21}, ["body", "nice"]),
        ({"nice": "5"}, ["body", "nice"]),
    ],
    ids=["relative-directory", "empty-directory", "nul-in-directory", "directory-not-a-string", "umask-not-octal",
         "umask-four-digits", "umask-python-prefix", "umask-number", "nice-too-high", "nice-too-low", "nice-string"],
)  # fmt: skip
def test_bad_values_are_422_at_their_loc(service: Service, fields: dict[str, Any], loc: list[str]) -> None:
    with pytest.raises(ValidationFailed) as created:
        service.create_job(body("bad", **fields))
    assert [error["loc"] for error in created.value.errors] == [loc]
    job = service.create_job(body("good", umask="027"))
    with pytest.raises(ValidationFailed) as updated:
        service.update_job(job["id"], fields)
    assert [error["loc"] for error in updated.value.errors] == [loc]
    assert service.get_job(job["id"])["umask"] == "027"


def test_a_umask_of_one_or_two_digits_is_taken_as_the_shell_takes_it(service: Service) -> None:
    """``umask 22`` is the shell's 022, and ``--umask 22`` was refused "must be an octal mode
    such as 022": one or two octal digits are now taken, kept as written (runs read them as
    octal, 22 as 022), so a jobs file saying ``umask = "22"`` stays unchanged from apply to apply."""
    for mask in ("22", "7", "0", "77"):
        job = service.create_job(body(f"mask-{mask}", umask=mask))
        assert (job["umask"], service.get_job(job["id"])["umask"]) == (mask, mask)
    for bad in ("8", "28", "", "0o22"):
        with pytest.raises(ValidationFailed) as refused:
            service.create_job(body("bad", umask=bad))
        assert [error["loc"] for error in refused.value.errors] == [["body", "umask"]], bad


def test_stdin_is_stored_and_bounded_in_bytes(service: Service) -> None:
    assert service.create_job(body("none"))["stdin"] is None
    at_limit = "é" * (32 * 1024)  # 65,536 bytes as UTF-8
    assert service.create_job(body("limit", stdin=at_limit))["stdin"] == at_limit
    job = service.create_job(body("text", stdin="line 1\nline 2\n"))
    assert service.update_job(job["id"], {"stdin": None})["stdin"] is None
    for bad in ("é" * (32 * 1024) + "x", "a\x00b", 5):
        with pytest.raises(ValidationFailed) as failed:
            service.create_job(body("bad", stdin=bad))
        assert [error["loc"] for error in failed.value.errors] == [["body", "stdin"]]


def test_the_shell_argument_must_be_an_absolute_path(service: Service) -> None:
    job = service.create_job(body("bash", taskArgs={"command": "true", "shell": "/bin/bash"}))
    assert job["taskArgs"]["shell"] == "/bin/bash"
    for bad in ("bash", "", 5):
        with pytest.raises(ValidationFailed) as failed:
            service.create_job(body("bad", taskArgs={"command": "true", "shell": bad}))
        assert [error["loc"] for error in failed.value.errors] == [["body", "taskArgs"]]
