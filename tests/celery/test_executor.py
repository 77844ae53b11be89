"""The Celery executor in-process: settings it cannot work with, and a result backend that goes away."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from jobctl.executors.celery_task import CeleryExecutor, sanitized_url
from jobctl.executors.outcome import RunRequest
from jobctl.models import ExecutionStatus
from tests.celery.helpers import RESULT_BACKEND, Broker, TcpProxy, Worker, task_state

pytest.importorskip("celery", reason="the jobctl[celery] extra is not installed")


def request(task: str, queue: str, *, timeout: float | None = None, **args: Any) -> RunRequest:
    return RunRequest(
        execution_id=str(uuid.uuid4()),
        job_id=str(uuid.uuid4()),
        handler_type="celery_task",
        handler_path=f"tests.celery.tasks.{task}",
        task_args=args,
        timeout_seconds=timeout,
        queue=queue,
    )


def never() -> bool:
    return False


@pytest.mark.parametrize(
    ("backend", "expected"),
    [(None, "celery_task needs [celery] result_backend"), ("rpc://", "the rpc:// result backend")],
    ids=["no-backend", "rpc-backend"],
)
def test_a_result_backend_that_cannot_be_polled_fails_runs_without_sending(backend: str | None, expected: str) -> None:
    executor = CeleryExecutor(broker_url="amqp://guest:guest@127.0.0.1:1//", result_backend=backend)
    recorded: list[str] = []
    outcome = executor(request("add", "unused", a=1, b=2), recorded.append, never)
    assert outcome.status == ExecutionStatus.FAILED
    assert outcome.error_message is not None and outcome.error_message.startswith(expected)
    assert recorded == [], "nothing was sent, so no task id is recorded"


def test_passwords_never_show_in_messages() -> None:
    assert sanitized_url("amqp://guest:pw@127.0.0.1:5672//") == "amqp://guest:***@127.0.0.1:5672//"
    assert sanitized_url("redis://:pw@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert sanitized_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_an_unreachable_result_backend_fails_the_run_after_the_outage_limit(worker: Worker) -> None:
    proxy = TcpProxy(target=6379).start()
    backend = f"redis://127.0.0.1:{proxy.port}/13"
    executor = CeleryExecutor(broker_url=worker.broker.url, result_backend=backend, result_outage_limit=1.0)
    recorded: list[str] = []
    cutter = threading.Timer(0.5, proxy.cut)
    cutter.start()
    try:
        begun = time.monotonic()
        outcome = executor(request("slow", worker.queue, seconds=30), recorded.append, never)
    finally:
        cutter.cancel()
        proxy.cut()
    assert outcome.status == ExecutionStatus.FAILED
    assert outcome.error_message is not None
    assert outcome.error_message.startswith(f"lost track of the task: the result backend at {backend} was unreachable")
    assert outcome.error_message.endswith(f"task {recorded[0]} revoked"), outcome.error_message
    assert time.monotonic() - begun < 6
    assert outcome.celery_task_id == recorded[0]
    wait_until = time.monotonic() + 10
    while task_state(recorded[0]) != "REVOKED" and time.monotonic() < wait_until:
        time.sleep(0.1)
    assert task_state(recorded[0]) == "REVOKED"


def test_an_unreachable_result_backend_until_the_timeout_is_a_failure_not_a_timeout(worker: Worker) -> None:
    proxy = TcpProxy(target=6379).start()
    backend = f"redis://127.0.0.1:{proxy.port}/13"
    executor = CeleryExecutor(broker_url=worker.broker.url, result_backend=backend)
    cutter = threading.Timer(0.3, proxy.cut)
    cutter.start()
    try:
        outcome = executor(request("slow", worker.queue, timeout=1.5, seconds=30), lambda _: None, never)
    finally:
        cutter.cancel()
        proxy.cut()
    assert outcome.status == ExecutionStatus.FAILED
    assert outcome.error_message is not None and "until the timeout of 1.5s" in outcome.error_message
    assert outcome.error_message.startswith("lost track of the task")


def test_results_that_are_not_dicts_are_wrapped(worker: Worker) -> None:
    executor = CeleryExecutor(broker_url=worker.broker.url, result_backend=RESULT_BACKEND)
    outcome = executor(request("add", worker.queue, a=40, b=2), lambda _: None, never)
    assert outcome.status == ExecutionStatus.SUCCESS and outcome.result == {"value": 42}
    outcome = executor(request("slow", worker.queue, seconds=0), lambda _: None, never)
    assert outcome.status == ExecutionStatus.SUCCESS and outcome.result == {"slept": 0}


def test_one_executor_serves_many_threads_at_once(worker: Worker, broker: Broker) -> None:
    executor = CeleryExecutor(broker_url=broker.url, result_backend=RESULT_BACKEND)
    outcomes: list[Any] = []

    def run(n: int) -> None:
        outcomes.append(executor(request("add", worker.queue, a=n, b=n), lambda _: None, never))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(o.result["value"] for o in outcomes if o.status == ExecutionStatus.SUCCESS) == [
        2 * n for n in range(24)
    ]
