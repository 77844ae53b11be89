"""The README flow through the real ``jobctl`` subprocess, on the store of each backend."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.store import open_store

BERLIN = ZoneInfo("Europe/Berlin")


def ts(text: str | None) -> datetime:
    assert text is not None and text.endswith("Z"), text
    return datetime.fromisoformat(text)


def next_berlin(after: datetime, hour: int, minute: int) -> datetime:
    """The first ``hour:minute`` Berlin wall time at or after ``after``, as UTC."""
    local = after.astimezone(BERLIN)
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate < local:
        day = (local + timedelta(days=1)).date()
        candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)
    return candidate.astimezone(UTC)


def service_on(store_url: str) -> Any:
    """The same store, opened in this process, to compare with what the CLI printed."""
    store = open_store(store_url)
    return store, Service(store, Caller(user_id="tester", role=Role.ADMIN), default_timezone="Europe/Berlin")


def test_readme_flow(cli: Any, store_url: str, run_json: Callable[..., Any], ok: Callable[[Any], Any],
                     fails: Callable[..., str]) -> None:  # fmt: skip
    ping = run_json("jobs", "create", "ping", "--every", "5m", "--command", "curl -fsS https://example.org/health",
                    "--json")  # fmt: skip
    assert (ping["jobTypeId"], ping["scheduleConfig"], ping["taskArgs"]) == (
        1, {"minutes": 5}, {"command": "curl -fsS https://example.org/health"})  # fmt: skip
    assert ts(ping["nextRunTime"]) - ts(ping["createdAt"]) == timedelta(minutes=5)
    assert ping["createdBy"].startswith("local:")
    backup = run_json("jobs", "create", "backup", "--cron", "0 2 * * *", "--command", "tar czf /backup/etc.tgz /etc",
                      "--json")  # fmt: skip
    assert (backup["jobTypeId"], backup["scheduleConfig"]["timezone"]) == (2, "Europe/Berlin")
    assert ts(backup["nextRunTime"]) == next_berlin(ts(backup["createdAt"]), 2, 0)

    listed = run_json("jobs", "list", "--json")
    store, service = service_on(store_url)
    try:
        assert listed == service.list_jobs()
        assert listed["jobs"] == [ping, backup]
        counts = (listed["total"], listed["enabledCount"], listed["disabledCount"], listed["runningCount"])
        assert counts == (2, 2, 0, 0)
        detail = run_json("jobs", "show", "backup", "--json")
        assert detail == service.get_job(backup["id"])
        assert (detail["taskFunction"]["name"], detail["jobType"]["name"], detail["recentExecutions"]) == (
            "shell", "cron", [])  # fmt: skip
        assert run_json("jobs", "show", backup["id"], "--json") == detail

        updated = run_json("jobs", "update", "backup", "--cron", "30 3 * * *", "--timeout", "1h", "--json")
        assert (updated["timeoutSeconds"], updated["scheduleConfig"]["expression"]) == (3600, "30 3 * * *")
        assert ts(updated["nextRunTime"]) == next_berlin(ts(updated["updatedAt"]), 3, 30)

        disabled = run_json("jobs", "disable", "backup", "--json")
        assert (disabled["isEnabled"], disabled["nextRunTime"]) == (False, None)
        enabled = run_json("jobs", "enable", "backup", "--json")
        assert enabled["isEnabled"] and ts(enabled["nextRunTime"]) == next_berlin(ts(enabled["updatedAt"]), 3, 30)
        paused = run_json("jobs", "pause", "backup", "--json")
        assert (paused["isPaused"], paused["nextRunTime"]) == (True, None)
        resumed = run_json("jobs", "resume", "backup", "--json")
        assert resumed["isPaused"] is False
        assert ts(resumed["nextRunTime"]) == next_berlin(ts(resumed["updatedAt"]), 3, 30)

        triggered = ok(cli("jobs", "trigger", "ping"))
        execution_id = triggered.stdout.strip()
        assert triggered.stdout == execution_id + "\n" and str(uuid.UUID(execution_id)) == execution_id
        runs = run_json("executions", "list", "--json")
        assert runs == service.list_executions()
        assert runs["total"] == 1
        run = runs["executions"][0]
        assert (run["id"], run["jobId"], run["status"], run["triggeredBy"]) == (execution_id, ping["id"], "pending",
                                                                                "manual")  # fmt: skip
        assert run["triggeredByUserId"].startswith("local:") and run["scheduledFor"] is None
        assert run_json("executions", "list", "--job", "ping", "--status", "pending", "--json") == runs
        assert run_json("executions", "show", execution_id, "--json") == run

        human = ok(cli("jobs", "list"))
        assert "\x1b" not in human.stdout
        assert re.search(r"^ping\s.*every 5m.*\bin \d", human.stdout, re.M), human.stdout
        assert re.search(r"^backup\s.*\bin \d", human.stdout, re.M), human.stdout
        assert "2 jobs: 2 enabled, 0 disabled" in human.stdout

        fails(cli("jobs", "delete", "ping"), 4, execution_id)  # its triggered run waits
        ok(cli("jobs", "delete", "ping", "--force"))
        fails(cli("jobs", "show", "ping"), 3, "ping")
        assert service.list_jobs()["total"] == 1 and service.list_executions()["total"] == 0
    finally:
        store.close()


def test_create_from_json_file_and_stdin(cli: Any, tmp_path: Path, run_json: Callable[..., Any]) -> None:
    body = {"name": "from-file", "description": "whole API body", "taskFunctionId": 1, "jobTypeId": 2,
            "scheduleConfig": {"hour": "9", "minute": "0"}, "taskArgs": {"command": "echo file"}, "maxInstances": 2,
            "retryCount": 3, "retryDelaySeconds": 30, "misfirePolicy": "skip"}  # fmt: skip
    path = tmp_path / "job.json"
    path.write_text(json.dumps(body))
    created = run_json("jobs", "create", "--from-json", str(path), "--json")
    for key, value in body.items():
        if key != "scheduleConfig":
            assert created[key] == value, key
    assert created["scheduleConfig"] == {"hour": "9", "minute": "0", "timezone": "Europe/Berlin"}
    assert ts(created["nextRunTime"]) == next_berlin(ts(created["createdAt"]), 9, 0)

    stdin_body = {**body, "name": "from-stdin", "jobTypeId": 1, "scheduleConfig": {"seconds": 45}}
    from_stdin = run_json("jobs", "create", "--from-json", "-", "--json", input=json.dumps(stdin_body))
    assert (from_stdin["name"], from_stdin["scheduleConfig"]) == ("from-stdin", {"seconds": 45})
    renamed = run_json("jobs", "create", "renamed", "--from-json", str(path), "--json")
    assert renamed["name"] == "renamed"
    assert [job["name"] for job in run_json("jobs", "list", "--json")["jobs"]] == ["from-file", "from-stdin",
                                                                                   "renamed"]  # fmt: skip
