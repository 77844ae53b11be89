"""``jobctl executions ...``: list, show and tail the runs of jobs."""

from __future__ import annotations

from typing import Annotated

import typer

from jobctl.cli import output, render
from jobctl.cli.context import AppContext

app = typer.Typer(help="Inspect runs and their output.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]


@app.command("list")
def list_executions(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Option("--job", help="Only runs of this job (id or name).", metavar="JOB")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, running, success, failed, timeout or skipped.")
    ] = None,
    page: Annotated[int, typer.Option(help="Page number.")] = 1,
    per_page: Annotated[int, typer.Option(help="Runs per page (1-100).")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List runs, newest first.

    Example: jobctl executions list --job backup --status failed
    """
    app_ctx: AppContext = ctx.obj
    service = app_ctx.service()
    job_id = service.resolve_job(job) if job else None
    data = service.list_executions(job_id=job_id, status=status, page=page, per_page=per_page)
    output.print_json(data) if as_json else render.executions_table(data)


@app.command("show")
def show(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(help="Execution id.", metavar="ID")],
    as_json: JsonFlag = False,
) -> None:
    """Show one run and its output.

    Example: jobctl executions show 3f2c9a4e-...
    """
    app_ctx: AppContext = ctx.obj
    service = app_ctx.service()
    data = service.get_execution(execution_id)
    if as_json:
        output.print_json(data)
        return
    render.execution_detail(data)
    log = service.get_execution_log(execution_id, offset=0)
    note = render.truncation_note(data)
    if note:
        output.print_line(f"  {note}")
    if log["data"]:
        output.print_line("  output:")
        output.print_output(log["data"])


@app.command("tail")
def tail(
    ctx: typer.Context,
    target: Annotated[
        str | None, typer.Argument(help="Execution id, or job id/name (default: all jobs).", metavar="[ID|JOB]")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep following: this run to its end, or new runs as they start.")
    ] = False,
) -> None:
    """Print the output of a run; with -f, follow it live (or every new run of a job, or of all jobs).

    Examples:
      jobctl executions tail 3f2c9a4e-... -f
      jobctl executions tail backup -f
    """
    from jobctl.cli.follow import follow_executions, stream_output
    from jobctl.errors import NotFound

    app_ctx: AppContext = ctx.obj
    service = app_ctx.service()
    if target is not None:
        try:
            execution = service.get_execution(target)
        except NotFound:
            execution = None
        if execution is not None:
            stream_output(service, execution["id"], follow=follow)
            return
    job_id = service.resolve_job(target) if target is not None else None
    if not follow:
        latest = service.list_executions(job_id=job_id, page=1, per_page=1)["executions"]
        if latest:
            stream_output(service, latest[0]["id"], follow=False)
        return
    follow_executions(service, job_id=job_id, show_header=True)
