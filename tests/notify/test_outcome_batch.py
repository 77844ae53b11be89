"""A batch of outcomes recorded on real stores: each run once, the run counts kept by the store in
step, each job's failure streak moved by every final outcome of the batch (jobs without rules
included, whose whole record is not read), auto-pause and deliveries for the jobs that have them."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from jobctl.config import config_from_dict
from jobctl.models import Caller, Execution, ExecutionStatus, Role
from jobctl.scheduler.runner import Runner
from jobctl.service import Service
from jobctl.service.notifications import FinishedAttempt, outcome_effects
from jobctl.store import Store
from jobctl.store.executions import FinishedRun
from jobctl.store.job_health import FinalOutcome

SETTINGS = config_from_dict({
    "notifiers": [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/{event}", "timeout": 2}],
}).notify  # fmt: skip


def _job(service: Service, name: str, command: str = "true", **fields: Any) -> str:
    body = {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
            "taskArgs": {"command": command}, "maxInstances": 5, **fields}  # fmt: skip
    return str(service.create_job(body)["id"])


def _running(store: Store, service: Service, job_id: str) -> Execution:
    """A manual run of the job, taken by this test as a daemon would take it."""
    execution_id = service.trigger_job(job_id)["executionId"]
    assert store.executions.mark_running(execution_id, instance_id="test", started_at=datetime.now(UTC))
    execution = store.executions.get(execution_id)
    assert execution is not None
    return execution


def _attempt(execution: Execution, status: ExecutionStatus) -> FinishedAttempt:
    started = datetime.now(UTC)
    run = FinishedRun(
        execution_id=execution.id, status=status.value, started_at=started,
        completed_at=started + timedelta(milliseconds=5), duration_seconds=0.005, result=None,
        error_message=None if status == ExecutionStatus.SUCCESS else "exit code 3",
    )  # fmt: skip
    return FinishedAttempt(claimed=execution, run=run, final=True)


def _record(store: Store, attempts: list[FinishedAttempt]) -> None:
    """What the recorder does with one batch: finish every run, then its effects, in one transaction."""
    with store.transaction():
        store.executions.finish_runs([attempt.run for attempt in attempts])
        outcome_effects(store, SETTINGS, attempts)


def _streak(store: Store, job_id: str) -> tuple[int, str | None, bool]:
    job = store.jobs.get(job_id)
    assert job is not None
    return job.consecutive_failures, job.last_final_status, job.is_paused


def test_every_final_outcome_of_a_batch_moves_its_jobs_streak(store: Store) -> None:
    service = Service(store, Caller(user_id="tester", role=Role.ADMIN), default_timezone="UTC", notify=SETTINGS)
    quiet = _job(service, "quiet")
    pausing = _job(service, "pausing", pauseAfterFailures=2)
    noisy = _job(service, "noisy", notify=[{"notifier": "hook", "on": ["failure", "recovery"]}])
    failed = ExecutionStatus.FAILED
    first = [_attempt(_running(store, service, job_id), failed) for job_id in (quiet, quiet, pausing, pausing, noisy)]
    _record(store, first)

    assert _streak(store, quiet) == (2, "failed", False), "two failures of a job without rules in one batch"
    assert _streak(store, pausing) == (2, "failed", True)
    paused = service.get_job(pausing)
    assert paused["pausedBy"] == "jobctl" and paused["pausedReason"].startswith("paused after 2 consecutive failures")
    assert _streak(store, noisy) == (1, "failed", False)
    [delivery] = service.list_notifications(per_page=100)["notifications"]
    assert (delivery["event"], delivery["jobName"]) == ("failure", "noisy")
    assert delivery["executionId"] == first[4].run.execution_id
    payload = store.db.fetch_one("SELECT payload FROM notification_deliveries")
    assert payload is not None and '"status":"failed"' in payload["payload"].replace(" ", ""), payload

    success = ExecutionStatus.SUCCESS
    _record(store, [_attempt(_running(store, service, job_id), success) for job_id in (quiet, noisy)])
    assert _streak(store, quiet) == (0, "success", False)
    assert _streak(store, noisy) == (0, "success", False)
    events = sorted(d["event"] for d in service.list_notifications(per_page=100)["notifications"])
    assert events == ["failure", "recovery"]


def test_a_burst_through_the_runner_is_recorded_once_per_run(store: Store, service: Service) -> None:
    works = _job(service, "works", "true")
    breaks = _job(service, "breaks", "exit 3")
    runner = Runner(store, max_workers=16, log_runs=True)
    try:
        started = [_running(store, service, job_id) for job_id in [works] * 5 + [breaks] * 5]
        for execution in started:
            job = store.jobs.get(execution.job_id)
            assert job is not None
            runner.submit(job, execution)
        deadline = time.monotonic() + 20
        while runner.active_count() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert runner.active_count() == 0, "the runs did not all end"
    finally:
        runner.shutdown(5)
    rows = store.db.fetch_all("SELECT id, job_id, status, completed_at FROM executions")
    assert sorted(row["id"] for row in rows) == sorted(execution.id for execution in started)
    assert all(row["completed_at"] is not None for row in rows)
    assert sorted((row["job_id"], row["status"]) for row in rows) == sorted(
        [(works, "success")] * 5 + [(breaks, "failed")] * 5
    )
    counted = {
        (row["job_id"], row["status"]): int(row["runs"])
        for row in store.db.fetch_all("SELECT job_id, status, runs FROM job_run_stats")
    }
    assert counted == {(works, "success"): 5, (breaks, "failed"): 5}
    assert _streak(store, breaks) == (5, "failed", False)
    assert _streak(store, works) == (0, "success", False)


def _jobs_writes(store: Store, job_id: str) -> str:
    """Something that changes whenever a statement writes the job's row: its row version on
    Postgres, the connection's count of changed rows on SQLite."""
    if store.db.is_sqlite:
        return str(store.db.scalar("SELECT total_changes()"))
    return str(store.db.scalar("SELECT xmin::text FROM jobs WHERE id = :id", {"id": job_id}))


def test_a_streak_that_does_not_change_is_not_written_again(store: Store, service: Service) -> None:
    steady = _job(service, "steady")
    success = ExecutionStatus.SUCCESS
    _record(store, [_attempt(_running(store, service, steady), success)])
    assert _streak(store, steady) == (0, "success", False)
    before = _jobs_writes(store, steady)
    store.job_health.record_final_outcomes(
        [FinalOutcome(job_id=steady, consecutive_failures=0, last_final_status="success")]
    )
    assert _jobs_writes(store, steady) == before, "the same streak again: the row is left as it is"
    store.job_health.record_final_outcomes(
        [FinalOutcome(job_id=steady, consecutive_failures=1, last_final_status="failed")]
    )
    assert _jobs_writes(store, steady) != before
    assert _streak(store, steady) == (1, "failed", False)
    store.job_health.record_final_outcomes(
        [FinalOutcome(job_id=steady, consecutive_failures=1, last_final_status="timeout")]
    )
    assert _streak(store, steady) == (1, "timeout", False), "a new status with the same count is written"
