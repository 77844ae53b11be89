"""A run's environment is a small known one: none of the daemon's own variables leak into it."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from jobctl.models import DEFAULT_RUN_PATH, TaskFunctionSpec
from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, shell_job, wait_for, write_config

SECRET = "wJalrXUtnFEMI-not-for-jobs"

PRINT_ENVIRONMENT = "tr '\\0' '\\n' < /proc/$$/environ; echo ---; env"
"""The shell's environment as the kernel handed it over (``/proc/PID/environ``), then as printed."""

DAEMON_ENV = {
    "AWS_SECRET_ACCESS_KEY": SECRET,
    "PGPASSWORD": SECRET,
    "HANDED_ON": "yes",
    "LANG": "C.UTF-8",
    "LC_TIME": "C",
    "TZ": "Europe/Berlin",
}


def _finished(service: Service, execution_id: str) -> dict[str, Any]:
    wait_for(
        lambda: service.get_execution(execution_id)["status"] not in ("pending", "running"), timeout=20, what="the run"
    )
    return service.get_execution(execution_id)


def _allowed_from_daemon() -> set[str]:
    """The names a run takes from the daemon's environment as these tests start it."""
    daemon = {**os.environ, **DAEMON_ENV}
    kept = ("HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ")
    return {name for name in daemon if name in kept or name.startswith("LC_")}


def _run_identity(job_id: str, execution_id: str) -> dict[str, str]:
    return {"JOBCTL_JOB_ID": job_id, "JOBCTL_EXECUTION_ID": execution_id}


def test_a_run_gets_path_identity_locale_and_its_own_variables_only(service: Service, daemons: DaemonFactory) -> None:
    write_config(daemons.config_path, pass_environment=["HANDED_ON", "NOT_SET_ANYWHERE"])
    job = shell_job(service, "env", PRINT_ENVIRONMENT, scheduleConfig={"hours": 1})
    daemons.start(extra_env=DAEMON_ENV)
    execution_id = service.trigger_job(job["id"])["executionId"]
    execution = _finished(service, execution_id)
    assert execution["status"] == "success", execution["errorMessage"]
    output = service.get_execution_log(execution_id)["data"]
    kernel_part, printed_part = output.split("---\n")
    environ = dict(line.split("=", 1) for line in kernel_part.splitlines())
    assert SECRET not in output
    expected_names = _allowed_from_daemon() | {"PATH", "HANDED_ON", "JOBCTL_ARG_COMMAND", "JOBCTL_TASK_ARGS"}
    assert set(environ) == expected_names | set(_run_identity(job["id"], execution_id))
    assert environ["PATH"] == DEFAULT_RUN_PATH
    assert environ["HANDED_ON"] == "yes"
    assert (environ["LANG"], environ["LC_TIME"], environ["TZ"]) == ("C.UTF-8", "C", "Europe/Berlin")
    assert environ["JOBCTL_EXECUTION_ID"] == execution_id
    assert "HANDED_ON=yes" in printed_part.splitlines()
    assert not any(line.startswith(("AWS_", "PGPASSWORD=", "JOBCTL_TEST_")) for line in printed_part.splitlines())


def test_the_configured_path_is_the_runs_path_and_nothing_is_passed_by_default(
    service: Service, daemons: DaemonFactory
) -> None:
    write_config(daemons.config_path)
    with daemons.config_path.open("a") as config:
        config.write('path = "/usr/bin:/bin"\n')  # the last table is [daemon]
    job = shell_job(service, "path", 'echo "$PATH"; echo "${HANDED_ON-unset}"', scheduleConfig={"hours": 1})
    daemons.start(extra_env=DAEMON_ENV)
    execution_id = service.trigger_job(job["id"])["executionId"]
    assert _finished(service, execution_id)["status"] == "success"
    assert service.get_execution_log(execution_id)["data"] == "/usr/bin:/bin\nunset\n"


def test_a_python_run_imports_its_task_without_the_daemons_variables(service: Service, daemons: DaemonFactory) -> None:
    """The daemon finds the task through its ``PYTHONPATH``; the run gets the import path from the
    daemon (not from ``PYTHONPATH``, which it no longer sees) and none of its secrets."""
    spec = TaskFunctionSpec(
        name="environment", display_name="environment", description=None, handler_type="python",
        handler_path="tests.daemon.sample_tasks:environment",
    )  # fmt: skip
    task = service.store.catalog.upsert_task_function(spec, datetime.now(UTC))
    job = service.create_job(
        {"name": "py-env", "taskFunctionId": task.id, "jobTypeId": 1, "scheduleConfig": {"hours": 1}}
    )
    daemons.start(extra_env=DAEMON_ENV)
    execution_id = service.trigger_job(job["id"])["executionId"]
    execution = _finished(service, execution_id)
    assert execution["status"] == "success", (execution["errorMessage"], service.get_execution_log(execution_id))
    environ = execution["result"]["environ"]
    assert SECRET not in str(environ)
    assert "PYTHONPATH" not in environ
    expected = _allowed_from_daemon() | {"PATH", "JOBCTL_TASK_ARGS", "JOBCTL_RESULT_FILE"}
    assert set(environ) == expected | set(_run_identity(job["id"], execution_id))


def test_the_jobs_environment_is_set_over_the_base_and_under_the_runs_own(
    service: Service, daemons: DaemonFactory
) -> None:
    variables = {"GREETING": "hello world", "PATH": "/bin:/usr/bin", "EMPTY": ""}
    job = shell_job(service, "job-env", PRINT_ENVIRONMENT, scheduleConfig={"hours": 1}, environment=variables)
    daemons.start(extra_env=DAEMON_ENV)
    execution_id = service.trigger_job(job["id"])["executionId"]
    assert _finished(service, execution_id)["status"] == "success"
    kernel_part = service.get_execution_log(execution_id)["data"].split("---\n")[0]
    environ = dict(line.split("=", 1) for line in kernel_part.splitlines())
    assert {name: environ[name] for name in variables} == variables
    assert environ["JOBCTL_JOB_ID"] == job["id"]
    assert SECRET not in kernel_part
