"""What the CLI fills in for the user, the same on the store and through a real daemon's API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobctl.config import host_timezone
from tests.daemon.helpers import DaemonFactory, DaemonProcess

SHELL_ZONES = ("Asia/Kolkata", "America/Argentina/Buenos_Aires")


def shell_zone() -> str:
    """A ``$TZ`` for the calling shell that differs from the host's zone, so a leak shows."""
    return next(zone for zone in SHELL_ZONES if zone != host_timezone())


@pytest.fixture
def factory(store_url: str, tmp_path: Path) -> Iterator[DaemonFactory]:
    """Daemons on the test's store whose config names no zone (the host's zone applies)."""
    config = tmp_path / "jobctl.toml"
    config.write_text("[daemon]\nlease_ttl_seconds = 15\nshutdown_grace_seconds = 5\n")
    made = DaemonFactory(store_url, config, tmp_path)
    yield made
    made.stop_all()


def jobctl(factory: DaemonFactory, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m jobctl`` on the factory's store and config, in a shell whose env is ``env``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
    base.update({"JOBCTL_DB": factory.store_url, "JOBCTL_CONFIG": str(factory.config_path), "COLUMNS": "200"})
    return subprocess.run([sys.executable, "-m", "jobctl", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=60)  # fmt: skip


def remote(factory: DaemonFactory, daemon: DaemonProcess, *args: str, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    token = jobctl(factory, "token", "create", f"t{len(args)}-{os.urandom(3).hex()}", "--role", "admin").stdout.strip()
    return jobctl(factory, "--api", f"http://127.0.0.1:{daemon.port}", *args,
                  env={"JOBCTL_TOKEN": token, **(env or {})})  # fmt: skip


def stored_zone(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)["scheduleConfig"]["timezone"])


def test_a_cron_job_without_a_zone_gets_the_host_zone_locally_and_remotely(factory: DaemonFactory) -> None:
    shell = {"TZ": shell_zone()}
    daemon = factory.start(api=True, extra_env={"TZ": "Pacific/Auckland"})
    create = ("jobs", "create", "--cron", "0 3 * * *", "--command", "true", "--json")
    local = jobctl(factory, create[0], create[1], "local", *create[2:], env=shell)
    through_api = remote(factory, daemon, create[0], create[1], "remote", *create[2:], env=shell)
    assert stored_zone(local) == stored_zone(through_api) == host_timezone()
    shown = jobctl(factory, "jobs", "show", "remote", env=shell)
    assert f"({host_timezone()})" in shown.stdout, shown.stdout


def test_the_configured_zone_wins_over_the_host_zone_in_both_modes(factory: DaemonFactory) -> None:
    factory.config_path.write_text('[scheduler]\ntimezone = "Europe/Berlin"\n')
    shell = {"TZ": shell_zone()}
    daemon = factory.start(api=True, extra_env=shell)
    create = ("jobs", "create", "--cron", "0 3 * * *", "--command", "true", "--json")
    local = jobctl(factory, create[0], create[1], "local", *create[2:], env=shell)
    through_api = remote(factory, daemon, create[0], create[1], "remote", *create[2:], env=shell)
    assert stored_zone(local) == stored_zone(through_api) == "Europe/Berlin"
