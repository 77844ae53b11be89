"""``GET /jobs`` builds its items straight from the rows (``listed_job``), not through the
:class:`~jobctl.models.Job` record that ``GET /jobs/{id}`` uses: the two must give the same
JSON, key for key and in the same order, for jobs of every schedule kind and with every
setting set, on both stores (SQLite keeps timestamps as text and booleans as 0/1, Postgres as
its own types)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from jobctl.models import JobSettings, MisfirePolicy, OverlapPolicy, RetryBackoff
from jobctl.service import Service
from jobctl.service.job_listing import listed_job
from jobctl.store import Store
from jobctl.store.jobs import JobFilter
from jobctl.store.records import job_from_row
from jobctl.store.writes import NewJob, NextSlot
from jobctl.wire import responses

JOB_DETAIL_ONLY = {"taskFunction", "jobType", "recentExecutions"}
WHOLE_SECOND = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
"""A timestamp without microseconds: ``isoformat`` then writes none, and neither may the listing."""
FRACTION = datetime(2031, 5, 6, 7, 8, 9, 120, tzinfo=UTC)
"""Microseconds with leading zeros (``.000120``)."""


def body(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
            "taskArgs": {"command": "echo hi"}, **fields}  # fmt: skip


def through_the_service(service: Service) -> None:
    """Jobs as ``POST /jobs`` makes them: each schedule kind, and the settings a request sets."""
    service.create_job(body("interval"))
    service.create_job(body("interval-start", scheduleConfig={"hours": 2, "start_date": "2030-01-01T00:00:00Z"}))
    service.create_job(body("cron-zone", jobTypeId=2, scheduleConfig={"minute": "*/7", "hour": "9-17",
                                                                      "timezone": "America/New_York"}))  # fmt: skip
    service.create_job(body("cron-seconds", jobTypeId=2, scheduleConfig={"second": "*/10"}))
    service.create_job(body("once", jobTypeId=3, scheduleConfig={"run_date": "2031-01-01T12:00:00Z"}))
    service.create_job(
        body(
            "every-request-setting", description="Ünïcødé \u2603 and \"quotes\"", isEnabled=False,
            taskArgs={"command": "printf '%s' \"$X\"", "shell": "/bin/bash"}, maxInstances=3, timeoutSeconds=90,
            retryCount=4, retryDelaySeconds=7, misfirePolicy="skip", labels={"team": "data", "tier": "1"},
            environment={"X": "y", "EMPTY": ""}, workingDirectory="/tmp", umask="0027", nice=5, stdin="in\nput",
            startGraceSeconds=30, maxRuntimeAlertSeconds=600, expectSuccessWithinSeconds=86400,
            retryBackoff="exponential", retryMaxDelaySeconds=300, retryOnExitCodes=[1, 75],
            overlapPolicy="queue", maxQueued=4, pauseAfterFailures=3,
        )
    )  # fmt: skip


def straight_into_the_store(store: Store) -> None:
    """Jobs with the settings no request body sets (``source``, rules, a user to run as) and the
    fields only the scheduler and pauses write, with and without microseconds."""
    settings = JobSettings(
        name="every-column", description=None, task_function_id=1, job_type_id=2,
        schedule_config={"minute": "0", "hour": "3", "timezone": "Europe/Berlin"}, task_args=None,
        max_instances=1, timeout_seconds=None, retry_count=0, retry_delay_seconds=60, is_enabled=True,
        is_paused=True, misfire_policy=MisfirePolicy.RUN_ONCE, labels={}, environment={},
        working_directory=None, umask=None, nice=-3, run_as_user="nobody", run_as_group="nogroup",
        stdin="", source="jobs/site.toml", overlap_policy=OverlapPolicy.REPLACE, max_queued=1,
        concurrency_group="db", notify=[{"notifier": "ops", "on": ["failure", "recovery"]}],
        pause_after_failures=None, start_grace_seconds=None, max_runtime_alert_seconds=None,
        expect_success_within_seconds=None, retry_backoff=RetryBackoff.FIXED, retry_max_delay_seconds=None,
        retry_on_exit_codes=[],
    )  # fmt: skip
    for index, moment in enumerate((WHOLE_SECOND, FRACTION)):
        job = store.jobs.insert(
            NewJob(settings=replace(settings, name=f"every-column-{index}"),
                   next=NextSlot(slot=moment, run_time=moment + timedelta(seconds=1)),
                   created_at=moment - timedelta(days=1), created_by="tester")
        )  # fmt: skip
        store.db.execute(
            """
            UPDATE jobs SET last_run_time = :at, last_status = 'failed', last_final_status = 'failed',
                consecutive_failures = 2, paused_reason = 'paused after 2 failures', paused_by = 'jobctl',
                paused_at = :at, updated_at = :at, updated_by = 'someone else'
            WHERE id = :id
            """,
            {"id": job.id, "at": moment},
        )


def test_the_listing_gives_the_json_of_each_job_on_its_own(service: Service, store: Store) -> None:
    through_the_service(service)
    straight_into_the_store(store)
    rows, more = store.jobs.page_rows(JobFilter(), limit=100)
    assert len(rows) == 8 and not more

    listed = service.list_jobs(per_page=100)["jobs"]
    assert [job["id"] for job in listed] == [row["id"] for row in rows]
    for row, item in zip(rows, listed, strict=True):
        general = responses.job(job_from_row(row))
        assert item == listed_job(row) == general
        assert json.dumps(item, ensure_ascii=False) == json.dumps(general, ensure_ascii=False), item["name"]
        detail = {key: value for key, value in service.get_job(row["id"]).items() if key not in JOB_DETAIL_ONLY}
        assert json.dumps(item) == json.dumps(detail)

    # the jobs above set every field of the API's job somewhere, so none was compared only as null
    as_dicts: list[dict[str, Any]] = [dict(job) for job in listed]
    for key in as_dicts[0]:
        assert any(job[key] is not None for job in as_dicts), f"no job sets {key}"
    timestamps = {job["pausedAt"] for job in listed} | {job["lastRunTime"] for job in listed}
    assert {"2031-05-06T07:08:09Z", "2031-05-06T07:08:09.000120Z"} <= timestamps


def test_a_cursor_page_is_built_the_same_way(service: Service) -> None:
    for n in range(5):
        service.create_job(body(f"job-{n}", labels={"n": str(n)}))
    first = service.list_jobs(per_page=2)
    second = service.list_jobs(per_page=2, after=first["nextCursor"])
    assert [job["name"] for job in second["jobs"]] == ["job-2", "job-3"]
    for item in second["jobs"]:
        detail = service.get_job(item["id"])
        assert item == {key: value for key, value in detail.items() if key not in JOB_DETAIL_ONLY}
