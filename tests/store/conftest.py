"""Fixtures of the store tests: see :mod:`tests.store.helpers`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Cli


@pytest.fixture
def bare_cli(tmp_path: Path) -> Cli:
    """The CLI with an empty config and no store named: tests pass ``--db`` themselves."""
    config = tmp_path / "bare.toml"
    config.write_text('[scheduler]\ntimezone = "UTC"\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    return Cli({**env, "JOBCTL_CONFIG": str(config), "COLUMNS": "200"})
