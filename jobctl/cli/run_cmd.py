"""``jobctl run JOB``: run a job now in the foreground, stream its output, exit with its code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from jobctl.cli.context import AppContext

if TYPE_CHECKING:
    from jobctl.cli.run_wait import SilentRunWatch
    from jobctl.errors import ExecutionGone
    from jobctl.scheduler.foreground import ForegroundRun
    from jobctl.service.contract import JobService

INTERRUPTED_EXIT = 130


def run(ctx: typer.Context, job: Annotated[str, typer.Argument(help="Job id or unique name.", metavar="JOB")]) -> None:
    """Run a job now, print its output as it comes, and exit with its exit code (124 on timeout).

    With a daemon leading, the daemon runs it; otherwise (local mode) it runs in this process,
    also when the leader dies while the run waits and no other daemon takes over within its lease.
    The run is recorded like any other manual trigger. Ctrl-C cancels the run and exits 130;
    a second Ctrl-C leaves at once and lets the run go on. A reader of stdout that leaves
    (``| head``) cancels it too, and the command exits 141.

    Example: jobctl run backup && echo "backup ok"
    """
    from jobctl.cli.follow import exit_code_of, stream_output
    from jobctl.cli.run_wait import wait_while_pending
    from jobctl.errors import ApiUnreachable, ExecutionGone

    app_ctx: AppContext = ctx.obj
    app_ctx.store_threads = True  # a run in this process records from its runner's threads
    service = app_ctx.service()
    execution_id = service.trigger_job(service.resolve_job(job))["executionId"]
    foreground: ForegroundRun | None = None
    interrupts = _Interrupts.install()  # from here on, Ctrl-C cancels the run
    try:
        if wait_while_pending(service, execution_id, may_run_here=not app_ctx.is_remote(), interrupted=interrupts.seen):
            foreground = _foreground(app_ctx)
            if not foreground.start(execution_id, on_wait=_say_it_waits, interrupted=interrupts.seen):
                foreground = None  # a daemon took it first
        watch = None if foreground is not None else _silence_watch(app_ctx, service, execution_id)
        final = stream_output(service, execution_id, follow=True, interrupted=interrupts.seen, between_reads=watch)
    except ExecutionGone as gone:
        _end_as_deleted(gone, foreground)
    except KeyboardInterrupt:
        _cancel_on_interrupt(service, execution_id, foreground)
    except BrokenPipeError:
        _cancel_when_the_reader_left(service, execution_id, foreground)
    except ApiUnreachable:
        _say_the_api_went(execution_id)
        raise
    finally:
        interrupts.uninstall()
    import sys

    if foreground is not None:
        foreground.finish(interrupted=False)
        _send_notifications(foreground, execution_id)

    from jobctl.cli.render import truncation_note

    note = truncation_note(final)
    if note:
        sys.stderr.write(f"jobctl: {note}\n")
    _say_how_it_failed(final)
    raise typer.Exit(exit_code_of(final))


def _say_how_it_failed(final: Mapping[str, Any]) -> None:
    """``jobctl: run failed: exit code 3`` (the first line of its error), unless it succeeded."""
    import sys

    if final["status"] != "success" and final["errorMessage"]:
        from jobctl.cli.follow import outcome_reason
        from jobctl.cli.output import local_instants
        from jobctl.cli.terminal import printable

        why = local_instants(outcome_reason(final).splitlines()[0])
        sys.stderr.write(f"jobctl: run {final['status']}: {printable(why)}\n")


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


class _Interrupts:
    """SIGINT while ``jobctl run`` follows its run. The first Ctrl-C is only noted: the loops
    that start and follow the run raise ``KeyboardInterrupt`` between two store reads, so no
    read or write is cut in half (a store connection interrupted inside a call can hang the
    cancel that follows). The second raises at once, to leave without waiting."""

    def __init__(self) -> None:
        self.count = 0
        self._previous: Any = None

    @classmethod
    def install(cls) -> _Interrupts:
        import signal

        interrupts = cls()
        interrupts._previous = signal.signal(signal.SIGINT, interrupts._on_sigint)
        return interrupts

    def uninstall(self) -> None:
        import signal

        signal.signal(signal.SIGINT, self._previous)

    def seen(self) -> bool:
        return self.count > 0

    def _on_sigint(self, signum: int, frame: Any) -> None:
        self.count += 1
        if self.count > 1:
            raise KeyboardInterrupt


def _silence_watch(app_ctx: AppContext, service: JobService, execution_id: str) -> SilentRunWatch:
    """Says once when the daemon running the run stops heartbeating (docs/run-waits-for-a-leader.md)."""
    from datetime import timedelta

    from jobctl.cli.run_wait import SilentRunWatch

    return SilentRunWatch(service, execution_id, fallback_ttl=timedelta(seconds=app_ctx.config.lease_ttl_seconds))


def _foreground(app_ctx: AppContext) -> ForegroundRun:
    """A runner in this process, set up as the daemon's would be (no daemon leads)."""
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
    return ForegroundRun(
        store, base_env=base_env, run_as=policy, kill_grace=config.kill_grace_seconds, notify=config.notify
    )


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


def _cancel_on_interrupt(service: JobService, execution_id: str, foreground: ForegroundRun | None) -> NoReturn:
    """Ctrl-C: cancel the run (saying so first) and exit 130; a second Ctrl-C leaves at once.

    The cancel goes through the service like ``executions cancel``: the daemon running the run
    (or this process's own runner, in the foreground) stops its process group and records it.
    """
    import os
    import sys

    from jobctl.errors import Conflict

    sys.stderr.write(
        f"jobctl: interrupted: cancelling execution {execution_id}: SIGTERM to its process group, SIGKILL "
        "after the kill grace (Ctrl-C again to leave without waiting)\n"
    )
    sys.stderr.flush()
    try:
        try:
            final = service.cancel_execution(execution_id)
            sys.stderr.write(f"jobctl: execution {execution_id} {final['status']}\n")
        except Conflict:
            sys.stderr.write(f"jobctl: execution {execution_id} had already ended\n")
        if foreground is not None:
            foreground.finish(interrupted=False)  # already stopped and recorded: only waits for that
    except KeyboardInterrupt:
        sys.stderr.write(
            f"jobctl: leaving at once; execution {execution_id} goes on without this command "
            f"(see jobctl executions show {execution_id})\n"
        )
        sys.stderr.flush()
        sys.stdout.flush()
        # At once: the interrupt may have cut a store call in half (its locks held), and a
        # foreground run's threads still follow the run; nothing here may wait for either.
        os._exit(INTERRUPTED_EXIT)
    raise typer.Exit(INTERRUPTED_EXIT)


def _cancel_when_the_reader_left(service: JobService, execution_id: str, foreground: ForegroundRun | None) -> NoReturn:
    """stdout's reader left (``jobctl run backup | head``): cancel the run, as SIGPIPE ends a
    command writing into that pipe in a shell, say so on stderr, and exit 141 as that command
    would. Before, the command ended there: a run in this process was killed with it and stayed
    ``running`` in the store, and one in a daemon went on unseen.
    """
    import os
    import sys

    from jobctl.cli.main import EXIT_READER_LEFT
    from jobctl.errors import Conflict

    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # what is still buffered goes nowhere
    try:
        final = service.cancel_execution(execution_id)
        sys.stderr.write(f"jobctl: stdout's reader left: execution {execution_id} {final['status']}\n")
    except Conflict:
        pass  # it had ended already: nothing was lost but the output nobody reads
    if foreground is not None:
        foreground.finish(interrupted=False)  # stopped and recorded: only waits for that
    raise typer.Exit(EXIT_READER_LEFT)


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
