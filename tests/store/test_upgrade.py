"""A store made by the previous release is upgraded in place by this one, its data intact.

``PREVIOUS_HEAD`` is the schema head of the release before the retention work (0012). The test
builds a store at that revision with Alembic, fills it through SQL of that schema, opens it
with this jobctl (which upgrades it to the head) and reads everything back through the service.
Moving the constant to a later head tests the upgrade from that release instead.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from jobctl.models import Caller, RetentionPolicy, Role
from jobctl.service import Service
from jobctl.service.retention import prune_store
from jobctl.service.tokens import authenticate, hash_token
from jobctl.store import open_store
from jobctl.store.database import Database
from jobctl.store.schema_version import HEAD, SCHEMA_REVISIONS, upgrade
from jobctl.store.url import parse_store_url


@pytest.fixture
def store_url(empty_store_url: str) -> str:
    """Here a test's store starts as no store at all: these tests make, upgrade or refuse it."""
    return empty_store_url


PREVIOUS_HEAD = "0012"
CREATED = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
JOBS = 40
RUNS_PER_JOB = 50


def empty_database(url: str) -> Database:
    parsed = parse_store_url(url)
    if parsed.sqlite_path is not None:
        parsed.sqlite_path.touch()
    return Database(parsed)


def fill_at_previous_head(db: Database) -> dict[str, list[str]]:
    """Jobs (one with every column 0012 knows), runs with output, and a token, in 0012's schema."""
    jobs: dict[str, list[str]] = {}
    for number in range(JOBS):
        job_id = str(uuid.uuid4())
        db.execute(
            """
            INSERT INTO jobs (id, name, task_function_id, job_type_id, schedule_config, task_args, max_instances,
                retry_count, retry_delay_seconds, is_enabled, is_paused, next_run_time, next_slot, created_at,
                updated_at, misfire_policy, labels, environment, working_directory, umask, nice, stdin,
                run_as_user, run_as_group)
            VALUES (:id, :name, 1, 2, '{"expression": "*/5 * * * *"}', '{"command": "echo hi"}', 2, 1, 30,
                :yes, :no, :next, :next, :created, :created, 'skip', '{"team": "ops"}', '{"A": "1"}', '/tmp',
                '027', 5, 'in', 'nobody', 'nogroup')
            """,
            {"id": job_id, "name": f"job-{number:03d}", "yes": True, "no": False, "created": CREATED,
             "next": CREATED + timedelta(days=400)},
        )  # fmt: skip
        runs = []
        for run in range(RUNS_PER_JOB):
            at = CREATED + timedelta(minutes=5 * run)
            run_id = str(uuid.uuid4())
            db.execute(
                """
                INSERT INTO executions (id, job_id, status, scheduled_for, attempt, started_at, completed_at,
                    duration_seconds, result, triggered_by, created_at, output_dropped_bytes)
                VALUES (:id, :job, 'success', :at, 1, :at, :at, 0.5, '{"exitCode": 0}', 'scheduler', :at, 7)
                """,
                {"id": run_id, "job": job_id, "at": at},
            )  # fmt: skip
            db.execute(
                "INSERT INTO execution_output (execution_id, start_offset, data) VALUES (:id, 0, :data)",
                {"id": run_id, "data": f"run {run}\n"},
            )
            runs.append(run_id)
        jobs[job_id] = runs
    db.execute(
        "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES ('ci', 'operator', :hash, :at)",
        {"hash": hash_token("old-secret"), "at": CREATED},
    )
    return jobs


@pytest.mark.parametrize("revision", [PREVIOUS_HEAD])
def test_a_store_of_the_previous_release_is_upgraded_with_its_data(store_url: str, revision: str) -> None:
    assert revision in SCHEMA_REVISIONS and revision != HEAD
    db = empty_database(store_url)
    upgrade(db, revision)
    with db.transaction():
        jobs = fill_at_previous_head(db)
    db.close()

    store = open_store(store_url)  # what the daemon and every command do on start
    try:
        assert store.db.scalar("SELECT version_num FROM alembic_version") == HEAD
        service = Service(store, Caller(user_id="t", role=Role.ADMIN), default_timezone="UTC")
        listed = service.list_jobs(per_page=100)
        assert listed["total"] == JOBS
        job_id, runs = next(iter(jobs.items()))
        job = service.get_job(job_id)
        assert (job["labels"], job["environment"], job["workingDirectory"]) == ({"team": "ops"}, {"A": "1"}, "/tmp")
        assert (job["umask"], job["nice"], job["stdin"], job["runAsUser"]) == ("027", 5, "in", "nobody")
        assert (job["misfirePolicy"], job["maxInstances"], job["retryCount"]) == ("skip", 2, 1)
        assert store.db.scalar("SELECT COUNT(*) FROM executions") == JOBS * RUNS_PER_JOB
        newest = service.get_execution(runs[-1])
        assert (newest["status"], newest["outputDroppedBytes"], newest["outputPruned"]) == ("success", 7, False)
        assert service.get_execution_log(runs[0])["data"] == "run 0\n"
        walked = service.list_executions(job_id=job_id, per_page=20)
        seen = [e["id"] for e in walked["executions"]]
        while walked["nextCursor"]:
            walked = service.list_executions(job_id=job_id, per_page=20, after=walked["nextCursor"])
            seen += [e["id"] for e in walked["executions"]]
        assert seen == list(reversed(runs))
        assert authenticate(store, "old-secret") == Caller(user_id="ci", role=Role.OPERATOR)

        policy = RetentionPolicy(keep_days=3650, keep_per_job=30, output_keep_days=1)
        report = prune_store(store, policy, now=datetime.now(UTC))
        assert report.removed["excessExecutions"] == JOBS * (RUNS_PER_JOB - 30)
        assert service.get_execution(runs[-1])["outputPruned"] is True
    finally:
        store.close()
