"""A command that only reads never creates the store it was pointed at (docs/sqlite-store-file.md).

A mistyped ``--db`` path used to become a new empty store, and ``jobs list`` of it said "0 jobs"
as if every job were gone. Commands that write still create a named store; the default file is
still created on first use by any command.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Cli

READING_COMMANDS = [
    ["jobs", "list"],
    ["jobs", "list", "--json"],
    ["jobs", "show", "backup"],
    ["jobs", "next", "backup"],
    ["jobs", "why", "backup"],
    ["export"],
    ["executions", "list"],
    ["executions", "show", "3f2c9a4e"],
    ["executions", "tail", "backup"],
    ["audit"],
    ["top", "--json"],
    ["status"],
    ["notifications", "list"],
    ["notifications", "notifiers"],
    ["task-functions", "list"],
]


def _bare(tmp_path: Path, **extra: str) -> Cli:
    config = tmp_path / "bare.toml"
    config.write_text('[scheduler]\ntimezone = "UTC"\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    return Cli({**env, "JOBCTL_CONFIG": str(config), "COLUMNS": "200", **extra})


def _one_line(result: object, code: int, fragment: str) -> None:
    assert result.code == code, result  # type: ignore[attr-defined]
    stderr = result.stderr  # type: ignore[attr-defined]
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert fragment in stderr, stderr


@pytest.mark.parametrize("command", READING_COMMANDS, ids=" ".join)
def test_a_reading_command_on_a_mistyped_path_is_an_error_not_a_new_store(command: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "jobctl.db"
    result = _bare(tmp_path)("--db", f"sqlite:///{missing}", *command)
    _one_line(result, 1, f"no store at {missing}")
    assert not missing.parent.exists()


def test_the_store_named_by_the_environment_is_not_created_by_a_listing(tmp_path: Path) -> None:
    missing = tmp_path / "jobctl-typo.db"
    result = _bare(tmp_path, JOBCTL_DB=f"sqlite:///{missing}")("jobs", "list")
    _one_line(result, 1, f"no store at {missing}")
    assert not missing.exists()


def test_a_writing_command_creates_the_named_store_and_then_it_lists(tmp_path: Path) -> None:
    path = tmp_path / "new" / "jobctl.db"
    cli = _bare(tmp_path, JOBCTL_DB=f"sqlite:///{path}")
    created = cli("jobs", "create", "backup", "--every", "1h", "--command", "true")
    assert created.code == 0, created
    assert path.exists()
    listed = cli("jobs", "list")
    assert listed.code == 0, listed
    assert "backup" in listed.stdout


def test_an_empty_postgres_schema_is_not_made_a_store_by_a_listing(pg_url: str, tmp_path: Path) -> None:
    from tests.store.test_store_cmds_existing import _pg_tables

    result = _bare(tmp_path)("--db", pg_url, "jobs", "list")
    _one_line(result, 1, "no jobctl store in")
    assert _pg_tables(pg_url) == set()


def test_the_default_store_is_still_created_on_first_use_by_a_listing(tmp_path: Path) -> None:
    data_home = tmp_path / "data"
    result = _bare(tmp_path, XDG_DATA_HOME=str(data_home), HOME=str(tmp_path))("jobs", "list", "--json")
    assert result.code == 0, result
    assert (data_home / "jobctl" / "jobctl.db").exists()
