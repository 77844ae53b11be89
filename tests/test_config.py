"""The TOML config: every key with its type, and a clear UsageError for anything else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jobctl import config as config_module
from jobctl.config import Config, config_from_dict, host_timezone, load_config
from jobctl.errors import UsageError
from jobctl.models import TaskFunctionSpec
from tests.as_nobody import error_as_nobody, needs_root

BOM = "\ufeff".encode()

FULL_TOML = """
[store]
url = "sqlite:////var/lib/jobctl/jobctl.db"

[daemon]
host = "0.0.0.0"
port = 8123
log_format = "json"
lease_ttl_seconds = 20
shutdown_grace_seconds = 12.5
max_concurrent_runs = 8
path = "/opt/bin:/usr/bin:/bin"
pass_environment = ["PGPASSWORD", "HTTPS_PROXY"]
default_run_as = "jobs"
allowed_run_as = ["jobs", "backup"]

[scheduler]
timezone = "Europe/Berlin"
misfire_grace_seconds = 2.5

[client]
api_url = "http://10.0.0.1:8000"
token = "jobctl_secret"

[celery]
broker_url = "redis://localhost:6379/0"
result_backend = "redis://localhost:6379/1"

[[task_functions]]
name = "cleanup_tmp"
display_name = "Temp cleanup"
description = "Delete old files from /tmp"
handler_type = "command"
handler_path = "find /tmp -type f -mtime +7 -delete"
queue = "default"
default_timeout_seconds = 300
is_active = true
is_system = false

[[task_functions]]
name = "report"
handler_type = "celery_task"
handler_path = "tasks.report"
"""


def write(tmp_path: Path, text: str, name: str = "jobctl.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No config from the environment, the user's home or the host's /etc leaks into a test."""
    monkeypatch.delenv("JOBCTL_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(config_module, "SYSTEM_CONFIG_PATH", tmp_path / "etc" / "jobctl.toml")


def test_every_key_is_read_with_its_type(tmp_path: Path) -> None:
    path = write(tmp_path, FULL_TOML)
    config = load_config(str(path))
    assert config.path == path
    assert config.store_url == "sqlite:////var/lib/jobctl/jobctl.db"
    assert (config.daemon_host, config.daemon_port, config.log_format) == ("0.0.0.0", 8123, "json")
    assert (config.lease_ttl_seconds, config.shutdown_grace_seconds, config.max_concurrent_runs) == (20, 12.5, 8)
    assert (config.default_run_as, config.allowed_run_as) == ("jobs", ("jobs", "backup"))
    assert (config.run_path, config.pass_environment) == ("/opt/bin:/usr/bin:/bin", ("PGPASSWORD", "HTTPS_PROXY"))
    assert (config.timezone, config.scheduler_timezone, config.misfire_grace_seconds) == (
        "Europe/Berlin", "Europe/Berlin", 2.5)  # fmt: skip
    assert (config.api_url, config.token) == ("http://10.0.0.1:8000", "jobctl_secret")
    assert (config.celery_broker_url, config.celery_result_backend) == (
        "redis://localhost:6379/0", "redis://localhost:6379/1")  # fmt: skip
    assert config.task_functions == (
        TaskFunctionSpec(name="cleanup_tmp", display_name="Temp cleanup", description="Delete old files from /tmp",
                         handler_type="command", handler_path="find /tmp -type f -mtime +7 -delete", queue="default",
                         default_timeout_seconds=300, is_active=True, is_system=False),
        TaskFunctionSpec(name="report", display_name="report", description=None, handler_type="celery_task",
                         handler_path="tasks.report"),
    )  # fmt: skip


def test_an_empty_config_gives_the_defaults(tmp_path: Path) -> None:
    config = load_config(str(write(tmp_path, "")))
    assert config == Config(path=tmp_path / "jobctl.toml")
    assert (config.daemon_host, config.daemon_port, config.store_url, config.task_functions) == (
        "127.0.0.1", 8000, None, ())  # fmt: skip
    assert config_from_dict({}) == Config()


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"stor": {"url": "x"}}, "[stor]"),
        ({"daemon": {"hots": "x"}}, "'hots'"),
        ({"scheduler": {"timezone": "UTC", "tz": "UTC"}}, "'tz'"),
        ({"client": {"api-url": "x"}}, "'api-url'"),
        ({"task_functions": [{"name": "a", "handler_type": "command", "handler_path": "x", "timeout": 3}]},
         "'timeout'"),
        ({"store": "sqlite:///x"}, "[store]"),
    ],
    ids=["unknown-table", "unknown-daemon-key", "unknown-scheduler-key", "dashed-key", "unknown-task-function-key",
         "table-is-a-string"],
)  # fmt: skip
def test_unknown_tables_and_keys_are_errors_naming_them(data: dict[str, Any], named: str) -> None:
    with pytest.raises(UsageError) as caught:
        config_from_dict(data)
    assert named in caught.value.message


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"daemon": {"port": "8000"}}, "port"),
        ({"daemon": {"port": True}}, "port"),
        ({"daemon": {"port": 8000.0}}, "port"),
        ({"daemon": {"host": 127}}, "host"),
        ({"daemon": {"lease_ttl_seconds": "15"}}, "lease_ttl_seconds"),
        ({"daemon": {"lease_ttl_seconds": False}}, "lease_ttl_seconds"),
        ({"daemon": {"max_concurrent_runs": 2.5}}, "max_concurrent_runs"),
        ({"store": {"url": ["sqlite:///x"]}}, "url"),
        ({"scheduler": {"timezone": 1}}, "timezone"),
        ({"client": {"token": 123}}, "token"),
        ({"task_functions": [{"name": "a", "handler_type": "command", "handler_path": "x",
                              "default_timeout_seconds": "300"}]}, "default_timeout_seconds"),
        ({"task_functions": [{"name": "a", "handler_type": "command", "handler_path": "x", "is_active": "yes"}]},
         "is_active"),
        ({"task_functions": [{"name": 5, "handler_type": "command", "handler_path": "x"}]}, "name"),
        ({"daemon": {"pass_environment": "HOME"}}, "pass_environment"),
        ({"daemon": {"pass_environment": [1]}}, "pass_environment"),
        ({"daemon": {"path": ["/bin"]}}, "path"),
    ],
    ids=["port-string", "port-bool", "port-float", "host-int", "ttl-string", "ttl-bool", "runs-float", "url-list",
         "timezone-int", "token-int", "timeout-string", "active-string", "name-int", "passed-string", "passed-int",
         "path-list"],
)  # fmt: skip
def test_wrong_types_are_errors_naming_the_key(data: dict[str, Any], named: str) -> None:
    with pytest.raises(UsageError) as caught:
        config_from_dict(data)
    assert named in caught.value.message


WEBHOOK = '[[notifiers]]\nname = "hook"\ntype = "webhook"\nurl = "https://example.org/hook"\n'
TASK_FUNCTION = '[[task_functions]]\nname = "f"\nhandler_type = "command"\nhandler_path = "/bin/true"\n'


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[history]\nkeep_days = "90d"', '[history] keep_days must be a whole number, not "90d"'),
        ("[history]\nkeep_days = 2.0", "[history] keep_days must be a whole number, not 2.0"),
        ("[history]\nkeep_per_job = true", "[history] keep_per_job must be a whole number, not true"),
        ("[history]\naudit_keep_days = 1e300", "[history] audit_keep_days must be a whole number, not 1e+300"),
        ("[history]\noutput_keep_days = [30]", "[history] output_keep_days must be a whole number, not an array"),
        ('[daemon]\nport = "8000"', '[daemon] port must be a whole number, not "8000"'),
        ('[daemon]\nlease_ttl_seconds = "15s"', '[daemon] lease_ttl_seconds must be a number, not "15s"'),
        ("[scheduler]\nmisfire_grace_seconds = false", "[scheduler] misfire_grace_seconds must be a number, not false"),
        ('[daemon]\ndocs = "yes"', '[daemon] docs must be true or false, not "yes"'),
        ("[metrics]\npublic = 1", "[metrics] public must be true or false, not 1"),
        ("[daemon]\nhost = 127", "[daemon] host must be a string, not 127"),
        ("[daemon]\nhost = 2026-01-01", "[daemon] host must be a string, not 2026-01-01"),
        ('[store]\nurl = ["sqlite:///x"]', "[store] url must be a string, not an array"),
        ("[client]\ntoken = { value = 1 }", "[client] token must be a string, not a table"),
        ('[daemon]\npass_environment = "HOME"', '[daemon] pass_environment must be an array, not "HOME"'),
        (f'{TASK_FUNCTION}default_timeout_seconds = "300"',
         'task_functions[0] default_timeout_seconds must be a whole number, not "300"'),
        (f'{TASK_FUNCTION}is_active = "yes"', 'task_functions[0] is_active must be true or false, not "yes"'),
        ('[[concurrency_groups]]\nname = "db"\nlimit = 1.5',
         "concurrency_groups[0] limit must be a whole number, not 1.5"),
        (f'{WEBHOOK}headers = "X-Token: 1"', 'notifiers[0] (hook) headers must be a table, not "X-Token: 1"'),
        (f"{WEBHOOK}timeout = true", "notifiers[0] (hook) timeout must be a number, not true"),
        ('[notify]\noutput_tail_bytes = "16k"', '[notify] output_tail_bytes must be a whole number, not "16k"'),
        ('[notify]\ndefault = "ops"', '[notify] default must be an array, not "ops"'),
    ],
    ids=["days-text", "days-float", "per-job-bool", "audit-1e300", "output-array", "port-text", "ttl-text",
         "misfire-bool", "docs-text", "public-int", "host-int", "host-date", "url-array", "token-table",
         "passed-text", "timeout-text", "active-text", "limit-float", "headers-text", "notifier-timeout-bool",
         "tail-text", "rules-text"],
)  # fmt: skip
def test_a_value_of_the_wrong_type_is_named_in_the_config_s_words(tmp_path: Path, text: str, said: str) -> None:
    """As the README and jobctl.example.toml name the types ("a whole number"), with the value as
    written (a string quoted, ``true``), never Python's ``must be int, not str``."""
    path = write(tmp_path, text + "\n")
    with pytest.raises(UsageError) as caught:
        load_config(str(path))
    assert caught.value.message == f"config file {path}: {said}"


EMAIL = '[[notifiers]]\nname = "mail"\ntype = "email"\nto = ["ops@example.org"]\nsendmail = "/usr/sbin/sendmail"\n'
LONG = "n" * 100
CUT = f"{'n' * 60}\u2026"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (WEBHOOK + WEBHOOK.replace('name = "hook"', 'name = "other"') + WEBHOOK,
         "notifier names must be unique: notifiers[0] and notifiers[2] are both named 'hook'"),
        (TASK_FUNCTION * 3, "task function names must be unique: "
                            "task_functions[0], task_functions[1] and task_functions[2] are all named 'f'"),
        ('[[concurrency_groups]]\nname = "db"\nlimit = 1\n' * 2,
         "concurrency group names must be unique: concurrency_groups[0] and concurrency_groups[1] are both named 'db'"),
        (f"{EMAIL}colour = 1", "notifiers[0] (mail): unknown key 'colour' for an email notifier"),
        (f"{WEBHOOK}colour = 1", "notifiers[0] (hook): unknown key 'colour' for a webhook notifier"),
        (WEBHOOK.replace('"hook"', f'"{LONG}"') + "timeout = true",
         f"notifiers[0] ({CUT}) timeout must be a number, not true"),
        (f'[[concurrency_groups]]\nname = "{LONG}!"\nlimit = 1',
         f"concurrency_groups[0] name '{CUT}' must be 1-200 letters, digits, '.', '_' or '-'"),
        (f'[notify]\ndefault = [{{ notifier = "{LONG}", on = ["failure"] }}]',
         f"[notify] default[0]: unknown notifier '{CUT}' (known: none configured)"),
        (f'[daemon]\nhost = "{LONG}"\nport = "{LONG}"', f'[daemon] port must be a whole number, not "{CUT}"'),
    ],
    ids=["notifiers", "task-functions", "groups", "an-email", "a-webhook", "long-notifier", "long-group",
         "long-rule", "long-string"],
)  # fmt: skip
def test_a_config_error_names_the_entries_and_cuts_long_values(tmp_path: Path, text: str, said: str) -> None:
    """A repeated name is named with where it is; a value over 60 characters is cut with an
    ellipsis (jobctl/shown.py), as every message cuts one, not repeated whole."""
    path = write(tmp_path, text + "\n")
    with pytest.raises(UsageError) as caught:
        load_config(str(path))
    assert caught.value.message == f"config file {path}: {said}"


def test_a_wrong_type_is_one_line_and_exit_2_from_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = write(tmp_path, '[history]\nkeep_days = "90d"\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    result = subprocess.run([sys.executable, "-m", "jobctl", "--config", str(path), "store", "info"],
                            capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert result.returncode == 2, result
    expected = f'jobctl: config file {path}: [history] keep_days must be a whole number, not "90d"'
    assert result.stderr.splitlines() == [expected]


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"daemon": {"port": 0}}, "port"),
        ({"daemon": {"port": 65536}}, "port"),
        ({"daemon": {"port": -1}}, "port"),
        ({"daemon": {"log_format": "xml"}}, "log_format"),
        ({"daemon": {"lease_ttl_seconds": 1}}, "lease_ttl_seconds"),
        ({"daemon": {"lease_ttl_seconds": float("nan")}}, "lease_ttl_seconds"),
        ({"daemon": {"lease_ttl_seconds": float("inf")}}, "lease_ttl_seconds"),
        ({"daemon": {"max_concurrent_runs": 0}}, "max_concurrent_runs"),
        ({"daemon": {"shutdown_grace_seconds": -1}}, "shutdown_grace_seconds"),
        ({"scheduler": {"misfire_grace_seconds": -0.5}}, "misfire_grace_seconds"),
        ({"scheduler": {"timezone": "Mars/Base"}}, "Mars/Base"),
        ({"scheduler": {"timezone": "../../etc/passwd"}}, "timezone"),
        ({"daemon": {"pass_environment": ["A-B"]}}, "pass_environment"),
        ({"daemon": {"pass_environment": ["JOBCTL_TOKEN"]}}, "JOBCTL_TOKEN"),
        ({"daemon": {"path": ""}}, "path"),
        ({"daemon": {"allowed_run_as": [-1]}}, "allowed_run_as"),
    ],
    ids=["port-0", "port-65536", "port-negative", "log-format", "ttl-too-short", "ttl-nan", "ttl-inf", "no-runs",
         "negative-grace", "negative-misfire-grace", "unknown-zone", "path-as-zone", "passed-bad-name",
         "passed-jobctl-name", "empty-path", "allowed-not-names"],
)  # fmt: skip
def test_out_of_range_values_are_errors_naming_the_key(data: dict[str, Any], named: str) -> None:
    with pytest.raises(UsageError) as caught:
        config_from_dict(data)
    assert named in caught.value.message


NOTIFIER = '[[notifiers]]\nname = "hook"\ntype = "webhook"\nurl = "http://127.0.0.1/x"\n'


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[daemon]\nkill_grace_seconds = 61",
         "[daemon] kill_grace_seconds must be between 0 and 60 seconds (1 minute), not 61"),
        ("[daemon]\nkill_grace_seconds = nan",
         "[daemon] kill_grace_seconds must be between 0 and 60 seconds (1 minute), not nan"),
        ("[daemon]\nport = 70000", "[daemon] port must be between 1 and 65535, not 70000"),
        ("[daemon]\nlease_ttl_seconds = nan",
         "[daemon] lease_ttl_seconds must be between 2 and 86400 seconds (1 day), not nan"),
        ("[notify]\nretry_for_seconds = nan",
         "[notify] retry_for_seconds must be between 0 and 2592000 seconds (30 days), not nan"),
        ("[notify]\nretry_for_seconds = 1e300",
         "[notify] retry_for_seconds must be between 0 and 2592000 seconds (30 days), not 1e+300"),
        ("[notify]\noutput_tail_bytes = -1",
         "[notify] output_tail_bytes must be between 0 and 1000000 bytes (1 MB), not -1"),
        ("[history]\nkeep_days = 0", "[history] keep_days must be between 1 and 36500 days (100 years), not 0"),
        ('[[task_functions]]\nname = "f"\nhandler_type = "command"\nhandler_path = "true"\ndefault_timeout_seconds = 0',
         "task_functions[0] default_timeout_seconds must be between 1 and 2592000 seconds (30 days), not 0"),
        (f"{NOTIFIER}timeout = 0",
         "notifiers[0] (hook) timeout must be more than 0 and at most 300 seconds (5 minutes), not 0"),
        ('[[notifiers]]\nname = "mail"\ntype = "email"\nto = ["a@example.com"]\nfrom = "j@example.com"\n'
         'smtp_host = "127.0.0.1"\nsmtp_port = 0', "notifiers[0] (mail) smtp_port must be between 1 and 65535, not 0"),
    ],
    ids=["kill-grace-61", "kill-grace-nan", "port-70000", "lease-ttl-nan", "retry-for-nan", "retry-for-1e300",
         "output-tail-negative", "keep-days-0", "default-timeout-0", "notifier-timeout-0", "smtp-port-0"],
)  # fmt: skip
def test_a_value_out_of_range_is_told_with_its_range_and_the_value_given(tmp_path: Path, text: str, said: str) -> None:
    """Some range errors named the range without the value ("must be a number of seconds from 0 to
    60", "must be between 0 and 2592000"), some the value without the range ("must be at least 2,
    not nan"), some neither ("must be at least 1"): each now says both, in one form."""
    path = tmp_path / "jobctl.toml"
    path.write_text(text + "\n")
    with pytest.raises(UsageError) as caught:
        load_config(str(path))
    assert caught.value.message == f"config file {path}: {said}"


def _function(**overrides: Any) -> dict[str, Any]:
    return {"name": "f", "handler_type": "command", "handler_path": "/bin/true", **overrides}


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ({"name": "f"}, "task_functions"),
        ([_function(), "text"], "task_functions[1]"),
        ([{"handler_type": "command", "handler_path": "x"}], "name"),
        ([_function(name="")], "name"),
        ([_function(name="  ")], "name"),
        ([_function(name="x" * 201)], "name"),
        ([_function(handler_path="")], "handler_path"),
        ([{"name": "f", "handler_path": "x"}], "handler_type"),
        ([_function(handler_type="shell")], "handler_type"),
        ([_function(), _function()], "unique"),
        ([_function(default_timeout_seconds=0)], "default_timeout_seconds"),
        ([_function(default_timeout_seconds=-5)], "default_timeout_seconds"),
    ],
    ids=["not-an-array", "entry-not-a-table", "missing-name", "empty-name", "blank-name", "long-name",
         "empty-handler-path", "missing-handler-type", "bad-handler-type", "duplicate-names", "zero-timeout",
         "negative-timeout"],
)  # fmt: skip
def test_task_functions_are_validated(content: Any, named: str) -> None:
    with pytest.raises(UsageError) as caught:
        config_from_dict({"task_functions": content})
    assert named in caught.value.message


def test_every_handler_type_is_accepted() -> None:
    paths = {"command": "/bin/true", "python": "reports.build:main", "celery_task": "reports.build"}
    functions = [_function(name=kind, handler_type=kind, handler_path=path) for kind, path in paths.items()]
    config = config_from_dict({"task_functions": functions})
    assert [spec.handler_type for spec in config.task_functions] == ["command", "python", "celery_task"]
    shapes = ["w4calls:main", "w4calls.main", "pkg.tasks:cleanup", "pkg.tasks:Job.run", "paquet_é.tâches:nettoie"]
    python = [_function(name=f"p{n}", handler_type="python", handler_path=path) for n, path in enumerate(shapes)]
    assert [spec.handler_path for spec in config_from_dict({"task_functions": python}).task_functions] == shapes


PYTHON_SHAPE = "must be a Python callable as module:function or module.function (e.g. pkg.tasks:cleanup)"


@pytest.mark.parametrize(
    ("handler_type", "handler_path", "problem"),
    [("python", "w4calls:", PYTHON_SHAPE), ("python", "w4calls", PYTHON_SHAPE), ("python", ":main", PYTHON_SHAPE),
     ("python", "reports..build:main", PYTHON_SHAPE), ("python", "reports build:main", PYTHON_SHAPE),
     ("python", "reports.build:main.", PYTHON_SHAPE), ("python", "/bin/true", PYTHON_SHAPE),
     ("command", 'echo "open', "must be a command line a shell could split (No closing quotation)")],
    ids=["colon-no-function", "module-alone", "no-module", "empty-part", "space", "trailing-dot", "a-command",
         "open-quote"],
)  # fmt: skip
def test_a_handler_path_no_run_could_use_is_refused_naming_its_entry(
    handler_type: str, handler_path: str, problem: str
) -> None:
    """It was accepted and every run of it failed (`'w4calls:' is not a dotted path`)."""
    functions = [_function(), _function(name="w4", handler_type=handler_type, handler_path=handler_path)]
    with pytest.raises(UsageError) as caught:
        config_from_dict({"task_functions": functions})
    shown = '"' + handler_path.replace('"', '\\"') + '"'
    assert caught.value.message.endswith(f"task_functions[1] ('w4') handler_path {problem}, not {shown}")


def test_jobctl_config_env_is_used_and_an_explicit_path_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from_env = write(tmp_path, "[daemon]\nport = 9001\n", "env.toml")
    explicit = write(tmp_path, "[daemon]\nport = 9002\n", "explicit.toml")
    monkeypatch.setenv("JOBCTL_CONFIG", str(from_env))
    assert load_config().daemon_port == 9001
    assert load_config(str(explicit)).daemon_port == 9002


def test_the_default_path_is_read_when_present_and_optional_when_absent(tmp_path: Path) -> None:
    assert load_config() == Config()
    default = tmp_path / "xdg" / "jobctl" / "jobctl.toml"
    default.parent.mkdir(parents=True)
    default.write_text('[scheduler]\ntimezone = "Asia/Tokyo"\n')
    assert load_config().timezone == "Asia/Tokyo"


@needs_root
def test_a_default_config_this_user_cannot_reach_is_a_clear_error(tmp_path: Path) -> None:
    """``su -m`` keeps root's ``HOME``: the user's default config is behind a directory this
    user cannot search. That is one line naming the file and exit 2, not a traceback, and not
    a silent fall back to the defaults (which may name another store)."""
    hidden = tmp_path / "xdg" / "jobctl"
    hidden.mkdir(parents=True)
    (hidden / "jobctl.toml").write_text('[store]\nurl = "sqlite:////elsewhere.db"\n')
    hidden.chmod(0o700)  # root's; nobody may not look inside
    message = error_as_nobody(load_config, UsageError)
    file = hidden / "jobctl.toml"
    assert message == f"cannot read config file {file}: [Errno 13] Permission denied: '{file}'"


def test_the_system_config_is_read_when_there_is_no_user_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lookup order: --config, $JOBCTL_CONFIG, the user's jobctl.toml, /etc/jobctl/jobctl.toml."""
    system = config_module.SYSTEM_CONFIG_PATH
    system.parent.mkdir(parents=True)
    system.write_text('[store]\nurl = "sqlite:////var/lib/jobctl/jobctl.db"\n')
    assert load_config().store_url == "sqlite:////var/lib/jobctl/jobctl.db"
    assert load_config().path == system
    user = tmp_path / "xdg" / "jobctl" / "jobctl.toml"
    user.parent.mkdir(parents=True)
    user.write_text('[store]\nurl = "sqlite:////home/me/jobctl.db"\n')
    assert load_config().store_url == "sqlite:////home/me/jobctl.db", "the user's config comes first"
    from_env = write(tmp_path, '[store]\nurl = "sqlite:////env.db"\n', "env.toml")
    monkeypatch.setenv("JOBCTL_CONFIG", str(from_env))
    assert load_config().store_url == "sqlite:////env.db"
    explicit = write(tmp_path, '[store]\nurl = "sqlite:////explicit.db"\n', "explicit.toml")
    assert load_config(str(explicit)).store_url == "sqlite:////explicit.db"


def test_a_broken_system_config_is_an_error_naming_it() -> None:
    system = config_module.SYSTEM_CONFIG_PATH
    system.parent.mkdir(parents=True)
    system.write_text("[daemon]\nport = 'x'\n")
    with pytest.raises(UsageError) as caught:
        load_config()
    assert str(system) in caught.value.message


@pytest.mark.parametrize("via_env", [False, True], ids=["option", "env"])
def test_a_missing_config_file_that_was_asked_for_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              via_env: bool) -> None:  # fmt: skip
    missing = tmp_path / "nope.toml"
    if via_env:
        monkeypatch.setenv("JOBCTL_CONFIG", str(missing))
    with pytest.raises(UsageError) as caught:
        load_config(None if via_env else str(missing))
    assert str(missing) in caught.value.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[daemon\nport = 1\n", "not valid TOML"),
        ("port = = 1\n", "not valid TOML"),
        ("\udcff", "cannot read"),
        (f"[history]\nkeep_days = {'9' * 5000}\n", "a number too long to read (over 4300 digits)"),
    ],
    ids=["unclosed-table", "bad-value", "not-utf8", "5000-digits"],
)
def test_an_unreadable_config_file_is_an_error_naming_it(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(UsageError) as caught:
        load_config(str(path))
    assert fragment in caught.value.message and str(path) in caught.value.message
    assert "\n" not in caught.value.message.strip()


def test_a_byte_order_mark_at_the_start_is_no_part_of_the_config(tmp_path: Path) -> None:
    """Some Windows editors save one: tomllib refused it as ``Invalid statement (at line 1, column 1)``,
    and every command that reads the config failed."""
    path = tmp_path / "marked.toml"
    path.write_bytes(BOM + b'[scheduler]\ntimezone = "Asia/Tokyo"\n')
    assert load_config(str(path)).scheduler_timezone == "Asia/Tokyo"
    command = [sys.executable, "-m", "jobctl", "--config", str(path), "cron", "explain", "0 9 * * *"]
    explained = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert (explained.returncode, explained.stderr) == (0, "") and "Asia/Tokyo" in explained.stdout
    path.write_bytes(BOM + b"[daemon]\nport = 8000\nhost = = 1\n")
    with pytest.raises(UsageError) as caught:
        load_config(str(path))
    assert "(at line 3, column 8)" in caught.value.message  # lines counted as without it


def test_a_config_file_error_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[daemon]\nport = 0\n")
    with pytest.raises(UsageError) as caught:
        load_config(str(path))
    assert str(path) in caught.value.message


def test_the_host_zone_comes_from_etc_localtime_never_from_tz(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    link = tmp_path / "localtime"
    link.symlink_to("/usr/share/zoneinfo/America/Chicago")
    monkeypatch.setattr(config_module, "LOCALTIME", str(link))
    monkeypatch.setattr(config_module, "TIMEZONE_FILE", str(tmp_path / "missing"))
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    assert host_timezone() == "America/Chicago"
    assert Config().scheduler_timezone == "America/Chicago"
    link.unlink()
    (tmp_path / "timezone").write_text("Europe/Lisbon\n")
    monkeypatch.setattr(config_module, "TIMEZONE_FILE", str(tmp_path / "timezone"))
    assert host_timezone() == "Europe/Lisbon"
    monkeypatch.setattr(config_module, "TIMEZONE_FILE", str(tmp_path / "missing"))
    assert host_timezone() == "UTC"


@pytest.mark.parametrize(
    ("groups", "fragment"),
    [
        ([{"name": "db"}], "concurrency_groups[0] needs limit"),
        ([{"name": "db", "limit": "1"}], 'limit must be a whole number, not "1"'),
        ([{"name": "db", "limit": 1, "max": 2}], "unknown key 'max'"),
        ({"name": "db"}, "must be an array of tables"),
        ([{"name": "", "limit": 1}], "must be 1-200 letters"),
        ([{"name": "d b", "limit": 1}], "name 'd b' must be"),
        ([{"name": "db", "limit": -3}], "limit must be between 1 and 1000000, not -3"),
    ],
    ids=["no-limit", "limit-text", "unknown-key", "not-an-array", "empty-name", "space-in-name", "negative"],
)
def test_bad_concurrency_groups_are_usage_errors(groups: object, fragment: str) -> None:
    with pytest.raises(UsageError) as raised:
        config_from_dict({"concurrency_groups": groups})
    assert fragment in raised.value.message and "\n" not in raised.value.message


def test_concurrency_groups_are_read() -> None:
    from jobctl.models import ConcurrencyGroup

    config = config_from_dict({"concurrency_groups": [{"name": "db", "limit": 2}, {"name": "gpu", "limit": 1}]})
    assert config.concurrency_groups == (ConcurrencyGroup(name="db", limit=2), ConcurrencyGroup(name="gpu", limit=1))
    assert config.concurrency_group_names == {"db", "gpu"}


def test_a_uid_may_be_a_toml_integer_as_well_as_text(tmp_path: Path) -> None:
    """``allowed_run_as = ["walk2a", 1003]`` was refused, "must list user names or uids", though
    1003 is a uid: an integer is now the uid it names, the same as ``"1003"``. Anything else
    still says what the list takes, and what it got."""
    path = write(tmp_path, '[daemon]\nallowed_run_as = ["walk2a", 1003, "1004", 0]\n')
    assert load_config(str(path)).allowed_run_as == ("walk2a", "1003", "1004", "0")
    takes = "[daemon] allowed_run_as must list user names or uids (a uid as a whole number, 0 or more)"
    for value, said in (("[-1]", "-1"), ("[true]", "true"), ('[""]', '""'), ("[[1003]]", "an array")):
        with pytest.raises(UsageError) as caught:
            load_config(str(write(tmp_path, f"[daemon]\nallowed_run_as = {value}\n", "bad.toml")))
        assert caught.value.message.endswith(f"{takes}, not {said}")
    with pytest.raises(UsageError) as caught:  # a single user: the name, or the uid in quotes
        load_config(str(write(tmp_path, "[daemon]\ndefault_run_as = 1003\n", "bad.toml")))
    assert caught.value.message.endswith("[daemon] default_run_as must be a string, not 1003")
