"""The per-job figures behind ``GET /metrics``, read from a real store (SQLite and Postgres), and
the exposition built from them: parsed back with prometheus_client's own parser."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

import jobctl
from jobctl.daemon.metrics import MetricsExposition, daemon_exposition
from jobctl.models import ExecutionStatus, TriggeredBy
from jobctl.scheduler.stats import SchedulerStats
from jobctl.service import Service
from jobctl.store import Store
from jobctl.store.executions import FinishedRun
from jobctl.store.writes import NewExecution

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _job(service: Service, name: str) -> str:
    body = {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
            "taskArgs": {"command": "true"}}  # fmt: skip
    return str(service.create_job(body)["id"])


def _run(store: Store, job_id: str, status: ExecutionStatus, at: datetime, duration: float) -> None:
    """A scheduled run started at ``at`` and finished ``duration`` seconds later, as the runner records it."""
    new = NewExecution(job_id=job_id, status=ExecutionStatus.RUNNING, triggered_by=TriggeredBy.SCHEDULER,
                       created_at=at, scheduled_for=at, started_at=at)  # fmt: skip
    assert store.executions.insert(new) is not None
    store.executions.finish_runs([FinishedRun(
        execution_id=new.id, status=status.value, started_at=at, completed_at=at + timedelta(seconds=duration),
        duration_seconds=duration, result=None, error_message=None,
    )])  # fmt: skip


def _row(store: Store, job_id: str, status: ExecutionStatus, at: datetime, *, by: TriggeredBy, **more: Any) -> None:
    new = NewExecution(job_id=job_id, status=status, triggered_by=by, created_at=at,
                       scheduled_for=at if by == TriggeredBy.SCHEDULER else None, completed_at=at)  # fmt: skip
    assert store.executions.insert(new) is not None
    if more:
        sets = ", ".join(f"{key} = :{key}" for key in more)
        store.db.execute(f"UPDATE executions SET {sets} WHERE id = :id", {**more, "id": new.id})


def _seed(service: Service) -> dict[str, str]:
    store = service.store
    ids = {name: _job(service, name) for name in ("ok", "flaky", "idle", "busy")}
    _run(store, ids["ok"], ExecutionStatus.SUCCESS, T0, 1.5)
    _run(store, ids["ok"], ExecutionStatus.SUCCESS, T0 + timedelta(hours=1), 2.5)
    _run(store, ids["flaky"], ExecutionStatus.SUCCESS, T0, 1.0)
    _run(store, ids["flaky"], ExecutionStatus.FAILED, T0 + timedelta(hours=1), 4.0)
    _run(store, ids["flaky"], ExecutionStatus.TIMEOUT, T0 + timedelta(hours=2), 9.0)
    _row(store, ids["flaky"], ExecutionStatus.SKIPPED, T0 + timedelta(hours=3), by=TriggeredBy.SCHEDULER)
    _row(store, ids["flaky"], ExecutionStatus.SKIPPED, T0 + timedelta(hours=4), by=TriggeredBy.MANUAL)
    _row(store, ids["flaky"], ExecutionStatus.MISSED, T0 + timedelta(hours=5), by=TriggeredBy.SCHEDULER,
         missed_count=1000)  # fmt: skip
    _row(store, ids["flaky"], ExecutionStatus.MISSED, T0 + timedelta(days=5), by=TriggeredBy.SCHEDULER,
         missed_count=7)  # fmt: skip
    new = NewExecution(job_id=ids["busy"], status=ExecutionStatus.RUNNING, triggered_by=TriggeredBy.MANUAL,
                       created_at=T0, started_at=T0)  # fmt: skip
    assert store.executions.insert(new) is not None
    service.set_job_status(ids["idle"], {"isPaused": True})
    return ids


def _scrape(exposition: MetricsExposition) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Samples by name, then by their sorted labels."""
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(exposition.render().decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def _job_values(samples: dict[str, dict[tuple[tuple[str, str], ...], float]], name: str) -> dict[str, float]:
    return {dict(labels)["job"]: value for labels, value in samples.get(name, {}).items()}


def test_job_figures_count_every_status_and_slot_as_stored(service: Service) -> None:
    ids = _seed(service)
    figures = {figure.name: figure for figure in service.store.figures.job_figures()}
    assert set(figures) == set(ids)
    flaky = figures["flaky"]
    assert flaky.runs_by_status == {"success": 1, "failed": 1, "timeout": 1, "skipped": 2, "missed": 2}
    assert flaky.slots_by_status == {"skipped": 1, "missed": 1007}, "a manual skip is no slot; a missed row is a range"
    assert flaky.last_success_time == T0 + timedelta(seconds=1)
    assert (flaky.last_status, flaky.last_run_time) == ("timeout", T0 + timedelta(hours=2))
    assert flaky.last_duration_seconds == 9.0, "skips and missed rows have no duration"
    assert figures["ok"].last_duration_seconds == 2.5
    assert figures["ok"].last_success_time == T0 + timedelta(hours=1, seconds=2.5)
    assert figures["busy"].running == 1 and figures["busy"].last_run_time is None
    assert figures["idle"].next_run_time is None and figures["ok"].next_run_time is not None
    assert figures["idle"].runs_by_status == {} and figures["idle"].last_success_time is None


def test_exposition_matches_the_store(service: Service) -> None:
    ids = _seed(service)
    store = service.store
    stats = SchedulerStats()
    stats.lateness.observe(0.003)
    stats.lateness.observe(42.0)
    samples = _scrape(daemon_exposition(store, stats, lambda: False))
    for name, job_id in ids.items():
        for status in ExecutionStatus:
            total = service.list_job_executions(job_id, status=status.value, per_page=1)["total"]
            series = samples["jobctl_job_runs_total"].get((("job", name), ("status", status.value)))
            if status.is_active or total == 0:
                assert series is None, (name, status)
            else:
                assert series == total, (name, status)
    assert _job_values(samples, "jobctl_job_missed_slots_total") == {"flaky": 1007}
    assert _job_values(samples, "jobctl_job_skipped_slots_total") == {"flaky": 1}
    assert _job_values(samples, "jobctl_job_running") == {"busy": 1}
    assert _job_values(samples, "jobctl_job_last_duration_seconds") == {"ok": 2.5, "flaky": 9.0}
    last_success = _job_values(samples, "jobctl_job_last_success_timestamp_seconds")
    assert last_success == {"ok": (T0 + timedelta(hours=1, seconds=2.5)).timestamp(), "flaky": T0.timestamp() + 1}
    last_run = samples["jobctl_job_last_run_timestamp_seconds"]
    assert last_run[(("job", "flaky"), ("status", "timeout"))] == (T0 + timedelta(hours=2)).timestamp()
    assert set(last_run) == {(("job", "flaky"), ("status", "timeout")), (("job", "ok"), ("status", "success"))}
    next_runs = _job_values(samples, "jobctl_job_next_run_timestamp_seconds")
    assert set(next_runs) == {"ok", "flaky", "busy"}, "a paused job has no next run"
    assert next_runs["ok"] == service.store.jobs.get(ids["ok"]).next_run_time.timestamp()  # type: ignore[union-attr]
    assert samples["jobctl_scheduler_leader"][()] == 0
    assert samples["jobctl_scheduler_lateness_seconds_count"][()] == 2
    assert samples["jobctl_scheduler_lateness_seconds_sum"][()] == 42.003
    assert samples["jobctl_scheduler_lateness_seconds_bucket"][(("le", "0.005"),)] == 1
    assert samples["jobctl_scheduler_lateness_seconds_bucket"][(("le", "60.0"),)] == 2
    assert samples["jobctl_scheduler_claim_batch_duration_seconds_count"][()] == 0
    assert samples["jobctl_scheduler_live_instances"][()] == 0
    assert samples["jobctl_store_round_trip_seconds"][()] > 0
    backend = "sqlite" if store.db.is_sqlite else "postgresql"
    [build] = [dict(labels) for labels in samples["jobctl_build_info"]]
    assert build["store"] == backend and build["version"] == jobctl.__version__ and build["python"]


def test_store_figures_are_kept_at_most_max_age(service: Service) -> None:
    ids = _seed(service)
    exposition = daemon_exposition(service.store, SchedulerStats(), lambda: True)
    exposition.max_age = 0.3
    before = _job_values(_scrape(exposition), "jobctl_job_last_duration_seconds")
    _run(service.store, ids["ok"], ExecutionStatus.SUCCESS, T0 + timedelta(hours=3), 7.0)
    assert _job_values(_scrape(exposition), "jobctl_job_last_duration_seconds") == before, "served from the cache"
    time.sleep(0.35)
    assert _job_values(_scrape(exposition), "jobctl_job_last_duration_seconds")["ok"] == 7.0


def test_periodic_scrapes_find_the_figures_refreshed_ahead(service: Service) -> None:
    ids = _seed(service)
    exposition = daemon_exposition(service.store, SchedulerStats(), lambda: True)
    exposition.max_age, exposition.lead = 0.6, 0.3
    try:
        exposition.render()
        time.sleep(1.0)
        exposition.render()  # scrapes 1 s apart: the next is expected 1 s from now, refreshed 0.3 s before
        assert exposition.refreshes == 2
        _run(service.store, ids["ok"], ExecutionStatus.SUCCESS, T0 + timedelta(hours=3), 7.0)
        time.sleep(0.85)
        assert exposition.refreshes == 3, "refreshed ahead, without a scrape"
        time.sleep(0.15)
        assert _job_values(_scrape(exposition), "jobctl_job_last_duration_seconds")["ok"] == 7.0
        assert exposition.refreshes == 3, "the scrape was served the text refreshed ahead"
    finally:
        exposition.close()


def _job_samples(exposition: MetricsExposition) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """The per-job samples of a scrape."""
    return {name: series for name, series in _scrape(exposition).items() if name.startswith("jobctl_job_")}


def test_a_refresh_renders_only_the_jobs_that_changed_and_matches_a_full_one(service: Service) -> None:
    ids = _seed(service)
    exposition = daemon_exposition(service.store, SchedulerStats(), lambda: True)
    exposition.max_age, exposition.plan_ahead = 0.2, False
    first = _job_samples(exposition)
    assert exposition.jobs_rendered == 4, "the first read renders every job"
    time.sleep(0.25)
    assert _job_samples(exposition) == first and exposition.jobs_rendered == 0, "nothing changed, nothing rendered"

    _run(service.store, ids["ok"], ExecutionStatus.FAILED, T0 + timedelta(hours=3), 3.0)
    service.delete_job(ids["idle"])
    _job(service, "fresh")
    time.sleep(0.25)
    samples = _job_samples(exposition)
    assert exposition.jobs_rendered == 2, "the job that failed and the new one"
    assert samples["jobctl_job_runs_total"][(("job", "ok"), ("status", "failed"))] == 1
    assert (
        samples["jobctl_job_last_run_timestamp_seconds"][(("job", "ok"), ("status", "failed"))]
        == (T0 + timedelta(hours=3)).timestamp()
    )
    assert _job_values(samples, "jobctl_job_last_duration_seconds")["ok"] == 3.0
    assert "fresh" in _job_values(samples, "jobctl_job_next_run_timestamp_seconds")
    named = {dict(labels)["job"] for series in samples.values() for labels in series}
    assert "idle" not in named, "a deleted job's lines are dropped"
    assert samples == _job_samples(daemon_exposition(service.store, SchedulerStats(), lambda: True)), (
        "the kept and re-rendered lines say what a full read of the store says"
    )


def test_a_run_after_a_pruned_one_is_counted_on_top(service: Service) -> None:
    """A pruned success stays counted (counters never go down); the one added is seen."""
    ids = _seed(service)
    exposition = daemon_exposition(service.store, SchedulerStats(), lambda: True)
    exposition.max_age, exposition.plan_ahead = 0.0, False
    _job_samples(exposition)
    oldest = service.store.db.scalar(
        "SELECT id FROM executions WHERE job_id = :id ORDER BY created_at LIMIT 1", {"id": ids["ok"]}
    )
    service.store.db.execute("DELETE FROM executions WHERE id = :id", {"id": oldest})
    at = T0 + timedelta(hours=5)
    new = NewExecution(job_id=ids["ok"], status=ExecutionStatus.SUCCESS, triggered_by=TriggeredBy.MANUAL,
                       created_at=at, started_at=at, completed_at=at + timedelta(seconds=8))  # fmt: skip
    assert service.store.executions.insert(new) is not None
    service.store.db.execute("UPDATE executions SET duration_seconds = 8.0 WHERE id = :id", {"id": new.id})
    samples = _job_samples(exposition)
    assert samples["jobctl_job_runs_total"][(("job", "ok"), ("status", "success"))] == 3
    assert _job_values(samples, "jobctl_job_last_duration_seconds")["ok"] == 8.0
    assert _job_values(samples, "jobctl_job_last_success_timestamp_seconds")["ok"] == (at.timestamp() + 8)


def test_a_read_in_spans_of_two_jobs_says_what_one_span_says(service: Service) -> None:
    """The daemon reads the jobs a span of ids at a time (memory stays bounded at 100,000 jobs):
    every job is in exactly one span, with its own counters and running runs, whatever the
    boundaries; and a job gone since the last read is dropped however the spans fall."""
    from jobctl.daemon.metrics import JobLines

    ids = _seed(service)
    for name in ("a", "b", "c"):
        _job(service, name)
    store = service.store
    (whole,) = store.figures.job_figure_chunks({})  # 7 jobs: one span
    spans = list(store.figures.job_figure_chunks({}, chunk_size=2))
    assert [len(span.signatures) for span in spans] == [2, 2, 2, 1]
    assert sorted(job for span in spans for job in span.signatures) == sorted(whole.signatures)
    assert {figures.job_id: figures for span in spans for figures in span.changed} == {
        figures.job_id: figures for figures in whole.changed
    }

    in_spans, in_one = JobLines(), JobLines()
    assert in_spans.apply(store.figures.job_figure_chunks({}, chunk_size=2)) == 7
    assert in_one.apply(store.figures.job_figure_chunks({})) == 7
    assert sorted(in_spans.text().splitlines()) == sorted(in_one.text().splitlines())

    assert b'jobctl_job_running{job="busy"} 1.0' in in_spans.text()
    service.delete_job(ids["ok"])
    _run(store, ids["flaky"], ExecutionStatus.SUCCESS, T0 + timedelta(days=6), 1.0)
    store.db.execute("UPDATE executions SET status = 'success' WHERE job_id = :id", {"id": ids["busy"]})
    assert in_spans.apply(store.figures.job_figure_chunks(in_spans.signatures, chunk_size=2)) == 2
    assert b'job="ok"' not in in_spans.text()
    assert b'jobctl_job_running{job="busy"}' not in in_spans.text(), "a line the job no longer has is dropped"
    fresh = JobLines()
    fresh.apply(store.figures.job_figure_chunks({}))
    assert sorted(in_spans.text().splitlines()) == sorted(fresh.text().splitlines())
