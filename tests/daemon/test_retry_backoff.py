"""Retries with backoff, run by real daemons: exponential delays, exit-code filters, and waiting
retries that outlive their daemon (a clean stop, then a SIGKILL) and run exactly once.

One leader and one standby per store backend (module-scoped), lease TTL 2 s. See docs/retry-backoff.md.
"""

from __future__ import annotations

import itertools
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.store import Store, open_store
from tests.conftest import TEST_ZONE
from tests.daemon.helpers import DaemonFactory, DaemonProcess, executions, parse, wait_for, write_config

TTL = 2


@dataclass
class Pair:
    service: Service
    factory: DaemonFactory
    running: list[DaemonProcess]


@pytest.fixture(scope="module")
def pair(module_store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    workdir = tmp_path_factory.mktemp("retries")
    config = write_config(workdir / "jobctl.toml", lease_ttl_seconds=TTL, shutdown_grace_seconds=2)
    factory = DaemonFactory(module_store_url, config, workdir)
    store: Store = open_store(module_store_url)
    service = Service(store, Caller(user_id="tester", role=Role.ADMIN), default_timezone=TEST_ZONE)
    try:
        leader = factory.start()
        wait_for(lambda: service.get_status()["isRunning"], timeout=10, what="a leader")
        yield Pair(service, factory, [leader, factory.start()])
    finally:
        factory.stop_all()
        store.close()


def failing(service: Service, code: int, **fields: Any) -> dict[str, Any]:
    return service.create_job({
        "name": f"fails-{uuid.uuid4().hex[:6]}", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
        "taskArgs": {"command": f"exit {code}"}, **fields,
    })  # fmt: skip


def finished(service: Service, job_id: str, count: int, timeout: float) -> list[dict[str, Any]]:
    def done() -> list[dict[str, Any]] | None:
        runs = executions(service, job_id)
        return runs if len(runs) == count and all(run["completedAt"] for run in runs) else None

    return list(wait_for(done, timeout=timeout, what=f"{count} finished attempts"))


def test_exponential_delays_and_only_the_listed_exit_codes(pair: Pair, module_store_url: str) -> None:
    if not module_store_url.startswith("sqlite"):
        pytest.skip("the delays are the runner's arithmetic, the same on either store: checked on SQLite")
    service = pair.service
    grows = failing(service, 75, retryCount=3, retryDelaySeconds=1, retryBackoff="exponential",
                    retryMaxDelaySeconds=2, retryOnExitCodes=[75])  # fmt: skip
    other = failing(service, 1, retryCount=3, retryDelaySeconds=0, retryOnExitCodes=[75])
    service.trigger_job(grows["id"])
    service.trigger_job(other["id"])
    runs = finished(service, grows["id"], 4, timeout=20)
    assert [(run["attempt"], run["status"], run["triggeredBy"]) for run in runs] == [
        (1, "failed", "manual"), (2, "failed", "retry"), (3, "failed", "retry"), (4, "failed", "retry")]  # fmt: skip
    gaps = [(parse(later["startedAt"]) - parse(earlier["completedAt"])).total_seconds()
            for earlier, later in itertools.pairwise(runs)]  # fmt: skip
    for gap, nominal in zip(gaps, (1, 2, 2), strict=True):  # 1 s doubling, capped at 2 s, up to 10 % less
        assert nominal * 0.9 - 0.05 <= gap <= nominal + 0.9, gaps
    [only] = executions(service, other["id"])
    assert (only["attempt"], only["status"]) == (1, "failed"), "exit 1 is not in retryOnExitCodes"


def test_a_waiting_retry_outlives_its_daemon_and_runs_once(pair: Pair) -> None:
    """A clean stop hands the waiting retry to the standby; after a SIGKILL a new daemon runs
    the next one. Each retry is a pending row with its due time: any leader starts it, once."""
    service = pair.service
    for stop in (signal.SIGTERM, signal.SIGKILL):
        job = failing(service, 3, retryCount=1, retryDelaySeconds=2)
        service.trigger_job(job["id"])

        def waiting(job_id: str = job["id"]) -> dict[str, Any] | None:
            runs = executions(service, job_id)
            return runs[1] if len(runs) == 2 and runs[1]["status"] == "pending" else None

        retry = wait_for(waiting, timeout=10, what="the retry to wait")
        assert retry["pendingReason"] is not None and retry["pendingReason"].startswith("retry at ")
        due = parse(retry["pendingReason"].removeprefix("retry at "))
        leader_id = service.get_status()["leaderInstance"]["id"]
        leader = next(d for d in pair.running if d.alive() and f"instance {leader_id}" in d.log())
        leader.signal(stop)
        leader.proc.wait(timeout=15)
        pair.running.remove(leader)
        if not pair.running:
            pair.running.append(pair.factory.start())  # the restart after the crash
        first, second = finished(service, job["id"], 2, timeout=TTL * 3 + 10)
        assert (first["attempt"], second["attempt"], second["status"]) == (1, 2, "failed")
        assert parse(second["startedAt"]) >= due, "not before it was due"
        assert second["instanceId"] != leader_id, "run by the daemon that took over"
        line = f"execution {second['id']}, failed"

        def logged(line: str = line) -> int:
            return "".join(daemon.log() for daemon in pair.factory.started).count(line)

        # The run's log line follows the commit of its outcome, which the test may see first.
        wait_for(logged, timeout=10, what="the retry's line in a daemon's log")
        assert logged() == 1, "the retry ran once, on one daemon"
