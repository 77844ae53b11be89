"""Task arguments through the real CLI: what no run could be given is exit 2 with one line,
and arguments at the size limit really reach a run (``jobctl run``, a real ``execve``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from jobctl.models import TaskFunctionSpec
from jobctl.service.task_args import TASK_ARGS_MAX_BYTES
from jobctl.store import open_store


def _register_task(store_url: str) -> None:
    store = open_store(store_url)
    try:
        spec = TaskFunctionSpec(name="with_args", display_name="With args", description=None,
                                handler_type="command", handler_path="true")  # fmt: skip
        store.catalog.upsert_task_function(spec, datetime.now(UTC))
    finally:
        store.close()


def test_arguments_too_large_for_a_run_are_exit_2(
    cli: Any, store_url: str, run_json: Callable[..., Any], fails: Callable[..., str]
) -> None:
    _register_task(store_url)
    big = "pad=" + "x" * TASK_ARGS_MAX_BYTES
    fails(cli("jobs", "create", "big", "--every", "5m", "--task", "with_args", "--arg", big), 2, "--arg: is ")
    run_json("jobs", "create", "small", "--every", "5m", "--task", "with_args", "--arg", "pad=x", "--json")
    fails(cli("jobs", "update", "small", "--task", "with_args", "--arg", big), 2, "--arg: is ")
    assert run_json("jobs", "show", "small", "--json")["taskArgs"] == {"pad": "x"}


def test_arguments_with_nul_are_exit_2(cli: Any, fails: Callable[..., str]) -> None:
    body = {"name": "nul", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
            "taskArgs": {"command": "true", "key": "a\x00b"}}  # fmt: skip
    fails(cli("jobs", "create", "--from-json", "-", input=json.dumps(body)), 2, "taskArgs.key", "NUL")
    fails(cli("jobs", "show", "nul"), 3)


def test_arguments_at_the_limit_reach_the_run(cli: Any, ok: Callable[[Any], Any]) -> None:
    """The command line is in argv and twice in the environment (``JOBCTL_ARG_COMMAND``,
    ``JOBCTL_TASK_ARGS``): at the limit, every copy still fits what ``execve`` takes."""
    command = f'test "${{#JOBCTL_TASK_ARGS}}" -eq {TASK_ARGS_MAX_BYTES} && echo reached #'
    overhead = len(json.dumps({"command": command}))
    command += "x" * (TASK_ARGS_MAX_BYTES - overhead)
    assert len(json.dumps({"command": command})) == TASK_ARGS_MAX_BYTES
    ok(cli("jobs", "create", "at-limit", "--every", "1h", "--command", command))
    result = cli("run", "at-limit")
    assert (result.code, result.stdout) == (0, "reached\n"), result.stderr
