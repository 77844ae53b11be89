"""Following runs as they happen, over the service interface (so it works local and remote)."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from jobctl.models import ExecutionStatus

if TYPE_CHECKING:
    from jobctl.service.contract import JobService
    from jobctl.wire.responses import ExecutionOut

POLL_SECONDS = 0.25
ACTIVE = {ExecutionStatus.PENDING.value, ExecutionStatus.RUNNING.value}


def stream_output(service: JobService, execution_id: str, *, follow: bool, offset: int = 0) -> ExecutionOut:
    """Copy an execution's output to stdout; with ``follow``, until it has finished.

    Returns the execution as it was last read.
    """
    from jobctl.cli.output import JobOutput

    writer = JobOutput()
    while True:
        log = service.get_execution_log(execution_id, offset=offset)
        writer.write(log["data"])
        offset = log["nextOffset"]
        if log["complete"] or not follow:
            writer.end()
            return service.get_execution(execution_id)
        if not log["data"]:
            time.sleep(POLL_SECONDS)


def follow_executions(service: JobService, *, job_id: str | None, show_header: bool) -> None:
    """Print runs as they start and their output as it comes, until interrupted."""
    seen: set[str] = set()
    latest = service.list_executions(job_id=job_id, page=1, per_page=1)["executions"]
    seen.update(e["id"] for e in latest if e["status"] not in ACTIVE)
    while True:
        fresh = service.list_executions(job_id=job_id, page=1, per_page=20)["executions"]
        started = [e for e in reversed(fresh) if e["id"] not in seen and e["status"] != ExecutionStatus.PENDING.value]
        for execution in started:
            seen.add(execution["id"])
            if show_header:
                sys.stderr.write(
                    f"==> execution {execution['id']} of job {execution['jobId']} ({execution['triggeredBy']})\n"
                )
            final = stream_output(service, execution["id"], follow=True)
            if show_header:
                sys.stderr.write(
                    f"<== {final['status']}" + (f": {final['errorMessage']}" if final["errorMessage"] else "") + "\n"
                )
        if not started:
            time.sleep(POLL_SECONDS)


def exit_code_of(execution: ExecutionOut) -> int:
    """The shell exit code a finished run stands for: its own, 124 on timeout, 1 otherwise."""
    status = execution["status"]
    if status == ExecutionStatus.SUCCESS.value:
        return 0
    if status == ExecutionStatus.TIMEOUT.value:
        return 124
    result = execution.get("result")
    code = result.get("exitCode") if isinstance(result, dict) else None
    return code if isinstance(code, int) and 0 < code < 256 else 1
