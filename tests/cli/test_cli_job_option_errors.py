"""A value ``jobs create`` or ``jobs update`` refuses is named as the option typed, in words.

The API names a field (``umask``, ``labels.Team.[key]``) and pydantic spoke in regular
expressions (``String should match pattern '^0?[0-7]{3}$'``); the user typed ``--umask 8``. So
the line names the option (``jobctl/cli/job_options.py: job_field_options``) and says the rule
in words with the value (``jobctl/wire/requests.py: in_words``), through the real CLI on a real
store. A duration is judged in the terms it was typed in (``jobctl/wire/job_keys.py``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import typer.main

from jobctl.cli.job_options import job_field_options
from jobctl.wire.requests import JobCreate
from tests.cli.helpers import OneStoreCli, check_error, check_ok

LABEL_KEY = "must be lowercase letters, digits and . _ / -, starting with a letter or digit"
EVENTS = (
    "start, success, failure, timeout, recovery, output, skipped, missed, abandoned, cancelled, paused, late, "
    "long_running or no_success"
)

REFUSED = {
    "umask": (["--umask", "8"], "--umask: must be an octal mode such as 022 or 0027, got '8'"),
    "working-directory": (
        ["--working-directory", "rel/dir"],
        "--working-directory: must be an absolute path, got 'rel/dir'",
    ),
    "overlap": (["--overlap", "wait"], "--overlap: must be skip, queue or replace, got 'wait'"),
    "misfire": (["--misfire", "often"], "--misfire: must be run_once or skip, got 'often'"),
    "label-key": (["--label", "Team=ops"], f"--label: key {LABEL_KEY}, got 'Team'"),
    "label-value": (["--label", "team=" + "x" * 300], "--label team: must be at most 255 characters, got 300"),
    "env-name": (
        ["--env", "1X=a"],
        "--env: name must be a shell variable name (letters, digits, _; not starting with a digit), got '1X'",
    ),
    "env-own-name": (
        ["--env", "JOBCTL_X=1"],
        "--env: name JOBCTL_X: JOBCTL_ variables are set by jobctl for each run; choose another name",
    ),
    "retries": (["--retries", "-1"], "--retries: must be 0 or more, got -1"),
    "retries-many": (["--retries", "101"], "--retries: must be at most 100, got 101"),
    "nice": (["--nice", "20"], "--nice: must be at most 19, got 20"),
    "max-instances": (["--max-instances", "0"], "--max-instances: must be 1 or more, got 0"),
    "max-queued": (["--max-queued", "0"], "--max-queued: must be 1 or more, got 0"),
    "pause-after-failures": (["--pause-after-failures", "0"], "--pause-after-failures: must be 1 or more, got 0"),
    "exit-code": (["--retry-on-exit-code", "0"], "--retry-on-exit-code: must be 1 or more, got 0"),
    "run-as-user": (
        ["--run-as-user", "a:b"],
        "--run-as-user: must be a name or a numeric id, without spaces, control characters, ':' or '/', got 'a:b'",
    ),
    "group": (
        ["--concurrency-group", "has space"],
        "--concurrency-group: must be 1-200 letters, digits, '.', '_' or '-', got 'has space'",
    ),
    "description": (["--description", "x" * 2001], "--description: must be at most 2000 characters, got 2001"),
    "notify-event": (["--notify", "ops:boom"], f"--notify: must be {EVENTS}, got 'boom'"),
    "timeout-0s": (["--timeout", "0s"], "--timeout: must be more than 0s, got '0s'"),
    "timeout-0": (["--timeout", "0"], "--timeout: must be more than 0s, got '0'"),
    "timeout-negative": (["--timeout", "-5"], "--timeout: must be more than 0s, got '-5'"),
    "timeout-too-long": (["--timeout", "31d"], "--timeout: must be at most 30d, got '31d'"),
    "retry-delay-negative": (["--retry-delay", "-5m"], "--retry-delay: must be 0s or more, got '-5m'"),
    "retry-delay-too-long": (["--retry-delay", "8d"], "--retry-delay: must be at most 7d, got '8d'"),
    "retry-max-delay-0s": (["--retry-max-delay", "0s"], "--retry-max-delay: must be more than 0s, got '0s'"),
    "start-grace-0s": (["--start-grace", "0m"], "--start-grace: must be more than 0s, got '0m'"),
    "max-runtime-alert-0s": (["--max-runtime-alert", "0s"], "--max-runtime-alert: must be more than 0s, got '0s'"),
    "expect-success-within": (
        ["--expect-success-within", "361d"],
        "--expect-success-within: must be at most 360d, got '361d'",
    ),
    "timeout-not-a-duration": (
        ["--timeout", "soon"],
        "--timeout takes seconds or a duration like 90s, 5m, 1h30m; got 'soon'",
    ),
}
"""Options with a value refused, and the whole line that says so (after ``jobctl: ``)."""


@pytest.fixture(scope="module")
def standing_cli(tmp_path_factory: pytest.TempPathFactory) -> OneStoreCli:
    """A store of this module with one job, ``standing``, which the refused calls leave as it is."""
    folder = tmp_path_factory.mktemp("refused")
    config = folder / "jobctl.toml"
    config.write_text('[scheduler]\ntimezone = "Europe/Berlin"\n[[concurrency_groups]]\nname = "db"\nlimit = 1\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    env.update({"JOBCTL_DB": f"sqlite:///{folder / 'jobctl.db'}", "JOBCTL_CONFIG": str(config), "COLUMNS": "200"})
    cli = OneStoreCli(env)
    check_ok(cli("jobs", "create", "standing", "--every", "1h", "--command", "true"))
    return cli


@pytest.mark.parametrize(("options", "line"), REFUSED.values(), ids=list(REFUSED))
def test_a_refused_value_is_named_as_the_option_typed_in_words(
    standing_cli: OneStoreCli, options: list[str], line: str
) -> None:
    created = standing_cli("jobs", "create", "new", "--every", "1h", "--command", "true", *options)
    assert check_error(created, 2) == f"jobctl: {line}"
    assert check_error(standing_cli("jobs", "update", "standing", *options), 2) == f"jobctl: {line}"


def test_every_error_of_one_command_is_named_as_typed(sqlite_only_cli: OneStoreCli) -> None:
    result = sqlite_only_cli(
        "jobs", "create", "two", "--every", "1h", "--command", "true", "--umask", "8", "--overlap", "wait"
    )
    assert check_error(result, 2) == (
        "jobctl: --umask: must be an octal mode such as 022 or 0027, got '8'; "
        "--overlap: must be skip, queue or replace, got 'wait'"
    )


def test_a_long_name_is_named_as_typed_and_cut_when_repeated(sqlite_only_cli: OneStoreCli) -> None:
    name = "n" * 300
    created = sqlite_only_cli("jobs", "create", name, "--every", "1h", "--command", "true")
    assert check_error(created, 2) == "jobctl: NAME: must be at most 200 characters, got 300"
    check_ok(sqlite_only_cli("jobs", "create", "short", "--every", "1h", "--command", "true"))
    renamed = sqlite_only_cli("jobs", "update", "short", "--name", name)
    assert check_error(renamed, 2) == "jobctl: --name: must be at most 200 characters, got 300"
    assert check_error(sqlite_only_cli("jobs", "show", name), 3) == f"jobctl: no job '{'n' * 60}\u2026'"


def test_a_field_read_from_json_keeps_the_api_s_name(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """No option gave it: the field is named as the file the user wrote names it."""
    check_ok(sqlite_only_cli("jobs", "create", "model", "--every", "1h", "--command", "true"))
    body = json.loads(check_ok(sqlite_only_cli("jobs", "show", "model", "--json")).stdout)
    path = tmp_path / "job.json"
    path.write_text(json.dumps({**body, "name": "copy", "umask": "8"}))
    result = sqlite_only_cli("jobs", "create", "--from-json", str(path), "--label", "team=ops")
    assert check_error(result, 2) == "jobctl: umask: must be an octal mode such as 022 or 0027, got '8'"


def test_a_zero_retry_delay_may_be_written_as_a_duration(sqlite_only_cli: OneStoreCli) -> None:
    """``--retry-delay 0`` was taken and ``0s`` refused as no duration; both are zero now, and
    a timeout of either is refused saying why."""
    for value in ("0", "0s"):
        created = sqlite_only_cli(
            "jobs", "create", f"now-{value}", "--every", "1h", "--command", "true", "--retry-delay", value, "--json"
        )
        assert json.loads(check_ok(created).stdout)["retryDelaySeconds"] == 0


NO_OPTION = {"isPaused": "set by jobs pause and jobs resume, not by create or update"}


def test_every_job_field_the_api_can_refuse_is_set_by_an_option_the_commands_declare() -> None:
    """The table that names a field's error as an option covers every field of the API's job
    body, and names only options (and create's NAME) that ``jobs create`` or ``jobs update``
    declare: a field added to the API, or an option renamed, fails here first."""
    from jobctl.cli.main import build_app

    group = typer.main.get_command(build_app("jobs"))
    jobs = group.commands["jobs"]  # type: ignore[attr-defined]
    declared = set()
    for command in (jobs.commands["create"], jobs.commands["update"]):
        for param in command.params:
            declared.add(max(param.opts, key=len) if param.param_type_name == "option" else param.human_readable_name)
    table = job_field_options()
    assert set(table) == set(JobCreate.model_fields) - set(NO_OPTION)
    undeclared = {option for options in table.values() for option in options} - declared
    assert not undeclared, f"options no command declares: {undeclared}"
