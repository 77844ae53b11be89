"""The largest value of every number the config takes (``MAXIMA``): above it (2**63, 1e300, inf
included), a config error in every command and for the daemon at start-up, exit 2 and one line;
at it, a real daemon starts, serves and runs on either backend (docs/config-limits.md).

Before the bounds, such values passed the config check and failed later with an internal error
(OverflowError, exit 1) or, on Postgres, a store error ("integer out of range")."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobctl import notifier_config
from jobctl.config import CONCURRENCY_GROUP_KEYS, KEYS, MAXIMA, TASK_FUNCTION_KEYS, load_config
from jobctl.errors import UsageError
from jobctl.models import (
    MAX_CONCURRENT_RUNS,
    MAX_GROUP_LIMIT,
    MAX_LEASE_TTL_SECONDS,
    MAX_SECONDS_SETTING,
    MAX_TIMEOUT_SECONDS,
)
from jobctl.service.tokens import create_token
from jobctl.store import open_store
from jobctl.wire.requests import TIMEOUT_MAX
from tests.daemon.helpers import DaemonFactory, wait_for

SPECIAL = {("daemon", "port"), ("daemon", "kill_grace_seconds"), ("notify", "output_tail_bytes"),
           ("notify", "retry_for_seconds"), ("notifiers", "timeout"), ("notifiers", "smtp_port")}  # fmt: skip
"""Settings whose message names their whole range ("between 1 and 65535") rather than the largest value."""

CONTEXT = {
    "task_functions": '[[task_functions]]\nname = "f"\nhandler_type = "command"\nhandler_path = "true"\n',
    "concurrency_groups": '[[concurrency_groups]]\nname = "g"\n',
    "notifiers": '[[notifiers]]\nname = "n"\ntype = "email"\nto = ["a@example.com"]\nfrom = "j@example.com"\n'
    'smtp_host = "127.0.0.1"\n',
}
LABEL = {"task_functions": "task_functions[0]", "concurrency_groups": "concurrency_groups[0]"}


def _numeric(keys: dict[str, tuple[type, ...]]) -> set[str]:
    return {key for key, types in keys.items() if int in types or float in types}


def _takes_float(table: str, key: str) -> bool:
    keys = {
        **{name: types for kind in notifier_config._KEYS.values() for name, types in kind.items()},
        **notifier_config.NOTIFY_KEYS, **TASK_FUNCTION_KEYS, **CONCURRENCY_GROUP_KEYS, **KEYS.get(table, {}),
    }  # fmt: skip
    return float in keys[key]


def toml(table: str, key: str, value: str) -> str:
    """A config that sets ``key`` of ``table`` to ``value`` (TOML text) and is valid otherwise."""
    if table in CONTEXT:
        return f"{CONTEXT[table]}{key} = {value}\n"
    return f"[{table}]\n{key} = {value}\n"


def _env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}


def jobctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jobctl", *args], capture_output=True, text=True, timeout=60,
                          env=_env())  # fmt: skip


def test_every_number_the_config_takes_has_a_largest_value() -> None:
    expected = {table: _numeric(keys) for table, keys in KEYS.items()}
    expected |= {
        "task_functions": _numeric(TASK_FUNCTION_KEYS),
        "concurrency_groups": _numeric(CONCURRENCY_GROUP_KEYS),
        "notifiers": set().union(*(_numeric(keys) for keys in notifier_config._KEYS.values())),
        "notify": _numeric(notifier_config.NOTIFY_KEYS),
    }
    assert {table: set(keys) for table, keys in MAXIMA.items()} == {t: keys for t, keys in expected.items() if keys}
    assert (MAX_LEASE_TTL_SECONDS, MAX_SECONDS_SETTING, MAX_TIMEOUT_SECONDS) == (86_400, 2_592_000, 2_592_000)
    assert (MAX_CONCURRENT_RUNS, MAX_GROUP_LIMIT) == (10_000, 1_000_000)
    assert TIMEOUT_MAX == MAX_TIMEOUT_SECONDS, "a task function's default timeout stands in for a job's timeoutSeconds"
    assert all(most < 2**31 for keys in MAXIMA.values() for most, _ in keys.values()), "32-bit columns and timeouts"


CASES = [
    (table, key, beyond)
    for table, keys in MAXIMA.items()
    for key in keys
    for beyond in (
        "one-more",
        "2**63",
        "10**20",
        *(("a-half-more", "1e300", "inf") if _takes_float(table, key) else ()),
    )
]


@pytest.mark.parametrize(("table", "key", "beyond"), CASES, ids=[f"{t}.{k}-{b}" for t, k, b in CASES])
def test_every_number_above_its_largest_is_a_config_error(tmp_path: Path, table: str, key: str, beyond: str) -> None:
    most, said = MAXIMA[table][key]
    value = {"one-more": str(int(most) + 1), "a-half-more": f"{int(most)}.5", "2**63": str(2**63),
             "10**20": str(10**20), "1e300": "1e300", "inf": "inf"}[beyond]  # fmt: skip
    path = tmp_path / "jobctl.toml"
    path.write_text(toml(table, key, value))
    with pytest.raises(UsageError) as caught:
        load_config(str(path))
    message = caught.value.message
    assert key in message and "\n" not in message, message
    if (table, key) not in SPECIAL:
        shown = {"1e300": "1e+300"}.get(value, value)
        label = LABEL.get(table, f"[{table}]")
        assert message == f"config file {path}: {label} {key} must be at most {int(most)}{said}, not {shown}"


@pytest.mark.parametrize(
    ("setting", "least"),
    [("[daemon]\nlease_ttl_seconds", 2), ("[daemon]\nshutdown_grace_seconds", 0),
     ("[scheduler]\nmisfire_grace_seconds", 0)],
    ids=["lease-ttl", "shutdown-grace", "misfire-grace"],
)  # fmt: skip
def test_nan_is_a_config_error(tmp_path: Path, setting: str, least: int) -> None:
    path = tmp_path / "jobctl.toml"
    path.write_text(f"{setting} = nan\n")
    with pytest.raises(UsageError) as caught:
        load_config(str(path))
    table, key = setting.split("\n")
    assert caught.value.message == f"config file {path}: {table} {key} must be at least {least}, not nan"


LARGEST = f"""
[daemon]
port = 65535
lease_ttl_seconds = {MAX_LEASE_TTL_SECONDS}
shutdown_grace_seconds = {MAX_SECONDS_SETTING}
kill_grace_seconds = 60
max_concurrent_runs = {MAX_CONCURRENT_RUNS}
[scheduler]
misfire_grace_seconds = {MAX_SECONDS_SETTING}
[history]
keep_days = 36500
keep_per_job = 1000000000
output_keep_days = 36500
audit_keep_days = 36500
[notify]
output_tail_bytes = 1000000
retry_for_seconds = 2592000
[[notifiers]]
name = "n"
type = "email"
to = ["a@example.com"]
from = "j@example.com"
smtp_host = "127.0.0.1"
smtp_port = 65535
timeout = 300
[[task_functions]]
name = "slow"
handler_type = "command"
handler_path = "sleep 2"
default_timeout_seconds = {MAX_TIMEOUT_SECONDS}
[[concurrency_groups]]
name = "g"
limit = {MAX_GROUP_LIMIT}
"""


def test_the_largest_value_of_every_number_is_taken(tmp_path: Path) -> None:
    path = tmp_path / "jobctl.toml"
    path.write_text(LARGEST)
    config = load_config(str(path))
    assert (config.daemon_port, config.lease_ttl_seconds, config.shutdown_grace_seconds) == (
        65535, MAX_LEASE_TTL_SECONDS, MAX_SECONDS_SETTING,
    )  # fmt: skip
    assert (config.kill_grace_seconds, config.max_concurrent_runs, config.misfire_grace_seconds) == (
        60, MAX_CONCURRENT_RUNS, MAX_SECONDS_SETTING,
    )  # fmt: skip
    assert config.task_functions[0].default_timeout_seconds == MAX_TIMEOUT_SECONDS
    assert config.concurrency_groups[0].limit == MAX_GROUP_LIMIT
    assert (config.notify.output_tail_bytes, config.notify.retry_for_seconds) == (1_000_000, 2_592_000)
    assert (config.notify.notifiers[0].timeout, config.notify.notifiers[0].settings["smtp_port"]) == (300, 65535)


@pytest.mark.parametrize(
    ("setting", "command", "message"),
    [
        (f"{CONTEXT['task_functions']}default_timeout_seconds = 9223372036854775808", "daemon --no-api",
         "task_functions[0] default_timeout_seconds must be at most 2592000 (30 days), not 9223372036854775808"),
        ("[[concurrency_groups]]\nname = 'g'\nlimit = 9223372036854775808", "daemon --no-api",
         "concurrency_groups[0] limit must be at most 1000000, not 9223372036854775808"),
        ("[scheduler]\nmisfire_grace_seconds = 1e300", "daemon --no-api",
         "[scheduler] misfire_grace_seconds must be at most 2592000 (30 days), not 1e+300"),
        ("[daemon]\nlease_ttl_seconds = 1e300", "daemon --no-api",
         "[daemon] lease_ttl_seconds must be at most 86400 (1 day), not 1e+300"),
        ("[daemon]\nshutdown_grace_seconds = inf", "daemon --no-api",
         "[daemon] shutdown_grace_seconds must be at most 2592000 (30 days), not inf"),
        ("[daemon]\nmax_concurrent_runs = 9223372036854775808", "daemon --no-api",
         "[daemon] max_concurrent_runs must be at most 10000, not 9223372036854775808"),
        ("[daemon]\nlease_ttl_seconds = 1e300", "store check",
         "[daemon] lease_ttl_seconds must be at most 86400 (1 day), not 1e+300"),
        ("[scheduler]\nmisfire_grace_seconds = 2592000.5", "jobs list",
         "[scheduler] misfire_grace_seconds must be at most 2592000 (30 days), not 2592000.5"),
        (f"{CONTEXT['task_functions']}default_timeout_seconds = 9223372036854775807", "task-functions sync",
         "task_functions[0] default_timeout_seconds must be at most 2592000 (30 days), not 9223372036854775807"),
        (f"{CONTEXT['task_functions']}default_timeout_seconds = 2147483648", "task-functions sync",
         "task_functions[0] default_timeout_seconds must be at most 2592000 (30 days), not 2147483648"),
    ],
    ids=["default-timeout-daemon", "group-limit-daemon", "misfire-grace-daemon", "lease-ttl-daemon",
         "shutdown-grace-daemon", "max-runs-daemon", "lease-ttl-store-check", "misfire-grace-jobs-list",
         "default-timeout-sync-int64", "default-timeout-sync-int32"],
)  # fmt: skip
def test_a_number_too_large_is_exit_2_on_one_line_and_nothing_is_written(
    sqlite_url: str, tmp_path: Path, setting: str, command: str, message: str
) -> None:
    """Before the bounds: an internal error (OverflowError, exit 1), the task function half written."""
    config = tmp_path / "bad.toml"
    config.write_text(setting + "\n")
    result = jobctl("--db", sqlite_url, "--config", str(config), *command.split())
    assert result.returncode == 2, result
    assert result.stderr == f"jobctl: config file {config}: {message}\n", result.stderr
    assert result.stdout == ""
    if Path(sqlite_url.removeprefix("sqlite:///")).exists():
        store = open_store(sqlite_url)
        try:
            assert store.db.scalar("SELECT COUNT(*) FROM task_functions WHERE name = 'f'") == 0
        finally:
            store.close()


@pytest.fixture
def largest_daemon(store_url: str, tmp_path: Path) -> Iterator[tuple[httpx.Client, DaemonFactory]]:
    """A real daemon with its API, every number of its config at its largest."""
    config = tmp_path / "largest.toml"
    config.write_text(LARGEST)  # --port overrides its port
    store = open_store(store_url)
    try:
        token, _ = create_token(store, "limits", "admin")
    finally:
        store.close()
    daemons = DaemonFactory(store_url, config, tmp_path)
    try:
        daemon = daemons.start(api=True)
        base = f"http://127.0.0.1:{daemon.port}/api/v1/scheduler"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            yield client, daemons
    finally:
        daemons.stop_all()


def test_a_daemon_with_every_number_at_its_largest_serves_runs_and_stops(
    largest_daemon: tuple[httpx.Client, DaemonFactory],
) -> None:
    """On either backend: the task function's timeout and the group's limit fit their 32-bit
    columns, a run gets the 30-day timeout, and a shutdown waits for it with a 30-day grace."""
    client, daemons = largest_daemon
    functions = client.get("/task-functions").json()["taskFunctions"]
    slow = next(function for function in functions if function["name"] == "slow")
    assert slow["defaultTimeoutSeconds"] == MAX_TIMEOUT_SECONDS
    groups = client.get("/status").json()["concurrencyGroups"]
    assert [(group["name"], group["limit"]) for group in groups] == [("g", MAX_GROUP_LIMIT)]
    body: dict[str, Any] = {
        "name": "slow", "taskFunctionId": slow["id"], "jobTypeId": 1, "scheduleConfig": {"hours": 1},
        "concurrencyGroup": "g", "maxInstances": 1000, "retryCount": 100, "retryDelaySeconds": 604800,
    }  # fmt: skip
    for field in ("timeoutSeconds", "maxInstances", "retryCount", "retryDelaySeconds"):
        refused = client.post("/jobs", json={**body, field: 2**63})
        assert refused.status_code == 422, refused.text
        assert [error["loc"] for error in refused.json()["detail"]] == [["body", field]]
    created = client.post("/jobs", json=body)
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    execution_id = client.post(f"/jobs/{job_id}/trigger").json()["executionId"]
    wait_for(lambda: client.get(f"/executions/{execution_id}").json()["status"] == "running", timeout=20,
             what="the run to start")  # fmt: skip
    daemon = daemons.started[0]
    assert daemon.stop() == 0, daemon.log()
    assert "letting runs finish for up to 2592000s" in daemon.log()
    assert "Traceback" not in daemon.log(), daemon.log()
    store = open_store(daemons.store_url)
    try:
        assert store.db.scalar("SELECT status FROM executions WHERE id = :id", {"id": execution_id}) == "success"
    finally:
        store.close()
