"""Fixtures for the ``celery_task`` tests: a real broker (RabbitMQ and Redis), a real worker, real daemons.

Each broker kind gets one worker process on a queue of its own for the whole module; each test
gets its own SQLite store and daemon(s). Celery itself is imported only by the test modules
(``pytest.importorskip``), so without it the suite is skipped, not broken.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.store import open_store
from tests.celery.helpers import BROKERS, Broker, CeleryEnv, Worker, reachable

REQUIRE_SERVICES = os.environ.get("JOBCTL_TEST_REQUIRE_CELERY") == "1"
"""Set in an environment that must run these tests: an unreachable broker is then a failure, not a skip."""
ADMIN = Caller(user_id="tester", role=Role.ADMIN)


@pytest.fixture(scope="module", params=list(BROKERS), ids=list(BROKERS))
def broker(request: pytest.FixtureRequest) -> Broker:
    """RabbitMQ, then Redis, as the broker (results always in Redis)."""
    chosen = BROKERS[request.param]
    for name, port in ((chosen.name, chosen.port), ("redis (result backend)", 6379)):
        if not reachable(port):
            message = f"{name} is not reachable on 127.0.0.1:{port}"
            if REQUIRE_SERVICES:
                pytest.fail(message)
            pytest.skip(message)
    return chosen


@pytest.fixture(scope="module")
def worker(broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A prefork worker (concurrency 2) consuming a queue unique to this run."""
    queue = f"jobctl-test-{broker.name}-{uuid.uuid4().hex[:10]}"
    started = Worker(broker, queue, tmp_path_factory.mktemp(f"worker-{broker.name}") / "worker.log")
    try:
        started.start()
        yield started
    finally:
        started.stop()


@pytest.fixture
def env(worker: Worker, tmp_path: Path) -> Iterator[CeleryEnv]:
    store_url = f"sqlite:///{tmp_path / 'jobctl.db'}"
    store = open_store(store_url)
    created = CeleryEnv(store_url, store, Service(store, ADMIN, default_timezone="UTC"), worker, tmp_path)
    try:
        yield created
    finally:
        for factory in created.factories:
            factory.stop_all()
        store.close()
        created.print_logs()  # pytest shows it only for a failed test
