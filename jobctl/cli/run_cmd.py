"""``jobctl run JOB``: run a job now in the foreground, stream its output, exit with its code."""

from __future__ import annotations

from typing import Annotated

import typer

from jobctl.cli.context import AppContext


def run(ctx: typer.Context, job: Annotated[str, typer.Argument(help="Job id or unique name.", metavar="JOB")]) -> None:
    """Run a job now, print its output as it comes, and exit with its exit code (124 on timeout).

    With a daemon leading, the daemon runs it; otherwise (local mode) it runs in this process.
    The run is recorded like any other manual trigger.

    Example: jobctl run backup && echo "backup ok"
    """
    from jobctl.cli.follow import exit_code_of, stream_output

    app_ctx: AppContext = ctx.obj
    service = app_ctx.service()
    execution_id = service.trigger_job(service.resolve_job(job))["executionId"]
    foreground = None
    if not app_ctx.is_remote() and not service.get_status()["isRunning"]:
        from jobctl.executors.context import RunAsPolicy
        from jobctl.executors.environment import base_environment
        from jobctl.executors.isolation import enter_run_directory
        from jobctl.scheduler.foreground import ForegroundRun

        store = app_ctx.store()
        enter_run_directory()  # as under a daemon, the run starts in /
        config = app_ctx.config
        base_env = base_environment(path=config.run_path, passed=config.pass_environment)
        policy = RunAsPolicy(default_user=config.default_run_as, allowed=config.allowed_run_as)
        candidate = ForegroundRun(store, base_env=base_env, run_as=policy)
        if candidate.start(execution_id):
            foreground = candidate
    try:
        final = stream_output(service, execution_id, follow=True)
    except KeyboardInterrupt:
        if foreground is not None:
            foreground.finish(interrupted=True)
        raise
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


def register(app: typer.Typer) -> None:
    app.command("run")(run)
