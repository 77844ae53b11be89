"""Task arguments through the real CLI: what no run could be given is exit 2 with one line,
arguments at the size limit really reach a run (``jobctl run``, a real ``execve``), and
``jobs show`` prints them as given."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

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


def test_jobs_show_prints_the_command_as_typed_and_other_arguments_as_json(
    cli: Any, store_url: str, run_json: Callable[..., Any], ok: Callable[[Any], Any]
) -> None:
    """A shell job's command is shown as typed (a Python repr gained a backslash before the
    quote of ``it's``); other arguments, labels and the like in the API's spelling."""
    from tests.cli.test_cli_environment import _fields

    if not store_url.startswith("sqlite"):
        pytest.skip("rendering, the same on either store: checked on SQLite")
    command = 'echo "it\'s" done \\ a\\b'
    run_json("jobs", "create", "typed", "--every", "5m", "--command", command, "--label", "owner=data eng",
             "--label", "team=ops", "--json")  # fmt: skip
    shown = _fields(ok(cli("jobs", "show", "typed")).stdout)
    assert shown["command"] == command, shown
    assert "task args" not in shown, "a shell job's only argument is its command"
    assert shown["labels"] == 'owner="data eng" team=ops', "a value with a blank is quoted, so labels stay apart"

    body = {"name": "bash", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
            "taskArgs": {"command": "true", "shell": "/bin/bash"}}  # fmt: skip
    ok(cli("jobs", "create", "--from-json", "-", input=json.dumps(body)))
    shown = _fields(ok(cli("jobs", "show", "bash")).stdout)
    assert (shown["command"], shown["task args"]) == ("true", '{"shell":"/bin/bash"}'), shown

    _register_task(store_url)
    run_json("jobs", "create", "argued", "--every", "5m", "--task", "with_args", "--arg", "path=/srv/a b",
             "--arg", "quote=it's", "--json")  # fmt: skip
    shown = _fields(ok(cli("jobs", "show", "argued")).stdout)
    assert shown["task args"] == '{"path":"/srv/a b","quote":"it\'s"}', shown
    assert "command" not in shown
