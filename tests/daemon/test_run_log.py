"""The daemon logs one line per finished run: INFO for success, WARNING for failed and timeout."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from jobctl.scheduler.run_log import log_finished_run
from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, shell_job, wait_for, write_config


def _run_all(service: Service, jobs: list[dict[str, str]]) -> dict[str, str]:
    """Trigger each job once; the execution id per job name once each has finished."""
    ids = {job["name"]: service.trigger_job(job["id"])["executionId"] for job in jobs}
    done = lambda: all(service.get_execution(i)["status"] not in ("pending", "running") for i in ids.values())  # noqa: E731
    wait_for(done, timeout=20, what="the runs to finish")
    return ids


def _jobs(service: Service) -> list[dict[str, str]]:
    hourly = {"scheduleConfig": {"hours": 1}}
    return [
        shell_job(service, "fine", "echo ok", **hourly),
        shell_job(service, "broken", "exit 7", **hourly),
        shell_job(service, "slow", "sleep 30", timeoutSeconds=1, **hourly),
    ]


def test_each_finished_run_is_one_text_log_line(service: Service, daemons: DaemonFactory) -> None:
    daemon = daemons.start()
    ids = _run_all(service, _jobs(service))
    wait_for(lambda: daemon.log().count("run finished:") >= 3, timeout=10, what="the log lines")
    lines = [line for line in daemon.log().splitlines() if "run finished:" in line]
    assert len(lines) == 3, lines
    by_job = {name: next(line for line in lines if ids[name] in line) for name in ids}
    pattern = (
        r" {level} jobctl\.runs: run finished: job {job}, execution {id}, {status}, "
        r"duration [0-9.]+s, exit code {code}$"
    )
    expected = {
        "fine": ("INFO", "success", "0"),
        "broken": ("WARNING", "failed", "7"),
        "slow": ("WARNING", "timeout", "-"),
    }
    for job, (level, status, code) in expected.items():
        line = pattern.format(level=level, job=job, id=ids[job], status=status, code=code)
        assert re.search(line, by_job[job]), by_job[job]


def test_with_json_logs_the_run_fields_are_keys(service: Service, daemons: DaemonFactory) -> None:
    write_config(daemons.config_path, log_format="json")
    daemon = daemons.start()
    ids = _run_all(service, _jobs(service))
    wait_for(lambda: daemon.log().count("run finished:") >= 3, timeout=10, what="the log lines")
    records = [json.loads(line) for line in daemon.log().splitlines() if line.startswith("{")]
    runs = {record["executionId"]: record for record in records if record["logger"] == "jobctl.runs"}
    assert set(runs) == set(ids.values())
    fine, broken, slow = (runs[ids[name]] for name in ("fine", "broken", "slow"))
    assert (fine["level"], fine["job"], fine["status"], fine["exitCode"]) == ("info", "fine", "success", 0)
    assert (broken["level"], broken["status"], broken["exitCode"]) == ("warning", "failed", 7)
    assert (slow["level"], slow["status"], slow["exitCode"]) == ("warning", "timeout", None)
    assert 1.0 <= slow["durationSeconds"] < 10 and 0 <= fine["durationSeconds"] < 5


def test_at_warning_level_a_success_is_not_logged_and_a_failure_says_the_same(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The line is built only when its level is on (a burst of successes costs nothing then)."""
    caplog.set_level(logging.WARNING, logger="jobctl.runs")
    log_finished_run(job_name="fine", execution_id="e-1", status="success", duration_seconds=0.01, exit_code=0)
    log_finished_run(job_name="broken", execution_id="e-2", status="failed", duration_seconds=1.23456, exit_code=7)
    log_finished_run(job_name="slow", execution_id="e-3", status="timeout", duration_seconds=None, exit_code=None)
    records = [record for record in caplog.records if record.name == "jobctl.runs"]
    assert [record.getMessage() for record in records] == [
        "run finished: job broken, execution e-2, failed, duration 1.235s, exit code 7",
        "run finished: job slow, execution e-3, timeout, duration -, exit code -",
    ]
    log_finished_run(job_name="nowhere", execution_id="e-4", status="failed", duration_seconds=0.0, exit_code=None,
                     error="working directory /srv/gone does not exist")  # fmt: skip
    assert caplog.records[-1].getMessage() == (
        "run finished: job nowhere, execution e-4, failed, duration 0.000s, exit code -, "
        "error: working directory /srv/gone does not exist"
    )
    assert caplog.records[-1].fields["error"] == "working directory /srv/gone does not exist"  # type: ignore[attr-defined]
    assert records[0].fields == {  # type: ignore[attr-defined]
        "job": "broken", "executionId": "e-2", "status": "failed", "durationSeconds": 1.235, "exitCode": 7,
    }  # fmt: skip


def test_a_run_that_could_not_run_says_why_on_its_line(
    service: Service, daemons: DaemonFactory, tmp_path: Path
) -> None:
    """A run the run-as rules refused was logged ``run finished: job X, ..., failed, ..., exit
    code -`` and nothing more: the line now ends with the execution's error, in its very words.
    A run that ran and failed keeps its stderr out of the log."""
    write_config(daemons.config_path, allowed_run_as=["root"])
    hourly = {"scheduleConfig": {"hours": 1}}
    jobs = [
        shell_job(service, "refused", "id -u", runAsUser="nobody", **hourly),
        shell_job(service, "nowhere", "pwd", workingDirectory=str(tmp_path / "gone"), **hourly),
        shell_job(service, "broken", "echo private words >&2; exit 7", **hourly),
    ]
    daemon = daemons.start()
    ids = _run_all(service, jobs)
    wait_for(lambda: daemon.log().count("run finished:") >= 3, timeout=10, what="the log lines")
    lines = {name: next(line for line in daemon.log().splitlines() if ids[name] in line) for name in ids}
    for name in ("refused", "nowhere"):
        error = service.get_execution(ids[name])["errorMessage"]
        assert error.startswith("cannot run as nobody: " if name == "refused" else "working directory "), error
        assert " WARNING jobctl.runs: run finished: job " in lines[name] and ", failed, " in lines[name]
        assert lines[name].endswith(f", exit code -, error: {error}"), lines[name]
    assert lines["broken"].endswith("exit code 7") and "private words" not in daemon.log()


def test_with_json_logs_the_reason_is_the_error_key(service: Service, daemons: DaemonFactory) -> None:
    write_config(daemons.config_path, log_format="json", allowed_run_as=["root"])
    job = shell_job(service, "refused", "id -u", runAsUser="nobody", scheduleConfig={"hours": 1})
    daemon = daemons.start()
    ids = _run_all(service, [job])
    wait_for(lambda: "run finished:" in daemon.log(), timeout=10, what="the log line")
    [record] = [json.loads(line) for line in daemon.log().splitlines() if ids["refused"] in line]
    assert record["error"] == service.get_execution(ids["refused"])["errorMessage"]
    assert record["message"].endswith(f", exit code -, error: {record['error']}")
