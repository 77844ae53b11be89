"""Fixtures for daemon tests: see :mod:`tests.daemon.helpers`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.helpers import DaemonFactory, write_config


@pytest.fixture
def daemons(store_url: str, tmp_path: Path) -> Iterator[DaemonFactory]:
    """Starts daemons on the test's store; every one is stopped at the end."""
    factory = DaemonFactory(store_url, write_config(tmp_path / "jobctl.toml"), tmp_path)
    yield factory
    factory.stop_all()
