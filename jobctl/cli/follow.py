"""Following runs as they happen, over the service interface (so it works local and remote)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from jobctl.models import ExecutionStatus
from jobctl.store.writes import why_skipped

if TYPE_CHECKING:
    from jobctl.service.contract import JobService
    from jobctl.wire.responses import ExecutionOut

POLL_SECONDS = 0.25
ACTIVE = {ExecutionStatus.PENDING.value, ExecutionStatus.RUNNING.value}


def stream_output(
    service: JobService, execution_id: str, *, follow: bool, offset: int = 0,
    interrupted: Callable[[], bool] | None = None, between_reads: Callable[[], None] | None = None,
) -> ExecutionOut:  # fmt: skip
    """Copy an execution's output to stdout; with ``follow``, until it has finished.

    ``between_reads`` is called at each wait for more output (``jobctl run`` watching the
    heartbeat of the daemon that runs the run).

    Returns the execution as it was last read. :raises KeyboardInterrupt: between two reads once
    ``interrupted()`` says so (a Ctrl-C noted by a signal handler, never in the middle of a read).
    """
    from jobctl.cli.output import JobOutput

    writer = JobOutput()
    while True:
        if interrupted is not None and interrupted():
            writer.end()
            raise KeyboardInterrupt
        log = service.get_execution_log(execution_id, offset=offset)
        writer.write(log["data"])
        offset = log["nextOffset"]
        if log["complete"] or not follow:
            writer.end()
            final = service.get_execution(execution_id)
            if final.get("outputPruned"):  # else no output reads like a run that printed nothing
                from jobctl.cli.render import PRUNED_NOTE

                _say(f"jobctl: {PRUNED_NOTE}")
            return final
        if not log["data"]:
            if between_reads is not None:
                between_reads()
            time.sleep(POLL_SECONDS)


RECENT = 100
"""Executions read per page; a run seen once (or started before following began) is never shown again."""


def is_run(execution: ExecutionOut) -> bool:
    """Whether ``tail`` counts the execution as a run: it started (it runs, or ended after
    starting). A skipped slot or a missed range never starts, nor does a run cancelled while it
    waited; a pending one is not a run yet, and becomes one when it starts (docs/tail-runs.md)."""
    return execution["startedAt"] is not None


def started_runs(service: JobService, job_id: str | None, *, at_least: int = 1) -> list[ExecutionOut]:
    """The runs that have started, newest first: those among the newest :data:`RECENT`
    executions, then the pages after them (by cursor) until ``at_least`` are found or none are
    left (0: the newest page alone, what following polls).

    The pages go on because a job whose run outlasts its interval records a skipped slot at every
    interval: its run, the one to show, can be hundreds of executions down (as many as the
    history keeps, ``[history] keep_per_job``).
    """
    page = service.list_executions(job_id=job_id, page=1, per_page=RECENT)
    runs = [e for e in page["executions"] if is_run(e)]
    while len(runs) < at_least and page["nextCursor"] is not None:
        page = service.list_executions(job_id=job_id, per_page=RECENT, after=page["nextCursor"])
        runs += [e for e in page["executions"] if is_run(e)]
    return runs


def show_runs(service: JobService, runs: list[ExecutionOut], *, follow: bool, headers: bool) -> None:
    """Each run's output in turn (oldest first as given), each between a header and a result line on stderr."""
    names: dict[str, str] = {}
    for execution in runs:
        if headers:
            _say(header(execution, _name(service, names, execution["jobId"])))
        final = stream_output(service, execution["id"], follow=follow)
        if headers:
            _say(footer(final))


def follow_executions(service: JobService, *, job_id: str | None, latest: int) -> None:
    """The ``latest`` runs that had started, then every run that starts, live, until interrupted.

    Runs that started before following began are never replayed as new ones: they are all
    marked seen at the start (only the latest ``latest`` of them are shown), and a run
    counts as new once it has started (:func:`is_run`) and has not been seen.
    """
    known = started_runs(service, job_id, at_least=latest)
    seen = {e["id"] for e in known}
    show_runs(service, list(reversed(known[:latest])), follow=True, headers=True)
    while True:
        fresh = [e for e in reversed(started_runs(service, job_id, at_least=0)) if e["id"] not in seen]
        seen.update(e["id"] for e in fresh)
        show_runs(service, fresh, follow=True, headers=True)
        if not fresh:
            time.sleep(POLL_SECONDS)


def header(execution: ExecutionOut, job_name: str) -> str:
    """``==> 3f2c9a4e backup (schedule, attempt 2) started 2026-12-04 20:48:45``."""
    from jobctl.cli.output import local_seconds
    from jobctl.wire.ids import short_id

    attempt = execution.get("attempt") or 1
    how = execution["triggeredBy"] + (f", attempt {attempt}" if attempt > 1 else "")
    started = local_seconds(execution["startedAt"])
    return f"==> {short_id(execution['id'])} {job_name} ({how}) started {started}"


def footer(execution: ExecutionOut) -> str:
    """``<== success in 0.52s`` or ``<== failed: exit code 1``."""
    if execution["errorMessage"]:
        from jobctl.cli.output import local_instants

        return f"<== {execution['status']}: {local_instants(outcome_reason(execution))}"
    duration = execution["durationSeconds"]
    return f"<== {execution['status']}" + (f" in {duration:.2f}s" if duration is not None else "")


def outcome_reason(execution: Mapping[str, Any]) -> str:
    """The execution's ``errorMessage`` for a line that names its status first: a skipped slot's
    stored reason begins with "skipped: " itself, which such a line would say twice."""
    message = execution["errorMessage"] or ""
    if execution["status"] != ExecutionStatus.SKIPPED.value:
        return message
    return why_skipped(message) or message


def _name(service: JobService, names: dict[str, str], job_id: str) -> str:
    if job_id not in names:
        from jobctl.cli.listing import job_names
        from jobctl.wire.ids import short_id

        names[job_id] = job_names(service, [job_id]).get(job_id) or short_id(job_id)
    return names[job_id]


def _say(line: str) -> None:
    """A header or result line on stderr, one safe line."""
    from jobctl.cli.terminal import printable

    sys.stderr.write(printable(line) + "\n")
    sys.stderr.flush()


def wait_for_the_end(service: JobService, execution_id: str) -> Mapping[str, Any]:
    """The execution once it has ended (polled every :data:`POLL_SECONDS`); the last record of
    one a forced delete of its job ended and deleted meanwhile."""
    from jobctl.errors import ExecutionGone

    while True:
        try:
            execution: Mapping[str, Any] = service.get_execution(execution_id)
        except ExecutionGone as gone:
            return gone.record
        if execution["status"] not in ACTIVE:
            return execution
        time.sleep(POLL_SECONDS)


def say_how_it_ended(execution: Mapping[str, Any]) -> None:
    """``jobctl: run failed: exit code 3`` (the first line of its error) on stderr, unless it
    succeeded or has no error to tell."""
    if execution["status"] != ExecutionStatus.SUCCESS.value and execution.get("errorMessage"):
        from jobctl.cli.output import local_instants

        _say(f"jobctl: run {execution['status']}: {local_instants(outcome_reason(execution).splitlines()[0])}")


def exit_code_of(execution: Mapping[str, Any]) -> int:
    """The shell exit code a finished run stands for: its own, 124 on timeout, 128 + N for a
    failed run killed by signal N (as a shell reports it: 137 for SIGKILL, the OOM killer's), 1
    otherwise."""
    status = execution["status"]
    if status == ExecutionStatus.SUCCESS.value:
        return 0
    if status == ExecutionStatus.TIMEOUT.value:
        return 124
    code = _code_in_error(execution.get("errorMessage"))
    if code is None:
        result = execution.get("result")
        code = result.get("exitCode") if isinstance(result, dict) else None
    return code if isinstance(code, int) and 0 < code < 256 else 1


def _code_in_error(message: str | None) -> int | None:
    """The code a failed command's error begins with (``exit code 7``, or ``killed by SIGKILL``
    as 137), then its stderr's tail.

    The error, not the result, is read first: a command whose last stdout line is a JSON object
    has that object as its result, with no code in it, and ``jobctl run`` exited 1 for it
    whatever the job's code was.
    """
    import re
    import signal

    found = re.match(r"exit code (\d{1,3})(?!\d)|killed by (SIG[A-Z0-9]+)\b", message or "")
    if found is None:
        return None
    if found[1] is not None:
        return int(found[1])
    try:
        return 128 + signal.Signals[found[2]].value
    except KeyError:
        return None
