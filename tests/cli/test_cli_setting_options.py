"""Every plain setting of ``jobctl.wire.job_keys`` is an option of ``jobs create`` and ``jobs update``
and reaches its API field, through the real CLI on a real store."""

from __future__ import annotations

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


def test_a_duration_of_the_wrong_kind_names_its_option(sqlite_only_cli: OneStoreCli) -> None:
    message = check_error(
        sqlite_only_cli("jobs", "create", "bad", "--every", "1h", "--command", "true", "--timeout", "soon"), code=2
    )
    assert message == "jobctl: --timeout takes seconds or a duration like 90s, 5m, 1h30m; got 'soon'"


def _json(outcome: Any) -> Any:
    import json

    return json.loads(check_ok(outcome).stdout)
