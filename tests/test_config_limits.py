"""The range of every number the config takes (``RANGES``): outside it (2**63, 1e300, inf, nan
included), a config error in every command and for the daemon at start-up, exit 2 and one line
saying the range and the value given; at its largest, a real daemon starts, serves and runs on
either backend (docs/config-limits.md).

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
from jobctl.config import CONCURRENCY_GROUP_KEYS, KEYS, RANGES, TASK_FUNCTION_KEYS, load_config
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

CONTEXT = {
    "task_functions": '[[task_functions]]\nname = "f"\nhandler_type = "command"\nhandler_path = "true"\n',
    "concurrency_groups": '[[concurrency_groups]]\nname = "g"\n',
    "notifiers": '[[notifiers]]\nname = "n"\ntype = "email"\nto = ["a@example.com"]\nfrom = "j@example.com"\n'
    'smtp_host = "127.0.0.1"\n',
}
LABEL = {"task_functions": "task_functions[0]", "concurrency_groups": "concurrency_groups[0]",
         "notifiers": "notifiers[0] (n)"}  # fmt: skip


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


def test_every_number_the_config_takes_has_a_range() -> None:
    expected = {table: _numeric(keys) for table, keys in KEYS.items()}
    expected |= {
        "task_functions": _numeric(TASK_FUNCTION_KEYS),
        "concurrency_groups": _numeric(CONCURRENCY_GROUP_KEYS),
        "notifiers": set().union(*(_numeric(keys) for keys in notifier_config._KEYS.values())),
        "notify": _numeric(notifier_config.NOTIFY_KEYS),
    }
    assert {table: set(keys) for table, keys in RANGES.items()} == {t: keys for t, keys in expected.items() if keys}
    assert (MAX_LEASE_TTL_SECONDS, MAX_SECONDS_SETTING, MAX_TIMEOUT_SECONDS) == (86_400, 2_592_000, 2_592_000)
    assert (MAX_CONCURRENT_RUNS, MAX_GROUP_LIMIT) == (10_000, 1_000_000)
    assert TIMEOUT_MAX == MAX_TIMEOUT_SECONDS, "a task function's default timeout stands in for a job's timeoutSeconds"
    largest = [bounds.most for keys in RANGES.values() for bounds in keys.values()]
    assert all(most < 2**31 for most in largest), "32-bit columns and timeouts"


UNITS = {"_seconds": "seconds", "timeout": "seconds", "_days": "days", "_bytes": "bytes"}
"""The unit of a setting, by how its key ends."""
IN_WORDS = {("seconds", 60): "1 minute", ("seconds", 300): "5 minutes", ("seconds", 86_400): "1 day",
            ("seconds", 2_592_000): "30 days", ("days", 36_500): "100 years", ("bytes", 1_000_000): "1 MB"}  # fmt: skip
"""What a largest value that is a duration or a size means, as the message says it."""


def expected_range(key: str, least: float, most: float, *, least_excluded: bool) -> str:
    """The range as every range error says it, written out here apart from the code."""
    unit = next((unit for end, unit in UNITS.items() if key.endswith(end)), None)
    largest = f"{most:.0f}" if unit is None else f"{most:.0f} {unit} ({IN_WORDS[unit, int(most)]})"
    if least_excluded:
        return f"more than {least:.0f} and at most {largest}"
    return f"between {least:.0f} and {largest}"


OUTSIDE = ("one-less", "one-more", "2**63", "-2**63", "10**20")
OUTSIDE_FLOAT = ("a-half-more", "1e300", "inf", "-inf", "nan")
CASES = [
    (table, key, outside)
    for table, keys in RANGES.items()
    for key in keys
    for outside in (*OUTSIDE, *(OUTSIDE_FLOAT if _takes_float(table, key) else ()))
]


@pytest.mark.parametrize(("table", "key", "outside"), CASES, ids=[f"{t}.{k}-{o}" for t, k, o in CASES])
def test_every_number_outside_its_range_is_told_with_the_range_and_the_value(
    tmp_path: Path, table: str, key: str, outside: str
) -> None:
    """One form for every number of every table, found from the key tables (the first test checks
    that each has a range): the setting, both bounds, the largest in words when it is a duration or
    a size, and the value as the file gave it."""
    bounds = RANGES[table][key]
    least, most = bounds.least, bounds.most
    below = least if bounds.least_excluded else least - 1
    value = {"one-less": f"{below:.0f}", "one-more": f"{most + 1:.0f}", "a-half-more": f"{most:.0f}.5",
             "2**63": str(2**63), "-2**63": str(-(2**63)), "10**20": str(10**20), "1e300": "1e300",
             "inf": "inf", "-inf": "-inf", "nan": "nan"}[outside]  # fmt: skip
    path = tmp_path / "jobctl.toml"
    path.write_text(toml(table, key, value))
    with pytest.raises(UsageError) as caught:
        load_config(str(path))
    shown = {"1e300": "1e+300"}.get(value, value)
    label = LABEL.get(table, f"[{table}]")
    said = expected_range(key, least, most, least_excluded=bounds.least_excluded)
    assert caught.value.message == f"config file {path}: {label} {key} must be {said}, not {shown}"


def test_the_range_s_bounds_are_taken(tmp_path: Path) -> None:
    """The smallest value of every number is in its range too (the largest: below)."""
    for table, keys in RANGES.items():
        for key, bounds in keys.items():
            if bounds.least_excluded:
                continue
            path = tmp_path / "jobctl.toml"
            path.write_text(toml(table, key, f"{bounds.least:.0f}"))
            load_config(str(path))


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
         "task_functions[0] default_timeout_seconds must be between 1 and 2592000 seconds (30 days), "
         "not 9223372036854775808"),
        ("[[concurrency_groups]]\nname = 'g'\nlimit = 9223372036854775808", "daemon --no-api",
         "concurrency_groups[0] limit must be between 1 and 1000000, not 9223372036854775808"),
        ("[scheduler]\nmisfire_grace_seconds = 1e300", "daemon --no-api",
         "[scheduler] misfire_grace_seconds must be between 0 and 2592000 seconds (30 days), not 1e+300"),
        ("[daemon]\nlease_ttl_seconds = 1e300", "daemon --no-api",
         "[daemon] lease_ttl_seconds must be between 2 and 86400 seconds (1 day), not 1e+300"),
        ("[daemon]\nshutdown_grace_seconds = inf", "daemon --no-api",
         "[daemon] shutdown_grace_seconds must be between 0 and 2592000 seconds (30 days), not inf"),
        ("[daemon]\nmax_concurrent_runs = 9223372036854775808", "daemon --no-api",
         "[daemon] max_concurrent_runs must be between 1 and 10000, not 9223372036854775808"),
        ("[daemon]\nlease_ttl_seconds = 1e300", "store check",
         "[daemon] lease_ttl_seconds must be between 2 and 86400 seconds (1 day), not 1e+300"),
        ("[scheduler]\nmisfire_grace_seconds = 2592000.5", "jobs list",
         "[scheduler] misfire_grace_seconds must be between 0 and 2592000 seconds (30 days), not 2592000.5"),
        (f"{CONTEXT['task_functions']}default_timeout_seconds = 9223372036854775807", "task-functions sync",
         "task_functions[0] default_timeout_seconds must be between 1 and 2592000 seconds (30 days), "
         "not 9223372036854775807"),
        (f"{CONTEXT['task_functions']}default_timeout_seconds = 2147483648", "task-functions sync",
         "task_functions[0] default_timeout_seconds must be between 1 and 2592000 seconds (30 days), not 2147483648"),
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
