"""``job_run_stats``, kept by triggers on ``executions`` (migration 0024): after writes through the
real write paths its counts equal an aggregate of the executions, deleting executions leaves them
alone, deleting a job removes its rows. Real SQLite file and real Postgres schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jobctl.models import ExecutionStatus, RetentionPolicy
from jobctl.service import Service
from jobctl.store import Store
from jobctl.store.executions import FinishedRun
from jobctl.store.retention import pruners_for
from jobctl.store.writes import NewExecution

from .conftest import Cli

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

_AGGREGATE_SQL = """
    SELECT e.job_id, e.status, COUNT(*) AS runs,
        SUM(CASE WHEN e.scheduled_for IS NOT NULL AND (e.status = 'missed'
            OR (e.status = 'skipped' AND e.triggered_by = 'scheduler')) THEN COALESCE(e.missed_count, 1) ELSE 0 END)
            AS slots,
        MAX(e.completed_at) AS latest
    FROM executions e WHERE e.status NOT IN ('pending', 'running')
    GROUP BY e.job_id, e.status
"""
"""What the figures aggregated on every read before the triggers kept them."""


def _job(service: Service, name: str, command: str = "true") -> str:
    body = {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
            "taskArgs": {"command": command}}  # fmt: skip
    return str(service.create_job(body)["id"])


def _kept(store: Store) -> dict[tuple[str, str], tuple[int, int, Any]]:
    rows = store.db.fetch_all("SELECT job_id, status, runs, slots, latest_completed_at FROM job_run_stats")
    return {(r["job_id"], r["status"]): (int(r["runs"]), int(r["slots"]), r["latest_completed_at"]) for r in rows}


def _aggregated(store: Store) -> dict[tuple[str, str], tuple[int, int, Any]]:
    rows = store.db.fetch_all(_AGGREGATE_SQL)
    return {(r["job_id"], r["status"]): (int(r["runs"]), int(r["slots"]), r["latest"]) for r in rows}


def _finished(execution_id: str, status: ExecutionStatus, at: datetime, duration: float) -> FinishedRun:
    return FinishedRun(execution_id=execution_id, status=status.value, started_at=at,
                       completed_at=at + timedelta(seconds=duration), duration_seconds=duration, result=None,
                       error_message=None)  # fmt: skip


def _write_a_mix(service: Service, cli: Cli) -> dict[str, str]:
    """Runs, failures, a timeout, cancels, skips, missed ranges and retries, as each path writes them."""
    store = service.store
    ids = {name: _job(service, name) for name in ("a", "b")}
    ids["fails"] = _job(service, "fails", "exit 3")
    a, b = (store.jobs.get(ids[name]) for name in ("a", "b"))
    assert a is not None and b is not None
    # the scheduler's claims: runs of slots, a skipped slot, missed ranges
    slots = [NewExecution.for_slot(a, T0 + timedelta(hours=n), now=T0, start_at=T0, instance_id="i1") for n in range(3)]
    store.executions.insert_many([
        *slots,
        NewExecution.skipped_slot(a, T0 + timedelta(hours=3), now=T0, reason="maxInstances"),
        NewExecution.missed_range(b, first=T0, last=T0 + timedelta(hours=9), count=10, now=T0, reason="no leader"),
        NewExecution.missed_range(b, first=T0 + timedelta(days=1), last=T0 + timedelta(days=1), count=1, now=T0,
                                  reason="no leader"),
    ])  # fmt: skip
    # the recorder: a batch of outcomes, then one more on its own; a duplicate outcome changes nothing
    store.executions.finish_runs([
        _finished(slots[0].id, ExecutionStatus.SUCCESS, T0, 1.0),
        _finished(slots[1].id, ExecutionStatus.FAILED, T0 + timedelta(hours=1), 2.0),
    ])  # fmt: skip
    assert store.executions.finish_run(_finished(slots[2].id, ExecutionStatus.TIMEOUT, T0 + timedelta(hours=2), 9.0))
    assert not store.executions.finish_run(_finished(slots[2].id, ExecutionStatus.SUCCESS, T0, 1.0))
    # a retry of the failure, claimed, given back, claimed again and succeeding
    failed = store.executions.get(slots[1].id)
    assert failed is not None
    retry = NewExecution.retry_of(failed, now=T0, run_after=T0)
    store.executions.insert(retry)
    assert store.executions.mark_running(retry.id, instance_id="i1", started_at=T0)
    store.executions.release_to_pending(retry.id)
    assert store.executions.mark_running(retry.id, instance_id="i1", started_at=T0)
    assert store.executions.finish_run(_finished(retry.id, ExecutionStatus.SUCCESS, T0 + timedelta(hours=4), 3.0))
    # manual triggers through the service: one cancelled while pending, one skipped, one left running
    cancelled = service.trigger_job(ids["b"])
    service.cancel_execution(cancelled["executionId"])
    service.trigger_job(ids["b"])
    assert store.executions.skip_waiting(ids["b"], now=T0, retry_reason="r", other_reason="o") == 1
    # foreground runs of the CLI, one succeeding and one failing
    assert cli("run", "a").code == 0
    assert cli("run", "fails").code != 0
    running = service.trigger_job(ids["a"])
    assert store.executions.mark_running(running["executionId"], instance_id="i1", started_at=T0)
    return ids


def test_the_kept_counts_equal_an_aggregate_of_the_executions(service: Service, cli: Cli) -> None:
    ids = _write_a_mix(service, cli)
    kept = _kept(service.store)
    assert kept == _aggregated(service.store)
    assert kept[(ids["a"], "success")][0] == 3 and kept[(ids["a"], "skipped")][:2] == (1, 1)
    assert kept[(ids["b"], "missed")][:2] == (2, 11), "a missed row counts its slots"
    assert kept[(ids["b"], "skipped")][:2] == (1, 0), "a manual run skipped is no slot"
    assert kept[(ids["b"], "cancelled")][0] == 1 and kept[(ids["fails"], "failed")][0] == 1
    figures = {figure.name: figure for figure in service.store.figures.job_figures()}
    assert figures["a"].running == 1
    assert figures["a"].runs_by_status == {"success": 3, "failed": 1, "timeout": 1, "skipped": 1, "running": 1}


def test_a_missed_count_raised_later_is_counted(service: Service) -> None:
    job = service.store.jobs.get(_job(service, "a"))
    assert job is not None
    missed = NewExecution.missed_range(job, first=T0, last=T0, count=1, now=T0, reason="no leader")
    service.store.executions.insert(missed)
    service.store.db.execute("UPDATE executions SET missed_count = 5 WHERE id = :id", {"id": missed.id})
    assert _kept(service.store)[(job.id, "missed")][:2] == (1, 5)
    assert _kept(service.store) == _aggregated(service.store)


def test_deleting_executions_leaves_the_counts_and_deleting_the_job_removes_them(service: Service, cli: Cli) -> None:
    ids = _write_a_mix(service, cli)
    before = _kept(service.store)
    figures_before = {figure.name: figure for figure in service.store.figures.job_figures()}
    later = datetime.now(UTC) + timedelta(days=400)
    for pruner in pruners_for(service.store.db, RetentionPolicy(keep_days=1, keep_per_job=1)):
        while not pruner.prune_batch(later, 100).done:
            pass
    assert _aggregated(service.store) == {}
    assert _kept(service.store) == before, "counters never go down when runs are pruned"
    figures_after = {figure.name: figure for figure in service.store.figures.job_figures()}
    assert figures_after == figures_before
    assert figures_after["a"].last_duration_seconds is not None

    service.delete_job(ids["b"])
    kept = _kept(service.store)
    assert not [key for key in kept if key[0] == ids["b"]] and [key for key in kept if key[0] == ids["a"]]
