"""``celery_task`` jobs end to end: a real daemon sends to a real broker, a real worker runs the task."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from jobctl.executors.celery_task import sanitized_url
from tests.celery.helpers import Broker, CeleryEnv, TcpProxy, task_state
from tests.daemon.helpers import executions, parse, wait_for

pytest.importorskip("celery", reason="the jobctl[celery] extra is not installed")
pytestmark = pytest.mark.slow


def finished(env: CeleryEnv, job_id: str, status: str | None = None) -> list[dict[str, Any]]:
    runs = [e for e in executions(env.service, job_id) if e["status"] not in ("pending", "running")]
    return [e for e in runs if status is None or e["status"] == status]


def test_trigger_and_schedule_succeed_with_the_task_result(env: CeleryEnv) -> None:
    manual = env.job("adder", "add", taskArgs={"a": 2, "b": 3})
    ticker = env.job("ticker", "add", taskArgs={"a": 20, "b": 1}, scheduleConfig={"seconds": 1})
    env.start_daemon()

    response = env.service.trigger_job(manual["id"])
    task_id = response["celeryTaskId"]
    assert task_id and len(task_id) == 36
    assert env.service.get_execution(response["executionId"])["celeryTaskId"] == task_id, "stored at trigger time"
    run = wait_for(
        lambda: (e := env.service.get_execution(response["executionId"]))["status"] == "success" and e,
        timeout=10,
        what="triggered celery run",
    )
    assert run["celeryTaskId"] == task_id
    assert run["result"] == {"value": 5} and run["errorMessage"] is None
    assert run["triggeredBy"] == "manual" and 0 <= run["durationSeconds"] < 5
    assert task_state(task_id) == "SUCCESS"

    ticks = wait_for(lambda: len(r := finished(env, ticker["id"])) >= 2 and r, timeout=10, what="two scheduled runs")
    assert all(e["status"] == "success" and e["result"] == {"value": 21} for e in ticks), ticks
    assert all(e["triggeredBy"] == "scheduler" and e["scheduledFor"] for e in ticks)
    ids = [e["celeryTaskId"] for e in ticks]
    assert all(ids) and len(set(ids)) == len(ids), "each scheduled run is its own Celery task"
    assert f"tests.celery.tasks.add[{ids[0]}] succeeded" in env.worker.log()


def test_raising_task_fails_with_its_exception_and_is_retried(env: CeleryEnv) -> None:
    job = env.job("boom", "boom", retryCount=1, retryDelaySeconds=0)
    env.start_daemon()
    first_id = env.service.trigger_job(job["id"])["celeryTaskId"]
    runs = wait_for(lambda: len(r := finished(env, job["id"])) == 2 and r, timeout=10, what="two failed attempts")
    assert [e["attempt"] for e in runs] == [1, 2]
    assert [e["triggeredBy"] for e in runs] == ["manual", "retry"]
    assert runs[0]["celeryTaskId"] == first_id and runs[1]["celeryTaskId"] not in (None, first_id)
    for run in runs:
        assert run["status"] == "failed" and run["result"] is None
        first, *tail = run["errorMessage"].splitlines()
        assert first == "ValueError: boom from the worker", "the exception's words end the first line"
        assert tail[0] == "Traceback (most recent call last):", "the traceback below it, from a line's start"
        assert 'raise ValueError("boom from the worker")' in run["errorMessage"], "ends with the traceback's tail"
    time.sleep(1)
    assert len(executions(env.service, job["id"])) == 2, "no third attempt"


def test_slow_task_past_its_timeout_is_revoked_and_times_out(env: CeleryEnv) -> None:
    job = env.job("sleepy", "slow", taskArgs={"seconds": 30}, timeoutSeconds=1)
    env.start_daemon()
    response = env.service.trigger_job(job["id"])
    task_id = response["celeryTaskId"]
    run = wait_for(
        lambda: (e := env.service.get_execution(response["executionId"]))["status"] == "timeout" and e,
        timeout=10,
        what="timeout",
    )
    assert run["errorMessage"] == f"timed out after 1s; task {task_id} revoked"
    assert 1 <= run["durationSeconds"] < 3
    wait_for(lambda: task_state(task_id) == "REVOKED", timeout=10, what="the task revoked in the result backend")
    wait_for(lambda: f"Terminating {task_id}" in env.worker.log(), timeout=5, what="the worker terminating the task")
    assert f"slow[{task_id}] succeeded" not in env.worker.log()


def test_shutdown_past_the_grace_period_revokes_the_running_task(env: CeleryEnv) -> None:
    job = env.job("long", "slow", taskArgs={"seconds": 30})
    daemon = env.start_daemon(shutdown_grace_seconds=1)
    response = env.service.trigger_job(job["id"])
    task_id = response["celeryTaskId"]
    wait_for(lambda: f"slow[{task_id}] received" in env.worker.log(), timeout=10, what="the worker receiving the task")
    assert daemon.stop(timeout=20) == 0
    run = env.service.get_execution(response["executionId"])
    assert run["status"] == "failed"
    assert run["errorMessage"] == f"stopped by daemon shutdown after the grace period (task {task_id} revoked)"
    wait_for(lambda: task_state(task_id) == "REVOKED", timeout=10, what="the task revoked at shutdown")


def test_unreachable_broker_fails_fast_and_clearly_while_other_jobs_run(env: CeleryEnv, broker: Broker) -> None:
    job = env.job("nowhere", "add", taskArgs={"a": 1, "b": 2})
    shell = env.shell_job("heartbeat", "echo alive")
    env.start_daemon(broker_url=broker.unreachable_url)
    begun = time.monotonic()
    response = env.service.trigger_job(job["id"])
    run = wait_for(
        lambda: (e := env.service.get_execution(response["executionId"]))["status"] == "failed" and e,
        timeout=10,
        what="failed run",
    )
    assert time.monotonic() - begun < 6, "a down broker fails the run within seconds"
    masked = sanitized_url(broker.unreachable_url)
    assert "***" in masked
    assert run["errorMessage"].startswith(f"cannot reach the Celery broker at {masked}: "), run["errorMessage"]
    assert "s3cret" not in run["errorMessage"]
    assert run["celeryTaskId"] == response["celeryTaskId"]
    before = len(finished(env, shell["id"], "success"))
    wait_for(lambda: len(finished(env, shell["id"], "success")) >= before + 2, timeout=5, what="shell job runs on")


def test_broker_outage_mid_run_fails_clearly_and_recovers(env: CeleryEnv, broker: Broker) -> None:
    proxy = TcpProxy(target=broker.port).start()
    try:
        _outage_and_recovery(env, broker, proxy)
    finally:
        proxy.cut()


def _outage_and_recovery(env: CeleryEnv, broker: Broker, proxy: TcpProxy) -> None:
    ticker = env.job("ticker", "add", taskArgs={"a": 1, "b": 1}, scheduleConfig={"seconds": 1})
    long = env.job("inflight", "slow", taskArgs={"seconds": 2})
    shell = env.shell_job("heartbeat", "echo alive")
    proxied = broker.url_for_port(proxy.port)
    env.start_daemon(broker_url=proxied)
    wait_for(lambda: finished(env, ticker["id"], "success"), timeout=10, what="a run before the outage")

    inflight = env.service.trigger_job(long["id"])
    wait_for(
        lambda: f"slow[{inflight['celeryTaskId']}] received" in env.worker.log(), timeout=10, what="in-flight task"
    )
    proxy.cut()
    cut_at = datetime.now(UTC)
    failed = wait_for(
        lambda: [e for e in finished(env, ticker["id"], "failed") if parse(e["startedAt"]) >= cut_at],
        timeout=10,
        what="a failed run during the outage",
    )
    assert failed[0]["errorMessage"].startswith(f"cannot reach the Celery broker at {sanitized_url(proxied)}: ")
    shell_runs = len(finished(env, shell["id"], "success"))
    wait_for(
        lambda: env.service.get_execution(inflight["executionId"])["status"] == "success",
        timeout=10,
        what="the task sent before the outage followed to its end",
    )

    proxy.restore()
    restored_at = datetime.now(UTC)
    wait_for(
        lambda: [e for e in finished(env, ticker["id"], "success") if parse(e["startedAt"]) >= restored_at],
        timeout=10,
        what="a successful run after the broker is back",
    )
    assert len(finished(env, shell["id"], "success")) > shell_runs, "the shell job kept running"
    statuses = {e["status"] for e in executions(env.service, ticker["id"])}
    assert statuses <= {"success", "failed", "skipped", "running", "pending"}, statuses


def test_a_cancel_revokes_the_running_task(env: CeleryEnv) -> None:
    job = env.job("cancelled", "slow", taskArgs={"seconds": 30}, retryCount=2, retryDelaySeconds=0)
    env.start_daemon()
    response = env.service.trigger_job(job["id"])
    task_id = response["celeryTaskId"]
    wait_for(lambda: f"slow[{task_id}] received" in env.worker.log(), timeout=10, what="the worker receiving the task")
    run = env.service.cancel_execution(response["executionId"])
    who = run["cancelledBy"]
    assert run["status"] == "cancelled" and who, run
    assert run["errorMessage"] == f"cancelled by {who} (task {task_id} revoked)"
    wait_for(lambda: task_state(task_id) == "REVOKED", timeout=10, what="the task revoked")
    time.sleep(0.5)
    assert len(executions(env.service, job["id"])) == 1, "a cancelled run is not retried"
