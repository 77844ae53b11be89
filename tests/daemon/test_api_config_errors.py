"""A config named by ``--config`` or ``$JOBCTL_CONFIG`` that is missing or does not load is exit
2 with its one line for every command through ``--api``, as on the store; a real daemon answers,
so a command that skipped the config would succeed instead (README, "Configuration")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.daemon.helpers import DaemonFactory, DaemonProcess, write_config

COMMANDS = {
    "jobs-list": ("jobs", "list"),
    "jobs-show": ("jobs", "show", "c1"),
    "jobs-why": ("jobs", "why", "c1"),
    "jobs-next": ("jobs", "next", "c1"),
    "status": ("status",),
    "top": ("top",),
    "notifications-list": ("notifications", "list"),
    "task-functions-list": ("task-functions", "list"),
    "executions-list": ("executions", "list"),
    "executions-export": ("executions", "export"),
    "audit": ("audit",),
}


@dataclass
class Remote:
    """A daemon with its API, a token for it, and a job named ``c1``."""

    factory: DaemonFactory
    daemon: DaemonProcess
    token: str
    folder: Path

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """``python -m jobctl ARGS`` with no ``JOBCTL_`` setting but ``env``'s."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
        return subprocess.run([sys.executable, "-m", "jobctl", *args], capture_output=True, text=True,
                              env={**base, **(env or {})}, timeout=60)  # fmt: skip

    def api(self) -> tuple[str, ...]:
        return ("--api", f"http://127.0.0.1:{self.daemon.port}", "--token", self.token)


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    folder = tmp_path_factory.mktemp("api-config")
    factory = DaemonFactory(f"sqlite:///{folder / 'jobctl.db'}", write_config(folder / "jobctl.toml"), folder)
    try:
        daemon = factory.start(api=True)
        made = Remote(factory, daemon, "", folder)
        store = ("--db", factory.store_url, "--config", str(factory.config_path))
        made.token = made.run(*store, "token", "create", "ops", "--role", "admin").stdout.strip()
        created = made.run(*made.api(), "--config", str(factory.config_path), "jobs", "create", "c1", "--every",
                           "1h", "--command", "true", "--json")  # fmt: skip
        assert created.returncode == 0 and json.loads(created.stdout)["name"] == "c1", created.stderr
        yield made
    finally:
        factory.stop_all()


def _bad_configs(folder: Path) -> dict[str, tuple[Path, str]]:
    """Configs that do not load, with the start of the line each is refused with."""
    not_toml = folder / "not-toml.toml"
    not_toml.write_text("[scheduler\ntimezone = UTC\n")
    keep_none = folder / "keep-none.toml"
    keep_none.write_text("[history]\nkeep_days = 0\n")
    missing = folder / "missing.toml"
    return {
        "missing": (missing, f"jobctl: config file {missing} does not exist"),
        "not-toml": (not_toml, f"jobctl: config file {not_toml} is not valid TOML: "),
        "keep-days-0": (keep_none, f"jobctl: config file {keep_none}: [history] keep_days must be "),
    }


@pytest.mark.parametrize("command", list(COMMANDS.values()), ids=list(COMMANDS))
def test_a_bad_named_config_is_refused_through_the_api_as_on_the_store(
    remote: Remote, command: tuple[str, ...]
) -> None:
    sound = remote.run(*remote.api(), "--config", str(remote.factory.config_path), *command)
    assert sound.returncode == 0, f"{command} with a sound config: {sound.stderr}"
    for name, (path, line) in _bad_configs(remote.folder).items():
        on_store = remote.run("--db", remote.factory.store_url, "--config", str(path), *command)
        assert on_store.returncode == 2 and on_store.stderr.startswith(line), (name, on_store.stderr)
        for how, named in (("--config", ("--config", str(path))), ("$JOBCTL_CONFIG", ())):
            env = {} if named else {"JOBCTL_CONFIG": str(path)}
            through_api = remote.run(*remote.api(), *named, *command, env=env)
            assert (through_api.returncode, through_api.stdout, through_api.stderr) == (2, "", on_store.stderr), (
                name, how, through_api.stderr,
            )  # fmt: skip
