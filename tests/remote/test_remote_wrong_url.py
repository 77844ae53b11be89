"""An ``--api`` URL that is not a jobctl API, or an empty ``--api``/``--db``, is never read as
"the job is not there" or as the local default store: scripts branch on exit 3 ("absent, so
create it") and on which store they wrote to."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def other_web_server(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server that is not jobctl's (Python's own, serving an empty folder)."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _bare(tmp_path: Path) -> Cli:
    config = tmp_path / "bare.toml"
    config.write_text('[scheduler]\ntimezone = "UTC"\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    return Cli({**env, "JOBCTL_CONFIG": str(config), "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")})


@pytest.mark.parametrize(
    "command",
    [["jobs", "show", "backup"], ["jobs", "list"], ["jobs", "create", "z", "--every", "1h", "--command", "true"]],
    ids=lambda c: " ".join(c[:2]),
)
def test_another_web_server_is_exit_5_not_a_missing_job(
    command: list[str], other_web_server: str, tmp_path: Path
) -> None:
    result = _bare(tmp_path)("--api", other_web_server, "--token", "t", *command)
    assert result.code == 5, result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"no jobctl API at {other_web_server}/api/v1/scheduler/" in result.stderr, result.stderr


@pytest.mark.parametrize("option", ["--api", "--db", "--config"])
def test_an_empty_global_option_is_a_usage_error_not_the_default_store(option: str, tmp_path: Path) -> None:
    result = _bare(tmp_path)(option, "", "jobs", "create", "demo", "--every", "1h", "--command", "true")
    assert result.code == 2, result
    assert result.stderr == f"jobctl: {option}: empty value; give a URL or path, or leave the option out\n"
    assert not (tmp_path / "data").exists()  # no default store was made
