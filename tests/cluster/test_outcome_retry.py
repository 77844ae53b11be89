"""A run that ends while the store is unreachable is recorded once the store is back.

Through the proxy, the store goes away while a run is in flight and stays away longer than a
statement waits for a pooled connection, but less than a lease fence would allow a live daemon.
Nobody would ever finish that execution otherwise: the reaper only finishes the runs of dead
instances, and this one lives. (In-process Runner on a proxied Postgres store; no daemon.)

No lease and no deadline: the tests run in the parallel phase. That the run is still going on
when the store goes away is checked, not assumed, and has seconds of margin on a loaded machine.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from jobctl.scheduler.runner import Runner
from jobctl.store import Store, database, open_store
from tests.cluster.helpers import admin_service
from tests.cluster.proxy import TcpProxy
from tests.daemon.helpers import shell_job, wait_for

pytestmark = pytest.mark.slow

OUTAGE = getattr(database, "PG_POOL_WAIT_SECONDS", 10.0) + 1.5
"""Longer than one statement waits for a connection, so the first attempt to record fails."""


@pytest.fixture
def proxied(pg_url: str) -> Iterator[tuple[TcpProxy, Store, Store]]:
    """(proxy, store through the proxy for the runner, direct store for the test)."""
    direct = open_store(pg_url)
    with TcpProxy() as proxy:
        through = open_store(proxy.url_for(pg_url))
        try:
            yield proxy, through, direct
        finally:
            through.close()
            direct.close()


def still_running(store: Store, execution_id: str) -> bool:
    """Read straight after the cut: the outcome was not written before it (nor can it be now)."""
    execution = store.executions.get(execution_id)
    return execution is not None and str(execution.status) == "running"


def test_outcome_is_recorded_after_an_outage_longer_than_a_statement_wait(
    proxied: tuple[TcpProxy, Store, Store],
) -> None:
    proxy, through, direct = proxied
    service = admin_service(direct)
    job_id = shell_job(service, "slow", "sleep 2", scheduleConfig={"hours": 1})["id"]
    execution_id = service.trigger_job(job_id)["executionId"]
    assert direct.executions.mark_running(execution_id, instance_id=str(uuid.uuid4()), started_at=datetime.now(UTC))
    execution, job = through.executions.get(execution_id), through.jobs.get(job_id)
    assert execution is not None and job is not None
    runner = Runner(through, max_workers=2)
    try:
        runner.submit(job, execution)
        time.sleep(0.5)
        proxy.cut()  # the run ends meanwhile; its outcome cannot be written
        assert still_running(direct, execution_id), "the run ended before the store went away"
        time.sleep(OUTAGE)
        proxy.restore()
        done = wait_for(
            lambda: (e := direct.executions.get(execution_id)) is not None and str(e.status) != "running" and e,
            timeout=15,
            what="the outcome to be recorded after the outage",
        )
        assert str(done.status) == "success", done
    finally:
        proxy.restore()
        runner.shutdown(5)


def test_output_printed_during_an_outage_is_stored_once_the_store_is_back(
    proxied: tuple[TcpProxy, Store, Store],
) -> None:
    proxy, through, direct = proxied
    service = admin_service(direct)
    job_id = shell_job(service, "talks", "echo before; sleep 3; echo during", scheduleConfig={"hours": 1})["id"]
    execution_id = service.trigger_job(job_id)["executionId"]
    assert direct.executions.mark_running(execution_id, instance_id=str(uuid.uuid4()), started_at=datetime.now(UTC))
    execution, job = through.executions.get(execution_id), through.jobs.get(job_id)
    assert execution is not None and job is not None
    runner = Runner(through, max_workers=2)
    try:
        runner.submit(job, execution)
        time.sleep(1.0)
        proxy.cut()  # "during" comes, and the run ends, while nothing can be written
        assert still_running(direct, execution_id), "the run ended before the store went away"
        time.sleep(OUTAGE)
        proxy.restore()
        wait_for(
            lambda: (e := direct.executions.get(execution_id)) is not None and str(e.status) != "running",
            timeout=30,
            what="the outcome to be recorded after the outage",
        )
        assert direct.executions.read_output(execution_id, 0) == ("before\nduring\n", 14)
    finally:
        proxy.restore()
        runner.shutdown(5)
