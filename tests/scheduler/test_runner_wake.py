"""The runner wakes the scheduler when recorded outcomes free enough run slots: with every slot
taken, an eighth of them (one slot in a small pool), so a burst is claimed in batches."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest

from jobctl.scheduler.runner import Runner
from jobctl.service import Service
from jobctl.store import Store
from tests.daemon.helpers import shell_job, wait_for


def _start(store: Store, service: Service, runner: Runner, name: str, command: str) -> str:
    job_id = shell_job(service, name, command, scheduleConfig={"hours": 1})["id"]
    execution_id = service.trigger_job(job_id)["executionId"]
    assert store.executions.mark_running(execution_id, instance_id=str(uuid.uuid4()), started_at=datetime.now(UTC))
    execution, job = store.executions.get(execution_id), store.jobs.get(job_id)
    assert execution is not None and job is not None
    runner.submit(job, execution)
    return execution_id


def _recorded(store: Store, execution_id: str) -> bool:
    execution = store.executions.get(execution_id)
    return execution is not None and str(execution.status) != "running"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_full_pool_wakes_the_scheduler_once_an_eighth_of_it_is_free(store: Store, service: Service) -> None:
    wakes = threading.Semaphore(0)
    runner = Runner(store, max_workers=16, on_finish=wakes.release)
    assert runner.wake_at_free == 2
    try:
        long_runs = [_start(store, service, runner, f"long-{n}", "sleep 30") for n in range(14)]
        first = _start(store, service, runner, "quick-1", "true")
        wait_for(lambda: _recorded(store, first), timeout=10, what="the first quick run's outcome")
        assert runner.free_slots() == 2  # its slot and the one never taken
        assert wakes.acquire(timeout=2), "two free slots of sixteen: the scheduler is woken"

        filler = _start(store, service, runner, "long-filler", "sleep 30")
        second = _start(store, service, runner, "quick-2", "true")
        wait_for(lambda: _recorded(store, second), timeout=10, what="the second quick run's outcome")
        assert runner.free_slots() == 1
        assert not wakes.acquire(timeout=0.5), "one free slot of sixteen: no wake-up per outcome"
        assert long_runs and filler
    finally:
        runner.shutdown(0)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_small_pool_wakes_the_scheduler_at_every_outcome(store: Store, service: Service) -> None:
    wakes = threading.Semaphore(0)
    runner = Runner(store, max_workers=2, on_finish=wakes.release)
    try:
        _start(store, service, runner, "long", "sleep 30")
        quick = _start(store, service, runner, "quick", "true")
        wait_for(lambda: _recorded(store, quick), timeout=10, what="the quick run's outcome")
        assert wakes.acquire(timeout=2)
    finally:
        runner.shutdown(0)
