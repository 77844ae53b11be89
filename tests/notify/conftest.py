"""Fixtures of the notification tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jobctl.scheduler.leadership import Leadership
from jobctl.service import Service
from jobctl.store import Store
from tests.notify.helpers import HttpReceiver, SmtpServer
from tests.scheduler.helpers import FakeClock, RecordingLauncher, Rig, S


@pytest.fixture
def rig(store: Store, service: Service) -> Rig:
    """A leading scheduler on a fake clock over this test's store, as in tests/scheduler."""
    clock = FakeClock(S.replace(hour=11))
    return Rig(store, service, clock, Leadership(store, ttl_seconds=15, clock=clock), RecordingLauncher(clock))


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    """A webhook receiver on 127.0.0.1 that answers 200 and keeps what it was sent."""
    server = HttpReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps the mails it receives."""
    server = SmtpServer().start()
    yield server
    server.stop()
