"""``jobctl run JOB``: run a job now in the foreground, stream its output, exit with its code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from jobctl.cli.context import AppContext

if TYPE_CHECKING:
    from datetime import datetime

    from jobctl.cli.run_wait import SilentRunWatch
    from jobctl.errors import ExecutionGone, OutputUnwritable
    from jobctl.scheduler.foreground import ForegroundRun
    from jobctl.service.contract import JobService
    from jobctl.wire.responses import ExecutionOut

INTERRUPTED_EXIT = 130


class _Following:
    """The attempt ``jobctl run`` follows (the triggered run, then each retry it waits for), and
    this process's runner of it when no daemon leads."""

    def __init__(self) -> None:
        self.execution_id: str | None = None
        self.foreground: ForegroundRun | None = None


def run(ctx: typer.Context, job: Annotated[str, typer.Argument(help="Job id or unique name.", metavar="JOB")]) -> None:
    """Run a job now, print its output as it comes, and exit with its exit code (124 on timeout).

    With a daemon leading, the daemon runs it; otherwise (local mode) it runs in this process,
    also when the leader dies while the run waits and no other daemon takes over within its lease.
    The run is recorded like any other manual trigger. A job with retries is followed through
    them: a failed attempt whose retry is queued is said on stderr with the retry's time, the
    command waits for it and prints its output, and exits with the last attempt's outcome.
    Ctrl-C, SIGTERM or SIGHUP cancels the run (or the retry waiting) and exits 130, 143 or 129;
    a second signal leaves at once and lets the run go on. A reader of stdout that leaves
    (``| head``) cancels it too, and the command exits 141.

    Example: jobctl run backup && echo "backup ok"
    """
    from jobctl.cli.follow import exit_code_of
    from jobctl.cli.output import stdout_closed
    from jobctl.cli.run_wait import wait_until_due
    from jobctl.errors import ApiUnreachable, ExecutionGone, OutputUnwritable

    if stdout_closed():  # the run's output could go nowhere: refused before anything runs
        raise OutputUnwritable("it is closed; nothing was run (> /dev/null discards a run's output)")
    app_ctx: AppContext = ctx.obj
    app_ctx.store_threads = True  # a run in this process records from its runner's threads
    service = app_ctx.service()
    job_id = service.resolve_job(job)
    following = _Following()
    signals = _Signals.install()  # from here on, Ctrl-C, SIGTERM and SIGHUP cancel the run
    try:
        following.execution_id = service.trigger_job(job_id)["executionId"]
        while True:
            final = _follow_attempt(app_ctx, service, following, signals)
            retry = _queued_retry(service, final)
            if retry is None:
                break
            _say_a_retry_waits(service, final, retry)
            following.execution_id = retry["id"]
            wait_until_due(service, retry, interrupted=signals.seen)
    except ExecutionGone as gone:
        _end_as_deleted(gone, following.foreground)
    except KeyboardInterrupt:
        _cancel_on_signal(service, following, signals)
    except BrokenPipeError:
        _cancel_when_stdout_fails(service, following, None)
    except OutputUnwritable as unwritable:
        _cancel_when_stdout_fails(service, following, unwritable)
    except ApiUnreachable:
        if following.execution_id is not None:
            _say_the_api_went(following.execution_id)
        raise
    finally:
        signals.uninstall()
    _say_how_it_failed(final)
    raise typer.Exit(exit_code_of(final))


def _follow_attempt(app_ctx: AppContext, service: JobService, following: _Following, signals: _Signals) -> ExecutionOut:
    """Start (or wait for) the run ``following`` names, stream its output to its end, and
    finish this process's runner of it (sending its notifications); the run as it ended."""
    import sys

    from jobctl.cli.follow import stream_output
    from jobctl.cli.render import truncation_note
    from jobctl.cli.run_wait import wait_while_pending

    execution_id = following.execution_id
    assert execution_id is not None
    if wait_while_pending(service, execution_id, may_run_here=not app_ctx.is_remote(), interrupted=signals.seen):
        following.foreground = _foreground(app_ctx)
        if not following.foreground.start(execution_id, on_wait=_say_it_waits, interrupted=signals.seen):
            following.foreground = None  # a daemon took it first
    watch = None if following.foreground is not None else _silence_watch(app_ctx, service, execution_id)
    final = stream_output(service, execution_id, follow=True, interrupted=signals.seen, between_reads=watch)
    foreground, following.foreground = following.foreground, None
    if foreground is not None:
        foreground.finish(interrupted=False)
        _send_notifications(foreground, execution_id)
    note = truncation_note(final)
    if note:
        sys.stderr.write(f"jobctl: {note}\n")
    return final


def _queued_retry(service: JobService, final: ExecutionOut) -> ExecutionOut | None:
    """The next attempt the failure of ``final`` queued, if any.

    The transaction that records a failed attempt inserts its retry (docs/retry-backoff.md), so
    once the attempt reads as ended its retry is there or never will be: the job's execution
    created at the very moment the attempt completed, by ``retry``, with the next attempt number.
    """
    from jobctl.cli.output import parse_time
    from jobctl.models import ExecutionStatus

    failed = (ExecutionStatus.FAILED.value, ExecutionStatus.TIMEOUT.value)
    completed = parse_time(final["completedAt"])
    if final["status"] not in failed or completed is None:
        return None
    page = service.list_executions(job_id=final["jobId"], since=completed, per_page=100)
    for execution in page["executions"]:
        if (
            execution["triggeredBy"] == "retry"
            and execution["attempt"] == final["attempt"] + 1
            and parse_time(execution["createdAt"]) == completed
        ):
            return execution
    return None


def _say_a_retry_waits(service: JobService, final: ExecutionOut, retry: ExecutionOut) -> None:
    """``jobctl: attempt 1 of 2 failed (exit code 5); retry at 15:00:03`` (the date too when not today)."""
    import sys

    from jobctl.cli.follow import outcome_reason
    from jobctl.cli.terminal import printable
    from jobctl.models import ExecutionStatus
    from jobctl.store.writes import retry_due

    attempts = service.get_job(final["jobId"])["retryCount"] + 1
    how = "timed out" if final["status"] == ExecutionStatus.TIMEOUT.value else "failed"
    reason = (outcome_reason(final).splitlines() or [""])[0]
    said = f"attempt {final['attempt']} of {max(attempts, retry['attempt'])} {how}" + (f" ({reason})" if reason else "")
    due = retry_due(retry["pendingReason"]) if retry["status"] == ExecutionStatus.PENDING.value else None
    when = f"retry at {_local_clock(due)}" if due is not None else "retrying now"
    sys.stderr.write(printable(f"jobctl: {said}; {when}") + "\n")
    sys.stderr.flush()


def _local_clock(moment: datetime) -> str:
    """``15:00:03`` in the local zone, with the date before it when that is not today's."""
    from datetime import datetime as clock

    local = moment.astimezone()
    same_day = local.date() == clock.now(local.tzinfo).date()
    return local.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S")


def _say_how_it_failed(final: Mapping[str, Any]) -> None:
    """``jobctl: run failed: exit code 3`` (the first line of its error), unless it succeeded."""
    from jobctl.cli.follow import say_how_it_ended

    say_how_it_ended(final)


def _end_as_deleted(gone: ExecutionGone, foreground: ForegroundRun | None) -> NoReturn:
    """The run's job was deleted with force while it was followed: the delete stopped (or
    skipped) the run, waited for its record, and deleted it with the job's history. Its last
    record, kept for this (docs/deleting-jobs.md), ends the command as the record itself would
    have: the same line and exit code, whichever of the two the follower read first.
    """
    from jobctl.cli.follow import exit_code_of

    if foreground is not None:
        foreground.finish(interrupted=False)  # stopped and recorded: only waits for that
    _say_how_it_failed(gone.record)
    raise typer.Exit(exit_code_of(gone.record))


class _Signals:
    """Ctrl-C (SIGINT), SIGTERM (``kill``, ``timeout``, Ansible) and SIGHUP (a closed terminal)
    while ``jobctl run`` follows its run. The first is only noted: the loops that start and follow
    the run raise ``KeyboardInterrupt`` between two store reads, so no read or write is cut in
    half (a store connection interrupted inside a call can hang the cancel that follows). The
    second raises at once, to leave without waiting. A signal the command was started with
    ignored (``nohup``, ``&`` in a script) stays ignored: whoever started it said it should not
    end the run."""

    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        self.count = 0
        self.first: int | None = None
        """The first signal's number."""
        self._previous: dict[int, Any] = {}

    @classmethod
    def install(cls) -> _Signals:
        import signal

        signals = cls()
        for name in cls.SIGNALS:
            signum = getattr(signal, name)
            if signal.getsignal(signum) is not signal.SIG_IGN:
                signals._previous[signum] = signal.signal(signum, signals._on_signal)
        return signals

    def uninstall(self) -> None:
        import signal

        for signum, previous in self._previous.items():
            signal.signal(signum, previous)

    def seen(self) -> bool:
        return self.count > 0

    def exit_code(self) -> int:
        """128 + the first signal's number, as a shell reports a command it ended: 130, 143, 129."""
        import signal

        return 128 + (self.first or signal.SIGINT)

    def what(self) -> str:
        """How the first signal is said: ``interrupted``, ``terminated (SIGTERM)``, ``hung up (SIGHUP)``."""
        import signal

        said = {int(signal.SIGTERM): "terminated (SIGTERM)", int(signal.SIGHUP): "hung up (SIGHUP)"}
        return said.get(self.first or 0, "interrupted")

    def again(self) -> str:
        import signal

        return "Ctrl-C again" if self.first in (None, signal.SIGINT) else "a second signal"

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.count += 1
        if self.first is None:
            self.first = signum
        if self.count > 1:
            raise KeyboardInterrupt


def _silence_watch(app_ctx: AppContext, service: JobService, execution_id: str) -> SilentRunWatch:
    """Says once when the daemon running the run stops heartbeating (docs/run-waits-for-a-leader.md)."""
    from datetime import timedelta

    from jobctl.cli.run_wait import SilentRunWatch

    return SilentRunWatch(service, execution_id, fallback_ttl=timedelta(seconds=app_ctx.config.lease_ttl_seconds))


def _foreground(app_ctx: AppContext) -> ForegroundRun:
    """A runner in this process, set up as the daemon's would be (no daemon leads): the same
    environment, run-as policy, kill grace, notifiers and ``[celery]`` broker."""
    from jobctl.executors.celery_task import configured_executor
    from jobctl.executors.context import RunAsPolicy, root_default_warning
    from jobctl.executors.environment import base_environment
    from jobctl.executors.isolation import enter_run_directory
    from jobctl.scheduler.foreground import ForegroundRun

    store = app_ctx.store()
    enter_run_directory()  # as under a daemon, the run starts in /
    config = app_ctx.config
    base_env = base_environment(path=config.run_path, passed=config.pass_environment)
    policy = RunAsPolicy(default_user=config.default_run_as, allowed=config.allowed_run_as)
    root_default = root_default_warning(policy)
    if root_default:  # what a daemon logs at its start under this config: here no daemon will
        from jobctl.cli.output import warn

        warn(root_default)
    celery = configured_executor(config.celery_broker_url, config.celery_result_backend, deferred=True)
    return ForegroundRun(
        store, base_env=base_env, run_as=policy, kill_grace=config.kill_grace_seconds, notify=config.notify,
        celery=celery, default_timezone=config.scheduler_timezone,
    )  # fmt: skip


def _send_notifications(foreground: ForegroundRun, execution_id: str) -> None:
    """No daemon leads, so nobody else will send the run's notifications: send them now. A
    failed one is said on stderr (it stays pending for a daemon to retry); the run's exit
    code is not changed by it."""
    import sys

    from jobctl.errors import StoreError

    try:
        tried = foreground.notify_outcome(execution_id)
    except StoreError as exc:
        sys.stderr.write(f"jobctl: the run's notifications were not sent: {exc.message}\n")
        return
    for event, notifier, error in tried:
        if error is not None:
            sys.stderr.write(f"jobctl: {event} notification to {notifier} failed (a daemon will retry it): {error}\n")


def _cancel_on_signal(service: JobService, following: _Following, signals: _Signals) -> NoReturn:
    """Ctrl-C, SIGTERM or SIGHUP: cancel the run, or the retry waiting (saying so first), and
    exit 128 + the signal (130, 143, 129); a second signal leaves at once.

    The cancel goes through the service like ``executions cancel``: the daemon running the run
    (or this process's own runner, in the foreground) stops its process group and records it.
    What is said on stderr may go nowhere (a terminal that hung up): the cancel is made anyway.
    """
    import os
    import sys

    from jobctl.errors import Conflict

    code = signals.exit_code()
    execution_id = following.execution_id
    if execution_id is None:  # a second signal while the run was being triggered
        raise typer.Exit(code)
    _tell(
        f"jobctl: {signals.what()}: cancelling execution {execution_id}: SIGTERM to its process group, SIGKILL "
        f"after the kill grace ({signals.again()} to leave without waiting)"
    )
    try:
        try:
            final = service.cancel_execution(execution_id)
            _tell(f"jobctl: execution {execution_id} {final['status']}")
        except Conflict:
            _tell(f"jobctl: execution {execution_id} had already ended")
        if following.foreground is not None:
            following.foreground.finish(interrupted=False)  # already stopped and recorded: only waits for that
    except KeyboardInterrupt:
        _tell(
            f"jobctl: leaving at once; execution {execution_id} goes on without this command "
            f"(see jobctl executions show {execution_id})"
        )
        try:
            sys.stdout.flush()
        except Exception:  # noqa: BLE001 - leaving at once: what stdout could not take is lost
            pass
        # At once: the interrupt may have cut a store call in half (its locks held), and a
        # foreground run's threads still follow the run; nothing here may wait for either.
        os._exit(code)
    raise typer.Exit(code)


def _tell(line: str) -> None:
    """A line on stderr, which may be gone (a terminal that hung up): not a reason to stop."""
    import sys

    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _cancel_when_stdout_fails(
    service: JobService, following: _Following, unwritable: OutputUnwritable | None
) -> NoReturn:
    """stdout's reader left (``jobctl run backup | head``, ``unwritable`` None) or stdout cannot
    be written (a full disk): cancel the run, as SIGPIPE or a failed write ends a command
    writing there in a shell, say so on stderr, and exit 141 (quietly but for the cancel, as
    that command would) or 2 (``jobctl: cannot write to stdout: ...``). Before, the command
    ended there: a run in this process was killed with it and stayed ``running`` in the store,
    and one in a daemon went on unseen.
    """
    from jobctl.cli.main import EXIT_READER_LEFT
    from jobctl.cli.output import abandon_stdout
    from jobctl.errors import Conflict

    abandon_stdout()  # what is still buffered goes nowhere
    why = "stdout's reader left" if unwritable is None else unwritable.message
    execution_id = following.execution_id
    ended = ""
    if execution_id is not None:
        try:
            final = service.cancel_execution(execution_id)
            ended = f": execution {execution_id} {final['status']}"
        except Conflict:
            pass  # it had ended already: nothing was lost but the output nobody reads
        if following.foreground is not None:
            following.foreground.finish(interrupted=False)  # stopped and recorded: only waits for that
    if unwritable is None:
        if ended:
            _tell(f"jobctl: {why}{ended}")
        raise typer.Exit(EXIT_READER_LEFT)
    _tell(f"jobctl: {why}{ended}")
    raise typer.Exit(unwritable.exit_code)


def _say_the_api_went(execution_id: str) -> None:
    """Through ``--api``, the daemon stopped answering (killed, stopped, cut off): the command
    ends with the client's error (exit 5) instead of waiting, and names the run it leaves, which
    the daemons may still run or finish (with no id printed, it could not be looked up later)."""
    import sys

    sys.stderr.write(
        f"jobctl: execution {execution_id} was not followed to its end "
        f"(see jobctl executions show {execution_id} once a daemon answers)\n"
    )


def _say_it_waits(reason: str) -> None:
    import sys

    sys.stderr.write(f"jobctl: waiting: {reason}\n")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
