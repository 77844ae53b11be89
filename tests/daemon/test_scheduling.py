"""The daemon fires jobs on time and records every run exactly (real daemon, real store)."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, executions, parse, shell_job, unique_sleep, wait_for


def test_one_second_interval_runs_once_per_second_with_exact_records(service: Service, daemons: DaemonFactory) -> None:
    job = shell_job(service, "tick", "echo tick-$JOBCTL_EXECUTION_ID; echo warn >&2")
    daemons.start()
    time.sleep(5.2)
    runs = [e for e in executions(service, job["id"]) if e["status"] != "running"]
    assert 4 <= len(runs) <= 6, runs
    slots = [parse(e["scheduledFor"]) for e in runs]
    first = parse(job["createdAt"])
    for slot in slots:
        offset = (slot - first).total_seconds()
        assert abs(offset - round(offset)) < 1e-3, "slots are anchored at creation, whole seconds apart"
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(slots))
    for run in runs:
        assert run["status"] == "success", run
        assert run["triggeredBy"] == "scheduler" and run["attempt"] == 1 and run["instanceId"]
        started, completed = parse(run["startedAt"]), parse(run["completedAt"])
        assert parse(run["scheduledFor"]) <= started <= completed
        assert abs(run["durationSeconds"] - (completed - started).total_seconds()) < 1e-3
        assert run["result"] == {"exitCode": 0}
        log = service.get_execution_log(run["id"])
        assert log == {"data": f"tick-{run['id']}\nwarn\n", "nextOffset": len(log["data"]), "complete": True} or (
            log["complete"] and sorted(log["data"].splitlines()) == sorted([f"tick-{run['id']}", "warn"])
        )
    detail = service.get_job(job["id"])
    assert detail["lastStatus"] == "success" and detail["lastRunTime"] is not None
    assert parse(detail["nextRunTime"]) > parse(runs[-1]["scheduledFor"])


def test_created_and_triggered_from_cli_start_within_a_second(
    service: Service, daemons: DaemonFactory, store_url: str
) -> None:
    daemons.start()
    env_cli = [sys.executable, "-m", "jobctl", "--db", store_url]
    created = subprocess.run(
        [*env_cli, "jobs", "create", "later", "--every", "1h", "--command", "echo manual"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "later" in created.stdout
    job_id = service.resolve_job("later")
    begun = time.monotonic()
    triggered = subprocess.run([*env_cli, "jobs", "trigger", "later"], capture_output=True, text=True, check=True)
    execution_id = triggered.stdout.strip()
    wait_for(lambda: service.get_execution(execution_id)["status"] == "success", timeout=5, what="manual run")
    assert time.monotonic() - begun < 2.5
    run = service.get_execution(execution_id)
    assert (
        run["triggeredBy"] == "manual" and run["scheduledFor"] is None and run["triggeredByUserId"].startswith("local:")
    )
    assert service.get_execution_log(execution_id)["data"] == "manual\n"
    assert executions(service, job_id)[0]["id"] == execution_id

    fast = shell_job(service, "fast", "true")
    wait_for(lambda: executions(service, fast["id"]), timeout=2.5, what="first run of a job created while running")


def test_timeout_kills_the_whole_process_group(service: Service, daemons: DaemonFactory) -> None:
    marker = unique_sleep()
    job = shell_job(service, "slow", f"sleep {marker} & sleep {marker}", timeoutSeconds=1, scheduleConfig={"hours": 1})
    daemons.start()
    execution_id = service.trigger_job(job["id"])["executionId"]
    wait_for(lambda: service.get_execution(execution_id)["status"] == "timeout", timeout=10, what="timeout")
    run = service.get_execution(execution_id)
    assert "timed out after 1s" in run["errorMessage"]
    assert 1 <= run["durationSeconds"] < 8
    time.sleep(0.3)
    left = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, text=True).stdout.split()
    assert left == [], "grandchildren survived the timeout"


def test_retries_are_separate_attempts_spaced_by_the_delay(service: Service, daemons: DaemonFactory) -> None:
    job = shell_job(
        service, "flaky", "echo failing >&2; exit 7", retryCount=2, retryDelaySeconds=1, scheduleConfig={"hours": 1}
    )
    daemons.start()
    service.trigger_job(job["id"])
    runs = wait_for(
        lambda: (r := executions(service, job["id"])) and len(r) == 3 and all(e["status"] == "failed" for e in r) and r,
        timeout=15,
        what="three attempts",
    )
    assert [e["attempt"] for e in runs] == [1, 2, 3]
    assert [e["triggeredBy"] for e in runs] == ["manual", "retry", "retry"]
    assert all(e["errorMessage"] == "exit code 7: failing" for e in runs)
    assert all(e["result"] == {"exitCode": 7} for e in runs)
    for before, after in itertools.pairwise(runs):
        assert parse(after["startedAt"]) - parse(before["completedAt"]) >= timedelta(seconds=1)
    time.sleep(1.5)
    assert len(executions(service, job["id"])) == 3, "no fourth attempt"


def test_max_instances_skips_slots_and_never_overlaps(service: Service, daemons: DaemonFactory) -> None:
    job = shell_job(service, "overlong", "sleep 2.3")
    daemons.start()
    time.sleep(6)
    runs = executions(service, job["id"])
    statuses = Counter(e["status"] for e in runs)
    assert statuses["skipped"] >= 2, runs
    assert statuses["success"] + statuses["running"] >= 2
    for skipped in (e for e in runs if e["status"] == "skipped"):
        assert "maxInstances is 1" in skipped["errorMessage"]
    spans = sorted(
        (parse(e["startedAt"]), parse(e["completedAt"]) if e["completedAt"] else datetime.now(UTC))
        for e in runs
        if e["status"] != "skipped"
    )
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end, "two runs of a maxInstances=1 job overlapped"
    assert len({e["scheduledFor"] for e in runs}) == len(runs), "each slot recorded once"


def test_pause_stops_scheduled_runs_but_allows_triggers(service: Service, daemons: DaemonFactory) -> None:
    job = shell_job(service, "pausable", "true")
    service.set_job_status(job["id"], {"isPaused": True})
    daemons.start()
    time.sleep(2.5)
    assert executions(service, job["id"]) == []
    execution_id = service.trigger_job(job["id"])["executionId"]
    wait_for(
        lambda: service.get_execution(execution_id)["status"] == "success", timeout=5, what="manual run while paused"
    )
    service.set_job_status(job["id"], {"isPaused": False})
    wait_for(
        lambda: any(e["triggeredBy"] == "scheduler" for e in executions(service, job["id"])),
        timeout=4,
        what="scheduled run after resume",
    )


def test_date_job_runs_once_then_disables_itself(service: Service, daemons: DaemonFactory) -> None:
    when = (datetime.now(UTC) + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    job = service.create_job(
        {
            "name": "once",
            "taskFunctionId": 1,
            "jobTypeId": 3,
            "scheduleConfig": {"run_date": when},
            "taskArgs": {"command": "echo once"},
        }
    )
    daemons.start()
    wait_for(lambda: service.get_job(job["id"])["lastStatus"] == "success", timeout=8, what="one-shot run")
    time.sleep(1)
    detail = service.get_job(job["id"])
    assert detail["isEnabled"] is False and detail["nextRunTime"] is None
    assert len(executions(service, job["id"])) == 1


def test_python_task_function_result_and_exception(service: Service, daemons: DaemonFactory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from jobctl.models import TaskFunctionSpec

    now = datetime.now(UTC)
    catalog = service.store.catalog
    ok = catalog.upsert_task_function(
        TaskFunctionSpec(
            name="add",
            display_name="add",
            description=None,
            handler_type="python",
            handler_path="tests.daemon.sample_tasks:add",
        ),
        now,
    )
    boom = catalog.upsert_task_function(
        TaskFunctionSpec(
            name="boom",
            display_name="boom",
            description=None,
            handler_type="python",
            handler_path="tests.daemon.sample_tasks.boom",
        ),
        now,
    )
    add_job = service.create_job(
        {
            "name": "add",
            "taskFunctionId": ok.id,
            "jobTypeId": 1,
            "scheduleConfig": {"hours": 1},
            "taskArgs": {"a": 2, "b": 3},
        }
    )
    boom_job = service.create_job(
        {"name": "boom", "taskFunctionId": boom.id, "jobTypeId": 1, "scheduleConfig": {"hours": 1}}
    )
    daemons.start()
    first = service.trigger_job(add_job["id"])["executionId"]
    second = service.trigger_job(boom_job["id"])["executionId"]
    wait_for(lambda: service.get_execution(first)["status"] == "success", timeout=10, what="python success")
    assert service.get_execution(first)["result"] == {"sum": 5, "args": {"a": 2, "b": 3}}
    wait_for(lambda: service.get_execution(second)["status"] == "failed", timeout=10, what="python failure")
    failed = service.get_execution(second)
    assert failed["errorMessage"].startswith("RuntimeError: the task broke")
    assert "Traceback" in service.get_execution_log(second)["data"]
