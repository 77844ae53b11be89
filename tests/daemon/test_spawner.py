"""A batch of runs is spawned by the runner's spawner thread while the caller goes on; a lone run
on the caller's thread. Either way every run starts once and its outcome is recorded once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from jobctl.scheduler.runner import INLINE_LAUNCH_MAX, PreparedRun, Runner
from jobctl.service import Service
from jobctl.store import Store


def _prepared(store: Store, service: Service, runner: Runner, command: str, count: int) -> list[PreparedRun]:
    body = {"name": f"marks-{count}", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
            "taskArgs": {"command": command}, "maxInstances": 50}  # fmt: skip
    job_id = service.create_job(body)["id"]
    job = store.jobs.get(job_id)
    assert job is not None
    runs = []
    for _ in range(count):
        execution_id = service.trigger_job(job_id)["executionId"]
        assert store.executions.mark_running(execution_id, instance_id="test", started_at=datetime.now(UTC))
        execution = store.executions.get(execution_id)
        assert execution is not None
        prepared = runner.prepare(job, execution)
        assert prepared is not None
        runs.append(prepared)
    return runs


def _wait_idle(runner: Runner) -> None:
    deadline = time.monotonic() + 20
    while runner.active_count() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert runner.active_count() == 0, "the runs did not all end"


def test_batches_and_lone_runs_each_start_once(store: Store, service: Service, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    command = f'echo "$JOBCTL_EXECUTION_ID" >> {marks}'
    runner = Runner(store, max_workers=32)
    try:
        batch = _prepared(store, service, runner, command, 12)
        lone = _prepared(store, service, runner, command, INLINE_LAUNCH_MAX)
        more = _prepared(store, service, runner, command, 6)
        launcher = threading.Thread(target=lambda: (runner.launch(batch), runner.launch(more)))
        launcher.start()
        runner.launch(lone)
        launcher.join(10)
        _wait_idle(runner)
    finally:
        runner.shutdown(5)
    started = [run.execution.id for run in batch + lone + more]
    assert sorted(marks.read_text().split()) == sorted(started)
    rows = store.db.fetch_all("SELECT id, status FROM executions")
    assert sorted((row["id"], row["status"]) for row in rows) == sorted((e, "success") for e in started)
