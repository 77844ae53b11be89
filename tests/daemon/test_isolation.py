"""Runs start in /, and a Python run imports neither from the daemon's directory nor from ''."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jobctl.models import TaskFunctionSpec
from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, shell_job, wait_for


def test_a_json_py_in_the_daemons_directory_does_not_shadow_the_standard_library(
    service: Service, daemons: DaemonFactory, tmp_path: Path
) -> None:
    workdir = tmp_path / "daemon-cwd"
    workdir.mkdir()
    (workdir / "json.py").write_text("raise SystemExit('the planted json.py was imported')\n")
    spec = TaskFunctionSpec(
        name="where", display_name="where", description=None, handler_type="python",
        handler_path="tests.daemon.sample_tasks:where",
    )  # fmt: skip
    task = service.store.catalog.upsert_task_function(spec, datetime.now(UTC))
    python_job = service.create_job(
        {"name": "where", "taskFunctionId": task.id, "jobTypeId": 1, "scheduleConfig": {"hours": 1}}
    )
    shell = shell_job(service, "pwd", "pwd", scheduleConfig={"hours": 1})
    # -P: the daemon itself must not import the planted file; its runs are what is tested
    daemons.start(cwd=workdir, python_flags=("-P",))
    python_run = service.trigger_job(python_job["id"])["executionId"]
    shell_run = service.trigger_job(shell["id"])["executionId"]
    ids = (python_run, shell_run)
    wait_for(
        lambda: all(service.get_execution(i)["status"] not in ("pending", "running") for i in ids),
        timeout=20,
        what="both runs",
    )
    execution = service.get_execution(python_run)
    assert execution["status"] == "success", (execution["errorMessage"], service.get_execution_log(python_run))
    result = execution["result"]
    assert result["cwd"] == "/"
    assert not result["json"].startswith(str(workdir)), result["json"]
    assert "" not in result["path"] and str(workdir) not in result["path"]
    assert service.get_execution_log(shell_run)["data"] == "/\n"


def test_a_foreground_run_without_a_daemon_also_starts_in_the_root(
    service: Service, store_url: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    shell_job(service, "where-fg", "pwd", scheduleConfig={"hours": 1})
    result = subprocess.run(
        [sys.executable, "-m", "jobctl", "--db", store_url, "run", "where-fg"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "/\n"
