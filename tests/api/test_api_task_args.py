"""``taskArgs`` that no run could be given (NUL, too large for ``execve``) are a 422 at create and
update, at the culprit's location; arguments right at the limit are accepted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jobctl.service.task_args import TASK_ARGS_MAX_BYTES
from tests.api.helpers import Api, job_body


def _with_size(size: int) -> dict[str, str]:
    """Shell arguments whose ``JOBCTL_TASK_ARGS`` JSON is exactly ``size`` bytes."""
    args = {"command": "true", "pad": ""}
    args["pad"] = "x" * (size - len(json.dumps(args)))
    assert len(json.dumps(args)) == size
    return args


NUL_CASES = {
    "key": ({"command": "true", "a\x00b": "x"}, ["body", "taskArgs", "a\x00b"]),
    "value": ({"command": "true", "k": "a\x00b"}, ["body", "taskArgs", "k"]),
    "command": ({"command": "echo \x00"}, ["body", "taskArgs", "command"]),
    "nested-value": ({"command": "true", "k": {"n": ["ok", "a\x00"]}}, ["body", "taskArgs", "k", "n", 1]),
    "nested-key": ({"command": "true", "k": [{"\x00": 1}]}, ["body", "taskArgs", "k", 0, "\x00"]),
    "too-large": (_with_size(TASK_ARGS_MAX_BYTES + 1), ["body", "taskArgs"]),
    "too-large-unicode": ({"command": "true", "pad": "é" * (TASK_ARGS_MAX_BYTES // 6 + 1)}, ["body", "taskArgs"]),
}


@pytest.mark.parametrize(("args", "loc"), NUL_CASES.values(), ids=list(NUL_CASES))
def test_args_no_run_could_get_are_refused_on_create(
    shared_api: Api, unchanged_job: dict[str, Any], args: dict[str, Any], loc: list[Any]
) -> None:
    response = shared_api.call("POST", "/jobs", json=job_body("refused", taskArgs=args))
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [loc]


@pytest.mark.parametrize(("args", "loc"), NUL_CASES.values(), ids=list(NUL_CASES))
def test_args_no_run_could_get_are_refused_on_update(
    shared_api: Api, unchanged_job: dict[str, Any], args: dict[str, Any], loc: list[Any]
) -> None:
    response = shared_api.call("PUT", f"/jobs/{unchanged_job['id']}", json={"taskArgs": args})
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [loc]


def test_args_at_the_limit_are_accepted(api: Api) -> None:
    args = _with_size(TASK_ARGS_MAX_BYTES)
    job = api.create_job("at-limit", taskArgs=args)
    assert job["taskArgs"] == args
    updated = api.call("PUT", f"/jobs/{job['id']}", json={"taskArgs": {**args, "pad": args["pad"][:-1]}})
    assert updated.status_code == 200, updated.text
    assert len(json.dumps(updated.json()["taskArgs"])) == TASK_ARGS_MAX_BYTES - 1
