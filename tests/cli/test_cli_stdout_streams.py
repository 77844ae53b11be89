"""What the CLI does with a stdout that is not an ordinary UTF-8 pipe: a reader that leaves
early (``jobctl ... | head``) and a locale that does not encode UTF-8. Real subprocesses on a
real SQLite store, reading stdout's bytes as another program would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli

NAME = "café-€"
"""A job name with a character latin-1 has (é) and one it has not (€)."""


@pytest.fixture
def sqlite_cli(sqlite_url: str, tmp_path: Path) -> Cli:
    """The CLI on a SQLite store holding the job :data:`NAME` and one run of it."""
    config = tmp_path / "jobctl.toml"
    config.write_text('[scheduler]\ntimezone = "UTC"\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    cli = Cli({**env, "JOBCTL_DB": sqlite_url, "JOBCTL_CONFIG": str(config), "COLUMNS": "200"})
    created = cli("jobs", "create", NAME, "--every", "1h", "--command", "echo déjà-€")
    assert created.code == 0, created
    ran = cli("run", NAME)
    assert ran.code == 0, ran
    # a failed run, whose error message (its stderr's tail) holds € too
    assert cli("jobs", "create", "fails", "--every", "1h", "--command", "echo 'kein Platz: €' >&2; exit 3").code == 0
    assert cli("run", "fails").code == 3
    return cli


def run_bytes(cli: Cli, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """``jobctl ARGS`` with stdout and stderr as bytes."""
    return subprocess.run(
        [sys.executable, "-m", "jobctl", *args], capture_output=True, env={**cli.env, **(env or {})}, timeout=60
    )


# -- a reader that leaves early ----------------------------------------------------------------


def into_a_closed_pipe(cli: Cli, *args: str) -> tuple[int, str]:
    """Run ``jobctl ARGS`` with stdout a pipe whose reader has already gone; its exit status
    and stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "jobctl", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=cli.env,
            timeout=60,
        )
    finally:
        os.close(write_end)
    return proc.returncode, proc.stderr.decode()


@pytest.mark.parametrize(
    "args",
    [
        ["jobs", "list"],
        ["jobs", "list", "--json"],
        ["jobs", "list", "--json", "--all"],
        ["executions", "list", "--job", NAME],
        ["executions", "export"],
        ["executions", "export", "--format", "ndjson", "-o", "/dev/stdout"],
        ["export"],
    ],
    ids=" ".join,
)
def test_a_reader_that_left_ends_the_command_quietly_with_141_as_sigpipe_ends_cat(
    sqlite_cli: Cli, args: list[str]
) -> None:
    code, stderr = into_a_closed_pipe(sqlite_cli, *args)
    assert (code, stderr) == (141, ""), "cat, seq and grep end with 141 there, and say nothing"


def test_head_takes_the_first_lines_of_a_long_export(sqlite_cli: Cli) -> None:
    for _ in range(3):
        assert sqlite_cli("run", NAME).code == 0
    shell = f'{sys.executable} -m jobctl executions export --format ndjson | head -n 1; echo "${{PIPESTATUS[0]}}"'
    proc = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=sqlite_cli.env, timeout=60)
    first, status = proc.stdout.splitlines()
    assert json.loads(first)["status"] == "success"
    assert status in ("0", "141"), "0 when all fitted in the pipe before head left, else SIGPIPE's"
    assert proc.stderr == ""


# -- a locale that does not encode UTF-8 -------------------------------------------------------

LATIN_1 = {"PYTHONIOENCODING": "latin-1"}
"""stdout encoding latin-1, as under ``LANG=de_DE.ISO-8859-1`` (€ is not in it)."""


@pytest.mark.parametrize("env", [LATIN_1, {"PYTHONIOENCODING": "ascii"}], ids=["latin-1", "ascii"])
def test_json_is_utf8_whatever_the_locale(sqlite_cli: Cli, env: dict[str, str]) -> None:
    listed = run_bytes(sqlite_cli, "jobs", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert sorted(job["name"] for job in json.loads(listed.stdout.decode("utf-8"))["jobs"]) == [NAME, "fails"]
    walked = run_bytes(sqlite_cli, "executions", "list", "--job", NAME, "--json", "--all", env=env)
    assert walked.returncode == 0, walked.stderr
    assert walked.stdout.decode("utf-8").strip()


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_an_export_to_stdout_is_utf8_as_one_to_a_file_is(sqlite_cli: Cli, fmt: str, tmp_path: Path) -> None:
    piped = run_bytes(sqlite_cli, "executions", "export", "--format", fmt, env=LATIN_1)
    assert piped.returncode == 0, piped.stderr
    to_file = sqlite_cli("executions", "export", "--format", fmt, "-o", str(tmp_path / "out"), env=LATIN_1)
    assert to_file.code == 0, to_file
    assert piped.stdout == (tmp_path / "out").read_bytes()
    assert "kein Platz: €".encode() in piped.stdout


def test_a_jobs_file_to_stdout_is_utf8(sqlite_cli: Cli) -> None:
    exported = run_bytes(sqlite_cli, "export", env=LATIN_1)
    assert exported.returncode == 0, exported.stderr
    assert f'name = "{NAME}"' in exported.stdout.decode("utf-8")


def test_a_jobs_output_into_a_pipe_is_its_text_in_utf8(sqlite_cli: Cli) -> None:
    ran = run_bytes(sqlite_cli, "run", NAME, env=LATIN_1)
    assert ran.returncode == 0, ran.stderr
    assert "déjà-€".encode() in ran.stdout


def test_a_table_shows_what_the_locale_cannot_encode_escaped(sqlite_cli: Cli) -> None:
    listed = run_bytes(sqlite_cli, "jobs", "list", env=LATIN_1)
    assert listed.returncode == 0, listed.stderr
    text = listed.stdout.decode("latin-1")
    assert "café-\\u20ac" in text, "é as latin-1 has it, € escaped"
    shown = run_bytes(sqlite_cli, "jobs", "show", NAME, env={"PYTHONIOENCODING": "ascii"})
    assert shown.returncode == 0, shown.stderr
    assert "caf\\xe9-\\u20ac" in shown.stdout.decode("ascii")
