"""Every plain setting of ``jobctl.wire.job_keys`` is an option of ``jobs create`` and ``jobs update``
and reaches its API field, through the real CLI on a real store."""

from __future__ import annotations

import re
from typing import Any

from jobctl.wire.job_keys import JOB_SETTING_KEYS
from tests.cli.helpers import OneStoreCli, check_error, check_ok

# key -> (what the command line gives, what the API shows); one per entry of JOB_SETTING_KEYS.
SAMPLES: dict[str, tuple[list[str], Any]] = {
    "timeout": (["1h30m"], 5400),
    "retries": (["2"], 2),
    "retry_delay": (["90s"], 90),
    "max_instances": (["3"], 3),
    "description": (["nightly copy"], "nightly copy"),
    "misfire": (["skip"], "skip"),
    "working_directory": (["/tmp"], "/tmp"),
    "umask": (["027"], "027"),
    "nice": (["5"], 5),
    "stdin": (["hello"], "hello"),
    "run_as_user": (["root"], "root"),
    "run_as_group": (["root"], "root"),
    "pause_after_failures": (["3"], 3),
    "start_grace": (["2m"], 120),
    "max_runtime_alert": (["1h"], 3600),
    "expect_success_within": (["1d"], 86400),
    "retry_backoff": (["exponential"], "exponential"),
    "retry_max_delay": (["10m"], 600),
    "retry_on_exit_code": (["3", "75"], [3, 75]),
    "overlap": (["queue"], "queue"),
    "max_queued": (["3"], 3),
    "concurrency_group": (["db"], "db"),  # declared in the fixture's config
}


def test_every_setting_has_a_sample_here() -> None:
    assert set(SAMPLES) == {setting.key for setting in JOB_SETTING_KEYS}


def _argv(setting_key: str) -> list[str]:
    setting = next(s for s in JOB_SETTING_KEYS if s.key == setting_key)
    values, _ = SAMPLES[setting_key]
    return [part for value in values for part in (setting.flag, value)]


def test_create_and_update_take_every_setting(sqlite_only_cli: OneStoreCli) -> None:
    argv = [part for key in SAMPLES for part in _argv(key)]
    created = _json(sqlite_only_cli("jobs", "create", "all", "--every", "1h", "--command", "true", *argv, "--json"))
    for setting in JOB_SETTING_KEYS:
        assert created[setting.field] == SAMPLES[setting.key][1], setting.key
    plain = _json(sqlite_only_cli("jobs", "create", "plain", "--every", "1h", "--command", "true", "--json"))
    for setting in JOB_SETTING_KEYS:
        updated = _json(sqlite_only_cli("jobs", "update", "plain", *_argv(setting.key), "--json"))
        assert updated[setting.field] == SAMPLES[setting.key][1], setting.key
        assert plain[setting.field] != updated[setting.field], setting.key


def test_an_empty_value_puts_a_clearable_setting_back_to_its_default(sqlite_only_cli: OneStoreCli) -> None:
    """``jobs update`` could set the run-as user, group, directory and stdin but never unset them
    (``--run-as-user ''`` was refused as too short)."""
    clearable = [setting for setting in JOB_SETTING_KEYS if setting.clearable]
    assert {setting.key for setting in clearable} == {"working_directory", "stdin", "run_as_user", "run_as_group"}
    argv = [part for setting in clearable for part in _argv(setting.key)]
    created = _json(sqlite_only_cli("jobs", "create", "set", "--every", "1h", "--command", "true", *argv, "--json"))
    assert all(created[setting.field] == SAMPLES[setting.key][1] for setting in clearable)
    cleared = [part for setting in clearable for part in (setting.flag, "")]
    updated = _json(sqlite_only_cli("jobs", "update", "set", *cleared, "--json"))
    assert {setting.field: updated[setting.field] for setting in clearable} == dict.fromkeys(
        (setting.field for setting in clearable), None
    )


def test_a_duration_of_the_wrong_kind_names_its_option(sqlite_only_cli: OneStoreCli) -> None:
    message = check_error(
        sqlite_only_cli("jobs", "create", "bad", "--every", "1h", "--command", "true", "--timeout", "soon"), code=2
    )
    assert message == "jobctl: --timeout takes seconds or a duration like 90s, 5m, 1h30m; got 'soon'"


def _json(outcome: Any) -> Any:
    import json

    return json.loads(check_ok(outcome).stdout)


def test_jobs_show_for_people_shows_the_settings_that_shape_runs_and_alerts(sqlite_only_cli: OneStoreCli) -> None:
    argv = [part for key in SAMPLES for part in _argv(key)]
    bash = ["--task", "shell", "--arg", "command=true", "--arg", "shell=/bin/bash"]
    check_ok(sqlite_only_cli("jobs", "create", "all", "--every", "1h", *bash, "--env", "API_KEY=s3cret", *argv))
    shown = check_ok(sqlite_only_cli("jobs", "show", "all")).stdout
    fields = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in shown.splitlines()[1:] if line.strip())
    assert fields["alerts"] == "late after 2m, long running after 1h, no success within 1d"
    assert fields["auto-pause"] == "after 3 failed outcomes in a row"
    assert fields["task"] == "shell (command: /bin/bash -c)"
    assert fields["retries"] == "2, exponential from 90s (at most 600s), on exit 3 75"
    assert fields["environment"] == "API_KEY"
    assert "s3cret" not in shown
    assert fields["source"] == "-"
    plain = check_ok(sqlite_only_cli("jobs", "create", "plain", "--every", "1h", "--command", "true"))
    assert plain.code == 0
    shown = check_ok(sqlite_only_cli("jobs", "show", "plain")).stdout
    assert "  alerts  " in shown and "  auto-pause  " in shown
    assert "shell (command: /bin/sh -c)" in shown


def test_help_keeps_each_example_on_its_own_line() -> None:
    import click
    import typer.main

    from jobctl.cli.main import app

    def commands(group: click.Command, path: tuple[str, ...]) -> Any:
        yield path, group
        if isinstance(group, click.Group):
            for name, sub in group.commands.items():
                yield from commands(sub, (*path, name))

    checked = 0
    for path, command in commands(typer.main.get_command(app), ("jobctl",)):
        _, marker, rest = (command.help or "").partition("Examples:\n")
        examples = [line.strip() for line in rest.split("\n\n")[0].splitlines()] if marker else []
        if not examples:
            continue
        with click.Context(command, info_name=" ".join(path)) as ctx:
            shown = [line.strip() for line in command.get_help(ctx).splitlines()]
        for example in examples:
            assert example in shown, f"{' '.join(path)} --help rewraps: {example}"
        checked += 1
    assert checked >= 10


def test_jobs_show_for_people_changes_with_every_setting(sqlite_only_cli: OneStoreCli, monkeypatch: Any) -> None:
    """A setting added to the table shows in ``jobs show``: each sample changes the human view."""
    from jobctl.cli import output, render

    argv = [part for key in SAMPLES for part in _argv(key)]
    check_ok(sqlite_only_cli("jobs", "create", "every", "--every", "1h", "--command", "true", *argv))
    check_ok(sqlite_only_cli("jobs", "create", "bare", "--every", "1h", "--command", "true"))
    every, plain = (_json(sqlite_only_cli("jobs", "show", name, "--json")) for name in ("every", "bare"))
    shown: list[list[tuple[str, str]]] = []
    monkeypatch.setattr(output, "print_fields", lambda title, fields: shown.append(list(fields)))

    def view(job: dict[str, Any]) -> list[tuple[str, str]]:
        render.job_detail({**job, "recentExecutions": []})  # type: ignore[typeddict-item]
        return shown[-1]

    for setting in JOB_SETTING_KEYS:
        # a retry policy shows with retries, its cap with a backoff, a queue length with queueing
        policy = {key: every[key] for key in ("retryCount", "retryBackoff", "overlapPolicy") if key != setting.field}
        base = plain if setting.key == "retries" else {**plain, **policy}
        assert view({**base, setting.field: every[setting.field]}) != view(base), f"jobs show omits {setting.key}"


def test_a_setting_without_wording_of_its_own_still_shows_in_jobs_show(monkeypatch: Any) -> None:
    """Adding a setting to the table is enough for ``jobs show``: it gets a line named by its key."""
    from jobctl.cli import render
    from jobctl.wire import job_keys

    added = (
        job_keys.SettingKey("cool_down", "coolDownSeconds", "duration", "Pause between runs.", "DURATION"),
        job_keys.SettingKey("tags_seen", "tagsSeen", "text", "Tags.", multiple=True),
        job_keys.SettingKey("spare", "spare", "int", "Not set on this job."),
    )
    monkeypatch.setattr(job_keys, "JOB_SETTING_KEYS", job_keys.JOB_SETTING_KEYS + added)
    job = {"coolDownSeconds": 5400, "tagsSeen": ["a", "b"], "spare": None}
    assert render.other_settings(job) == [("cool down", "1h30m"), ("tags seen", "a b"), ("spare", "-")]  # type: ignore[arg-type]
