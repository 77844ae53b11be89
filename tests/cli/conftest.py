"""Fixtures for driving the real ``jobctl`` subprocess (with the ``cli`` fixture of tests/conftest.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jobctl.store import open_store
from tests.cli.helpers import OneStoreCli, check_error, check_ok


@pytest.fixture
def ok() -> Callable[[Any], Any]:
    return check_ok


@pytest.fixture
def fails() -> Callable[..., str]:
    return check_error


@pytest.fixture
def run_json(cli: Any) -> Callable[..., Any]:
    """Run a command that prints JSON and return the parsed document."""

    def run(*args: str, input: str | None = None) -> Any:
        return json.loads(check_ok(cli(*args, input=input)).stdout)

    return run


@pytest.fixture
def sqlite_only_cli(tmp_path: Path) -> OneStoreCli:
    config = tmp_path / "one-store.toml"
    config.write_text('[scheduler]\ntimezone = "Europe/Berlin"\n[[concurrency_groups]]\nname = "db"\nlimit = 1\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    env.update({"JOBCTL_DB": f"sqlite:///{tmp_path / 'one-store.db'}", "JOBCTL_CONFIG": str(config), "COLUMNS": "200"})
    open_store(env["JOBCTL_DB"]).close()  # a reading command creates no store it is pointed at
    return OneStoreCli(env)
