"""The shipped systemd unit and example config work as written (docs/systemd.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon.helpers import ROOT, DaemonFactory

UNIT = ROOT / "contrib" / "jobctl.service"
INSTALLED_JOBCTL = "/opt/jobctl/bin/jobctl"


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """``systemd-analyze verify`` checks every key and that ExecStart exists: the copy verified
    differs from the shipped unit only in where jobctl is installed (this test's environment)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    text = UNIT.read_text()
    assert f"ExecStart={INSTALLED_JOBCTL} daemon" in text
    here = Path(sys.executable).parent / "jobctl"
    assert here.exists(), here
    copy = tmp_path / "jobctl.service"
    copy.write_text(text.replace(INSTALLED_JOBCTL, str(here)))
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "jobctl.service" not in result.stderr, result.stderr


def test_the_unit_keeps_the_grace_and_does_not_restart_on_a_config_error() -> None:
    settings = unit_settings()
    assert settings["KillMode"] == ["mixed"], "control-group would TERM every run at once"
    assert settings["StateDirectory"] == ["jobctl"] and settings["User"] == ["jobctl"]
    assert settings["RestartPreventExitStatus"] == ["2 78"], "usage errors and stores the daemon can never use"
    assert not any("JOBCTL_CONFIG" in value for value in settings.get("Environment", []))


def test_the_daemon_starts_on_the_example_config_without_errors(sqlite_url: str, tmp_path: Path) -> None:
    factory = DaemonFactory(sqlite_url, ROOT / "jobctl.example.toml", tmp_path)
    try:
        daemon = factory.start(api=True)
        assert daemon.stop() == 0
    finally:
        factory.stop_all()
    log = daemon.log()
    assert "started (leader: True)" in log, log
    problems = [line for line in log.splitlines() if " ERROR " in line or " WARNING " in line or "Traceback" in line]
    assert not problems, log
