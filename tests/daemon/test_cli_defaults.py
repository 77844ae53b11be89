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


def jobctl(
    factory: DaemonFactory, *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m jobctl`` on the factory's store and config, in a shell whose env is ``env``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
    base.update({"JOBCTL_DB": factory.store_url, "JOBCTL_CONFIG": str(factory.config_path), "COLUMNS": "200"})
    return subprocess.run([sys.executable, "-m", "jobctl", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=60, input=input)  # fmt: skip


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


def warning(text: str) -> str:
    return f"jobctl: warning: {text}\n"


def test_create_and_trigger_warn_while_no_daemon_leads(factory: DaemonFactory) -> None:
    from jobctl.cli.jobs_cmds import NO_DAEMON

    created = jobctl(factory, "jobs", "create", "a", "--every", "1h", "--command", "true")
    assert (created.returncode, created.stderr) == (0, warning(NO_DAEMON))
    disabled = jobctl(factory, "jobs", "create", "off", "--every", "1h", "--command", "true", "--disabled")
    assert (disabled.returncode, disabled.stderr) == (0, ""), "a disabled job is not expected to run"
    triggered = jobctl(factory, "jobs", "trigger", "a")
    assert (triggered.returncode, triggered.stderr) == (0, warning(NO_DAEMON))
    assert len(triggered.stdout.strip()) == 36, "the execution id is still printed"

    daemon = factory.start(api=True)
    for result in (
        jobctl(factory, "jobs", "create", "b", "--every", "1h", "--command", "true"),
        jobctl(factory, "jobs", "trigger", "b", "--json"),
        remote(factory, daemon, "jobs", "create", "c", "--every", "1h", "--command", "true"),
        remote(factory, daemon, "jobs", "trigger", "c"),
    ):
        assert (result.returncode, result.stderr) == (0, ""), result

    assert daemon.stop() == 0
    again = jobctl(factory, "jobs", "trigger", "b")
    assert (again.returncode, again.stderr) == (0, warning(NO_DAEMON)), "a cleanly stopped daemon leads no more"


def test_apply_and_crontab_import_warn_while_no_daemon_leads(factory: DaemonFactory, tmp_path: Path) -> None:
    from jobctl.cli.jobs_cmds import NO_DAEMON

    jobs_file = tmp_path / "jobs.toml"
    jobs_file.write_text('[[jobs]]\nname = "filed"\nevery = "1h"\ncommand = "true"\n')
    crontab = "# name: cronned\n0 3 * * * true\n"
    applied = jobctl(factory, "apply", "-f", str(jobs_file))
    assert (applied.returncode, applied.stderr) == (0, warning(NO_DAEMON))
    imported = jobctl(factory, "import", "crontab", "-", input=crontab)
    assert (imported.returncode, imported.stderr) == (0, warning(NO_DAEMON))
    for unchanged in (
        jobctl(factory, "apply", "-f", str(jobs_file)),
        jobctl(factory, "import", "crontab", "-", input=crontab),
    ):
        assert (unchanged.returncode, unchanged.stderr) == (0, ""), "nothing new to run: nothing to warn of"
    dry = jobctl(factory, "apply", "-f", str(jobs_file), "--dry-run", "--source", "other")
    assert (dry.returncode, dry.stderr) == (0, ""), "a dry run records nothing"

    factory.start(api=True)
    jobs_file.write_text('[[jobs]]\nname = "filed"\nevery = "2h"\ncommand = "true"\n')
    changed = jobctl(factory, "apply", "-f", str(jobs_file))
    assert (changed.returncode, changed.stderr) == (0, ""), changed


def test_a_standby_daemon_with_no_leader_is_warned_about_through_the_api(
    factory: DaemonFactory, store_url: str
) -> None:
    """The lease is held by an instance that is not alive (as after a leader vanished), so the
    daemon answering the API stands by and nothing runs."""
    from datetime import timedelta

    from jobctl.cli.jobs_cmds import NO_DAEMON, NO_LEADER
    from jobctl.store import open_store

    store = open_store(store_url)
    try:
        assert store.cluster.acquire_or_renew_lease("gone", timedelta(minutes=10)) is not None
    finally:
        store.close()
    daemon = factory.start(api=True)
    assert "leader: False" in daemon.log()
    url = f"http://127.0.0.1:{daemon.port}"
    through_api = remote(factory, daemon, "jobs", "create", "r", "--every", "1h", "--command", "true")
    assert (through_api.returncode, through_api.stderr) == (0, warning(NO_LEADER.format(url=url)))
    local = jobctl(factory, "jobs", "trigger", "r")
    assert (local.returncode, local.stderr) == (0, warning(NO_DAEMON))
