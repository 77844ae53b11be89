"""Large and fast output through a real daemon: exactly the last 1,000,000 characters are kept,
and the run says how many bytes were dropped before them (API field, `jobctl run`, `show`)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from jobctl.models import TaskFunctionSpec
from jobctl.service import Service
from jobctl.store.executions import OUTPUT_LIMIT_CHARS
from tests.daemon.helpers import DaemonFactory, shell_job, wait_for

HOURLY = {"scheduleConfig": {"hours": 1}}
FAST_BYTES = 30_000_000
FAST_COMMAND = f"head -c {FAST_BYTES} /dev/zero | tr '\\0' a; echo; echo END"


def finished(service: Service, execution_id: str) -> dict[str, Any]:
    wait_for(
        lambda: service.get_execution(execution_id)["status"] not in ("pending", "running"),
        timeout=60,
        what="the run to finish",
    )
    return dict(service.get_execution(execution_id))


def whole_log(service: Service, execution_id: str) -> str:
    log = service.get_execution_log(execution_id)
    assert log["complete"], "one read returns all that is kept"
    return str(log["data"])


def test_a_python_child_printing_3_mb_keeps_its_last_million_characters(
    service: Service, daemons: DaemonFactory
) -> None:
    spec = TaskFunctionSpec(
        name="print-lines", display_name="print-lines", description=None, handler_type="python",
        handler_path="tests.daemon.sample_tasks:print_lines",
    )  # fmt: skip
    task = service.store.catalog.upsert_task_function(spec, datetime.now(UTC))
    job = service.create_job(
        {"name": "big-print", "taskFunctionId": task.id, "jobTypeId": 1, "taskArgs": {"count": 375_000}, **HOURLY}
    )
    daemons.start()
    run = finished(service, service.trigger_job(job["id"])["executionId"])
    assert run["status"] == "success", run["errorMessage"]
    assert whole_log(service, run["id"]) == "".join(f"{n:07d}\n" for n in range(250_000, 375_000))
    assert run["outputDroppedBytes"] == 3_000_000 - OUTPUT_LIMIT_CHARS


def test_a_fast_producer_keeps_its_tail_and_says_what_was_dropped(
    service: Service, daemons: DaemonFactory, store_url: str
) -> None:
    total = FAST_BYTES + len("\nEND\n")
    shell_job(service, "fast", FAST_COMMAND, **HOURLY)
    daemons.start()
    result = subprocess.run(
        [sys.executable, "-m", "jobctl", "--db", store_url, "run", "fast"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("a\nEND\n")
    dropped = total - OUTPUT_LIMIT_CHARS
    assert result.stderr == f"jobctl: output truncated: first {dropped} bytes dropped\n"

    [run] = service.list_executions()["executions"]
    assert run["outputDroppedBytes"] == dropped
    assert whole_log(service, run["id"]) == "a" * (OUTPUT_LIMIT_CHARS - 5) + "\nEND\n"
    stored = service.store.db.scalar(
        "SELECT SUM(LENGTH(data)) FROM execution_output WHERE execution_id = :id", {"id": run["id"]}
    )
    assert OUTPUT_LIMIT_CHARS <= stored < 2 * OUTPUT_LIMIT_CHARS, "the store holds about the kept tail, no more"

    shown = subprocess.run(
        [sys.executable, "-m", "jobctl", "--db", store_url, "executions", "show", run["id"]],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert f"  output truncated: first {dropped} bytes dropped\n  output:\n" in shown.stdout
