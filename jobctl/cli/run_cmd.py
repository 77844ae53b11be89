"""``jobctl run JOB``: run a job now in the foreground, stream its output, exit with its code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from jobctl.cli.context import AppContext

if TYPE_CHECKING:
    from jobctl.scheduler.foreground import ForegroundRun
    from jobctl.service.contract import JobService

INTERRUPTED_EXIT = 130


def run(ctx: typer.Context, job: Annotated[str, typer.Argument(help="Job id or unique name.", metavar="JOB")]) -> None:
    """Run a job now, print its output as it comes, and exit with its exit code (124 on timeout).

    With a daemon leading, the daemon runs it; otherwise (local mode) it runs in this process.
    The run is recorded like any other manual trigger. Ctrl-C cancels the run and exits 130;
    a second Ctrl-C leaves at once and lets the run go on.

    Example: jobctl run backup && echo "backup ok"
    """
    from jobctl.cli.follow import exit_code_of, stream_output

    app_ctx: AppContext = ctx.obj
    service = app_ctx.service()
    execution_id = service.trigger_job(service.resolve_job(job))["executionId"]
    foreground: ForegroundRun | None = None
    try:  # from here on, Ctrl-C cancels the run: even one taken by this process a moment ago
        if not app_ctx.is_remote() and not service.get_status()["isRunning"]:
            foreground = _foreground(app_ctx)
            if not foreground.start(execution_id, on_wait=_say_it_waits):
                foreground = None  # a daemon took it first
        final = stream_output(service, execution_id, follow=True)
    except KeyboardInterrupt:
        _cancel_on_interrupt(service, execution_id, foreground)
    if foreground is not None:
        foreground.finish(interrupted=False)
    import sys

    from jobctl.cli.render import truncation_note

    note = truncation_note(final)
    if note:
        sys.stderr.write(f"jobctl: {note}\n")
    if final["status"] != "success" and final["errorMessage"]:
        from jobctl.cli.terminal import printable

        sys.stderr.write(f"jobctl: run {final['status']}: {printable(final['errorMessage'].splitlines()[0])}\n")
    raise typer.Exit(exit_code_of(final))


def _foreground(app_ctx: AppContext) -> ForegroundRun:
    """A runner in this process, set up as the daemon's would be (no daemon leads)."""
    from jobctl.executors.context import RunAsPolicy
    from jobctl.executors.environment import base_environment
    from jobctl.executors.isolation import enter_run_directory
    from jobctl.scheduler.foreground import ForegroundRun

    store = app_ctx.store()
    enter_run_directory()  # as under a daemon, the run starts in /
    config = app_ctx.config
    base_env = base_environment(path=config.run_path, passed=config.pass_environment)
    policy = RunAsPolicy(default_user=config.default_run_as, allowed=config.allowed_run_as)
    return ForegroundRun(store, base_env=base_env, run_as=policy, kill_grace=config.kill_grace_seconds)


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
        if foreground is not None:
            os._exit(INTERRUPTED_EXIT)  # the runner's threads follow the run; this process must not wait for them
        raise typer.Exit(INTERRUPTED_EXIT) from None
    raise typer.Exit(INTERRUPTED_EXIT)


def _say_it_waits(reason: str) -> None:
    import sys

    sys.stderr.write(f"jobctl: waiting: {reason}\n")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
