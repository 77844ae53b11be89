"""Fixtures of the notification tests."""

from __future__ import annotations

import pytest

from jobctl.scheduler.leadership import Leadership
from jobctl.service import Service
from jobctl.store import Store
from tests.scheduler.helpers import FakeClock, RecordingLauncher, Rig, S


@pytest.fixture
def rig(store: Store, service: Service) -> Rig:
    """A leading scheduler on a fake clock over this test's store, as in tests/scheduler."""
    clock = FakeClock(S.replace(hour=11))
    return Rig(store, service, clock, Leadership(store, ttl_seconds=15, clock=clock), RecordingLauncher(clock))
