"""Commands that work only on the store (``token ...``, ``task-functions sync``, ``daemon``) decide
alike when an API is set: ``--api`` is refused; ``$JOBCTL_API_URL`` or ``[client] api_url`` is
refused unless a store is named (``--db``, ``$JOBCTL_DB``, ``[store] url``), which is then used."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import Outcome
from tests.daemon.helpers import wait_for

API = "http://127.0.0.1:9"  # nothing listens: a command that tried the API would fail differently

STORE_ONLY = {
    "token create": ("token", "create", "ci", "--role", "viewer"),
    "token list": ("token", "list"),
    "token revoke": ("token", "revoke", "ci"),
    "task-functions sync": ("task-functions", "sync"),
    "daemon": ("daemon", "--no-api"),
}


def jobctl(tmp_path: Path, *args: str, config: str, env: dict[str, str] | None = None) -> Outcome:
    """``python -m jobctl`` with only ``config`` and ``env`` (and a data folder in ``tmp_path``) set."""
    path = tmp_path / "jobctl.toml"
    path.write_text(config)
    base = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    base.update({"JOBCTL_CONFIG": str(path), "XDG_DATA_HOME": str(tmp_path / "data"), "COLUMNS": "200"})
    proc = subprocess.run([sys.executable, "-m", "jobctl", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=60)  # fmt: skip
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize("command", STORE_ONLY)
def test_api_option_is_refused(tmp_path: Path, sqlite_url: str, command: str, fails: Callable[..., str]) -> None:
    result = jobctl(tmp_path, "--api", API, *STORE_ONLY[command], config=f'[store]\nurl = "{sqlite_url}"\n')
    fails(result, 2, f"jobctl: 'jobctl {command}' works on the store, not through the API: run it without --api")


@pytest.mark.parametrize("source", ["config", "env"])
@pytest.mark.parametrize("command", STORE_ONLY)
def test_an_api_without_a_named_store_is_refused(
    tmp_path: Path, command: str, source: str, fails: Callable[..., str]
) -> None:
    args = STORE_ONLY[command]
    if source == "config":
        result = jobctl(tmp_path, *args, config=f'[client]\napi_url = "{API}"\n')
        fails(
            result, 2, f"'jobctl {command}' works on the store, and [client] api_url points at an API: name the store"
        )
    else:
        result = jobctl(tmp_path, *args, config="", env={"JOBCTL_API_URL": API})
        fails(result, 2, f"'jobctl {command}' works on the store, and $JOBCTL_API_URL points at an API: name the store")
    assert not (tmp_path / "data").exists(), "no default store was created"


@pytest.mark.parametrize("named", ["config", "option", "env"])
def test_a_named_store_is_used_even_with_an_api_set(
    tmp_path: Path, store_url: str, named: str, ok: Callable[[Any], Any]
) -> None:
    config = f'[client]\napi_url = "{API}"\n'
    options: tuple[str, ...] = ()
    env: dict[str, str] = {}
    if named == "config":
        config = f'[store]\nurl = "{store_url}"\n\n{config}'
    elif named == "option":
        options = ("--db", store_url)
    else:
        env = {"JOBCTL_DB": store_url}

    def run(*args: str) -> Outcome:
        return ok(jobctl(tmp_path, *options, *args, config=config, env=env))

    secret = run("token", "create", "ci", "--role", "viewer").stdout.strip()
    assert len(secret) > 20
    assert "ci" in run("token", "list").stdout
    run("token", "revoke", "ci")
    assert "revoked" in run("token", "list").stdout
    assert run("task-functions", "sync").stdout == "synced 0 task function(s)\n"


def test_the_daemon_runs_on_the_store_named_in_a_config_that_also_sets_an_api(tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "jobctl.toml"
    config.write_text(f'[store]\nurl = "{sqlite_url}"\n\n[client]\napi_url = "{API}"\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    env.update({"JOBCTL_CONFIG": str(config), "XDG_DATA_HOME": str(tmp_path / "data")})
    log = tmp_path / "daemon.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "jobctl", "daemon", "--no-api"], stdout=out,
                                stderr=subprocess.STDOUT, env=env)  # fmt: skip
    try:
        wait_for(lambda: "started (leader" in log.read_text() or proc.poll() is not None, timeout=20, what="start")
        assert proc.poll() is None, log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert (tmp_path / "jobctl.db").exists() and not (tmp_path / "data").exists()


@pytest.mark.parametrize("command", [command for command in STORE_ONLY if command != "daemon"])
def test_a_broken_config_is_refused_though_the_store_is_named(
    tmp_path: Path, sqlite_url: str, command: str, fails: Callable[..., str]
) -> None:
    """With ``--db`` naming the store no setting is read, and these ran on (exit 0) with a
    config file that every other command refuses: exit 2 with the config's one line."""
    result = jobctl(tmp_path, "--db", sqlite_url, *STORE_ONLY[command], config="[history]\nkeep_days = 36501\n")
    fails(result, 2, "[history] keep_days must be between 1 and 36500 days (100 years), not 36501")
