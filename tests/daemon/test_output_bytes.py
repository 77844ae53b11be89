"""Runs printing NUL and undecodable bytes, through a real daemon: every outcome is recorded
(NUL and bad bytes as U+FFFD) and recording goes on for the runs after them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jobctl.models import TaskFunctionSpec
from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, shell_job, wait_for

HOURLY = {"scheduleConfig": {"hours": 1}}


def python_job(service: Service, name: str, handler_path: str) -> dict[str, Any]:
    spec = TaskFunctionSpec(
        name=name, display_name=name, description=None, handler_type="python", handler_path=handler_path
    )
    task = service.store.catalog.upsert_task_function(spec, datetime.now(UTC))
    return service.create_job({"name": name, "taskFunctionId": task.id, "jobTypeId": 1, **HOURLY})


def finished(service: Service, execution_id: str) -> dict[str, Any]:
    wait_for(
        lambda: service.get_execution(execution_id)["status"] not in ("pending", "running"),
        timeout=20,
        what=f"execution {execution_id} to finish",
    )
    return dict(service.get_execution(execution_id))


def test_nul_and_binary_output_and_messages_are_recorded(service: Service, daemons: DaemonFactory) -> None:
    jobs = {
        "nul": shell_job(service, "nul", r"printf 'a\0b'", **HOURLY),
        "binary": shell_job(service, "binary", r"printf '\377\376bin\n'; printf 'err\0x\n' >&2; exit 3", **HOURLY),
        "py-error": python_job(service, "py-error", "tests.daemon.sample_tasks:nul_error"),
        "py-result": python_job(service, "py-result", "tests.daemon.sample_tasks:nul_result"),
    }
    daemons.start()
    ids = {name: service.trigger_job(job["id"])["executionId"] for name, job in jobs.items()}
    runs = {name: finished(service, execution_id) for name, execution_id in ids.items()}

    assert runs["nul"]["status"] == "success"
    assert service.get_execution_log(ids["nul"]) == {"data": "a\ufffdb", "nextOffset": 3, "complete": True}
    assert service.get_execution_log(ids["nul"], offset=2)["data"] == "b"

    assert runs["binary"]["status"] == "failed"
    assert runs["binary"]["errorMessage"] == "exit code 3: err\ufffdx"
    assert service.get_execution_log(ids["binary"])["data"] in (
        "\ufffd\ufffdbin\nerr\ufffdx\n",
        "err\ufffdx\n\ufffd\ufffdbin\n",
    )

    assert runs["py-error"]["status"] == "failed"
    assert runs["py-error"]["errorMessage"].startswith("ValueError: bad\ufffdbyte")
    assert runs["py-result"]["status"] == "success"
    assert runs["py-result"]["result"] == {"text": "a\ufffdb"}

    after = shell_job(service, "after", "echo after", **HOURLY)
    assert finished(service, service.trigger_job(after["id"])["executionId"])["status"] == "success"
