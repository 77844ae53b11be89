from __future__ import annotations

import pytest

from jobctl.scheduler.leadership import Leadership
from jobctl.service import Service
from jobctl.store import Store
from tests.scheduler.helpers import FakeClock, RecordingLauncher, Rig, S


@pytest.fixture
def rig(store: Store, service: Service) -> Rig:
    """A leading scheduler on this test's store (SQLite file, then Postgres), its clock at an hour before ``S``."""
    clock = FakeClock(S.replace(hour=11))
    leadership = Leadership(store, ttl_seconds=15, clock=clock)
    return Rig(store, service, clock, leadership, RecordingLauncher(clock))
