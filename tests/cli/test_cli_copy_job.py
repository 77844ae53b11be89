"""``jobs show --json`` output is accepted back by ``--from-json``: a job can be copied between stores.

The API itself stays strict: only the CLI drops the read-only keys it knows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jobctl.errors import ValidationFailed
from jobctl.service import Service
from jobctl.wire.requests import JobCreate
from jobctl.wire.responses import JOB_READ_ONLY_KEYS, JobDetail

WRITABLE = sorted(set(JobCreate.model_fields) - {"taskFunctionId"})
"""Every field a body can set; the task function is compared by name (ids differ between stores)."""


def config(path: Path, *names: str) -> Path:
    """A config declaring command task functions ``names``, in that order (so their ids follow it)."""
    lines = ["[scheduler]", 'timezone = "Europe/Berlin"']
    for name in names:
        lines += ["[[task_functions]]", f'name = "{name}"', 'handler_type = "command"', f'handler_path = "echo {name}"']
    path.write_text("\n".join(lines) + "\n")
    return path


def jobctl(url: str, config_path: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_") or "_TEST_" in key}
    env.update({"JOBCTL_DB": url, "JOBCTL_CONFIG": str(config_path), "COLUMNS": "200"})
    return subprocess.run([sys.executable, "-m", "jobctl", *args], input=input, capture_output=True, text=True,
                          env=env, timeout=60)  # fmt: skip


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.startswith("{") else result.stdout


def writable(job: dict[str, Any]) -> dict[str, Any]:
    return {**{key: job[key] for key in WRITABLE}, "taskFunction": job["taskFunction"]["name"]}


def test_the_read_only_keys_are_the_job_detail_keys_that_no_body_sets() -> None:
    assert set(JobDetail.__required_keys__ | JobDetail.__optional_keys__) - set(JobCreate.model_fields) == (
        JOB_READ_ONLY_KEYS
    )


def test_a_job_is_copied_from_sqlite_to_postgres_with_every_writable_field(
    sqlite_url: str, pg_url: str, tmp_path: Path
) -> None:
    source_config = config(tmp_path / "source.toml", "report")
    target_config = config(tmp_path / "target.toml", "other", "report")  # "report" gets another id there
    for url, path in ((sqlite_url, source_config), (pg_url, target_config)):
        ok(jobctl(url, path, "task-functions", "sync"))
    ok(jobctl(sqlite_url, source_config, "jobs", "create", "nightly", "--cron", "30 2 * * 1-5", "--timezone",
              "America/Chicago", "--task", "report", "--arg", "days=7", "--arg", "to=ops@example.org", "--timeout",
              "15m", "--retries", "2", "--retry-delay", "90", "--max-instances", "3", "--misfire", "skip",
              "--description", "weekday report"))  # fmt: skip
    ok(jobctl(sqlite_url, source_config, "jobs", "pause", "nightly"))
    shown = jobctl(sqlite_url, source_config, "jobs", "show", "nightly", "--json").stdout
    original = json.loads(shown)
    assert original["recentExecutions"] == [] and original["createdAt"]

    copied = ok(jobctl(pg_url, target_config, "jobs", "create", "--from-json", "-", "--json", input=shown))
    again = ok(jobctl(pg_url, target_config, "jobs", "show", "nightly", "--json"))
    assert writable(again) == writable(original)
    assert copied["taskFunctionId"] != original["taskFunctionId"], "the id of 'report' in the target store"
    assert again["id"] != original["id"]

    clash = jobctl(pg_url, target_config, "jobs", "create", "--from-json", "-", input=shown)
    assert clash.returncode == 4 and clash.stderr.count("\n") == 1, clash.stderr
    ok(jobctl(pg_url, target_config, "jobs", "create", "nightly-2", "--from-json", "-", input=shown))
    renamed = ok(jobctl(pg_url, target_config, "jobs", "show", "nightly-2", "--json"))
    assert writable(renamed) == writable(original) | {"name": "nightly-2"}


def test_show_output_updates_a_job_with_from_json(sqlite_url: str, tmp_path: Path) -> None:
    path = config(tmp_path / "c.toml")
    ok(jobctl(sqlite_url, path, "jobs", "create", "a", "--every", "5m", "--command", "echo a", "--retries", "4"))
    ok(jobctl(sqlite_url, path, "jobs", "create", "b", "--every", "1h", "--command", "echo b"))
    shown = json.loads(jobctl(sqlite_url, path, "jobs", "show", "a", "--json").stdout)
    shown["name"] = "b"
    body = json.dumps(shown)
    updated = ok(jobctl(sqlite_url, path, "jobs", "update", "b", "--from-json", "-", "--json", input=body))
    assert (updated["retryCount"], updated["scheduleConfig"]) == (4, {"minutes": 5})
    assert updated["taskArgs"] == {"command": "echo a"}


def test_an_unknown_key_is_still_refused(sqlite_url: str, tmp_path: Path) -> None:
    path = config(tmp_path / "c.toml")
    ok(jobctl(sqlite_url, path, "jobs", "create", "a", "--every", "5m", "--command", "true"))
    shown = json.loads(jobctl(sqlite_url, path, "jobs", "show", "a", "--json").stdout)
    body = json.dumps({**shown, "name": "a-copy", "retryCnt": 3})
    result = jobctl(sqlite_url, path, "jobs", "create", "--from-json", "-", input=body)
    assert result.returncode == 2 and "retryCnt" in result.stderr and result.stderr.count("\n") == 1, result.stderr
    missing = json.dumps({**shown, "name": "a-copy", "taskFunction": {**shown["taskFunction"], "name": "nope"}})
    result = jobctl(sqlite_url, path, "jobs", "create", "--from-json", "-", input=missing)
    assert result.returncode == 2 and "taskFunction.name: no task function named 'nope'" in result.stderr, result.stderr


def test_the_api_body_stays_strict_about_read_only_keys(service: Service) -> None:
    created = service.create_job({"name": "a", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
                                  "taskArgs": {"command": "true"}})  # fmt: skip
    shown = dict(service.get_job(created["id"]))
    with pytest.raises(ValidationFailed) as caught:
        service.create_job({**shown, "name": "b"})
    assert {tuple(error["loc"]) for error in caught.value.errors} >= {("body", "id"), ("body", "recentExecutions")}
