"""What a run asks for and what it ends as, independent of how it ran."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jobctl.executors.context import RunContext
from jobctl.models import ExecutionStatus

OutputSink = Callable[[str], None]
"""Receives output text as it arrives (stdout and stderr interleaved)."""


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """One execution to run."""

    execution_id: str
    job_id: str
    handler_type: str
    handler_path: str
    task_args: dict[str, Any] | None
    timeout_seconds: float | None
    environment: dict[str, str] | None = None
    """The job's own variables, set over the daemon's base environment."""
    stdin: str | None = None
    """Text given to the run on its standard input (else it reads /dev/null)."""
    context: RunContext = field(default_factory=RunContext)
    """Directory, umask and nice value the job asks for."""
    queue: str | None = None
    celery_task_id: str | None = None
    """For ``celery_task``: the id the service assigned at trigger time, if any (else the executor picks one)."""


@dataclass(frozen=True, kw_only=True)
class RunOutcome:
    """How a run ended; ``exit_code`` is None when it never ran or was killed."""

    status: ExecutionStatus
    started_at: datetime
    completed_at: datetime
    result: Any
    error_message: str | None
    exit_code: int | None = None
    celery_task_id: str | None = None
    daemons_reason: bool = False
    """Whether ``error_message`` is the daemon's own account of why the run could not run (a
    run-as refusal, a missing directory, no such program), not words of the run's output: the
    daemon's log line of the run says it too, where a failed run's stderr is left out."""

    @property
    def duration_seconds(self) -> float:
        return max(0.0, (self.completed_at - self.started_at).total_seconds())


def tail_at_a_line(text: str, limit: int) -> str:
    """The end of ``text`` in at most ``limit`` characters, from the start of a line.

    An error message holds the tail of a traceback or of a command's stderr: cut anywhere, its
    first kept line began mid-word (``n3.11/site-packages/...``). Only when the last line alone
    is longer than ``limit`` is it cut within that line, since dropping it would leave nothing.
    """
    if len(text) <= limit:
        return text
    kept = text[-limit:]
    if text[-limit - 1] == "\n":
        return kept
    newline = kept.find("\n")
    return kept if newline == -1 else kept[newline + 1 :]
