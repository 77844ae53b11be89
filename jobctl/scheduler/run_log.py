"""One daemon log line per finished run, so that the journal shows what cron's mail used to.

Successful runs are logged at INFO, every other outcome (failed, timeout) at WARNING. The line
carries the job's name, the execution id, the status, the duration and the exit code, both in
the message and as fields (``extra={"fields": ...}``) that the JSON log format writes as keys.
A run that could not run at all (refused by the run-as rules, a directory that is missing, no
such program) ends the line with the daemon's reason, in the words of the execution's error
(``, error: cannot run as walk2a: not allowed by [daemon] allowed_run_as``; the ``error`` key
in JSON): its exit code ``-`` alone said nothing of why. A run that ran and failed does not:
its error quotes its stderr, which is the run's to show (``executions show``), not the log's.
"""

from __future__ import annotations

import logging
from typing import Any

from jobctl.models import ExecutionStatus

log = logging.getLogger("jobctl.runs")


def log_finished_run(
    *,
    job_name: str,
    execution_id: str,
    status: str,
    duration_seconds: float | None,
    exit_code: int | None,
    error: str | None = None,
) -> None:
    """Log one finished run (never raises: a log line must not stop the recorder).

    Nothing is built when the level is off (a daemon logging only warnings skips its successes)."""
    level = logging.INFO if status == ExecutionStatus.SUCCESS.value else logging.WARNING
    if not log.isEnabledFor(level):
        return
    fields: dict[str, Any] = {
        "job": job_name,
        "executionId": execution_id,
        "status": status,
        "durationSeconds": None if duration_seconds is None else round(duration_seconds, 3),
        "exitCode": exit_code,
    }
    duration = "-" if duration_seconds is None else f"{duration_seconds:.3f}s"
    code = "-" if exit_code is None else str(exit_code)
    message = "run finished: job %s, execution %s, %s, duration %s, exit code %s"
    args: list[object] = [job_name, execution_id, status, duration, code]
    if error:
        fields["error"] = error
        message += ", error: %s"
        args.append(error)
    try:
        log.log(level, message, *args, extra={"fields": fields})
    except Exception:  # noqa: BLE001 - logging is best effort
        pass
