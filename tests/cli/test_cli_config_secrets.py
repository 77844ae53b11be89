"""A config file holding a secret that its group or others can read is warned about, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import OneStoreCli

SECRET = "S3cr3t-pw"
SECRET_CONFIGS = {
    "client-token": f'[client]\ntoken = "jobctl_{SECRET}"\n',
    "store-password": f'[store]\nurl = "postgresql+psycopg://u:{SECRET}@db.example.org/jobctl"\n',
    "store-query-password": f'[store]\nurl = "postgresql+psycopg://u@db.example.org/jobctl?password={SECRET}"\n',
    "broker-password": f'[celery]\nbroker_url = "amqp://guest:{SECRET}@127.0.0.1:1//"\n',
    "backend-password": f'[celery]\nresult_backend = "redis://:{SECRET}@127.0.0.1:1/0"\n',
}


def config_file(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "secret.toml"
    path.write_text('[scheduler]\ntimezone = "UTC"\n' + text)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("kind", SECRET_CONFIGS, ids=list(SECRET_CONFIGS))
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o600, 0o400], ids=oct)
def test_a_readable_config_holding_a_secret_is_warned_about_once(
    kind: str, mode: int, sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    path = config_file(tmp_path, SECRET_CONFIGS[kind], mode)
    # --db keeps the call local and on the test's store whatever the config names
    result = sqlite_only_cli("--config", str(path), "--db", sqlite_only_cli.env["JOBCTL_DB"], "jobs", "list", "--json")
    assert result.code == 0, result.stderr
    assert SECRET not in result.stderr
    if mode & 0o044:
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith(f"jobctl: warning: config file {path} holds "), result.stderr
        assert f"chmod 600 {path}" in result.stderr
        assert ("its group" in result.stderr) == bool(mode & 0o040)
        assert ("other users" in result.stderr) == bool(mode & 0o004)
    else:
        assert result.stderr == ""


def test_a_readable_config_without_secrets_is_not_warned_about(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    path = config_file(tmp_path, '[store]\nurl = "postgresql+psycopg://u@db.example.org/jobctl"\n', 0o644)
    result = sqlite_only_cli("--config", str(path), "--db", sqlite_only_cli.env["JOBCTL_DB"], "jobs", "list")
    assert (result.code, result.stderr) == (0, "")


def test_the_warning_comes_before_an_error_and_leaves_its_exit_code(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    path = config_file(tmp_path, SECRET_CONFIGS["client-token"], 0o644)
    result = sqlite_only_cli("--config", str(path), "--db", sqlite_only_cli.env["JOBCTL_DB"], "jobs", "show", "nope")
    assert result.code == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("jobctl: warning: config file") and "no job" in lines[1]


def test_the_daemon_logs_the_warning_at_start_and_on_reload(sqlite_url: str, tmp_path: Path) -> None:
    import json
    import signal

    from tests.daemon.helpers import DaemonFactory, wait_for

    path = config_file(tmp_path, SECRET_CONFIGS["client-token"] + '[daemon]\nlog_format = "json"\n', 0o644)
    factory = DaemonFactory(sqlite_url, path, tmp_path)
    try:
        daemon = factory.start()
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: "config reloaded" in daemon.log(), timeout=10, what="the reload")
        assert daemon.stop() == 0
    finally:
        factory.stop_all()
    entries = [json.loads(line) for line in daemon.log().splitlines()]  # every line is JSON
    warned = [entry for entry in entries if entry["message"].startswith(f"config file {path} holds")]
    assert [entry["level"] for entry in warned] == ["warning", "warning"], "at start and on reload"
    assert SECRET not in daemon.log()
