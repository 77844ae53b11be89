"""``jobctl notifications ...``: what was sent to whom, the notifiers, and a test send."""

from __future__ import annotations

from typing import Annotated

import typer

from jobctl.cli import output
from jobctl.cli.context import AppContext
from jobctl.errors import JobctlError

app = typer.Typer(
    suggest_commands=False, help="Notifications: deliveries, notifiers and test sends.", no_args_is_help=True
)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]


@app.command("list")
def list_notifications(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Option("--job", help="Only this job's (name or id).", metavar="JOB")] = None,
    status: Annotated[str | None, typer.Option("--status", help="pending, sent or failed.")] = None,
    page: Annotated[int, typer.Option(help="Page number.")] = 1,
    per_page: Annotated[int, typer.Option(help="Notifications per page, 1-100.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List notifications, newest first: event, job, notifier, status, attempts and the last error.

    A sent delivery shows no error; --json keeps its last failed attempt's (lastFailedAttemptError).

    \b
    Examples:
      jobctl notifications list --status failed
      jobctl notifications list --job backup
    """
    app_ctx: AppContext = ctx.obj
    service = app_ctx.service()
    job_id = service.resolve_job(job) if job is not None else None  # --job "" names no job, not every job
    data = service.list_notifications(job_id=job_id, status=status, page=page, per_page=per_page)
    if as_json:
        output.print_json(data)
        return
    rows = [
        [
            n["id"][:8],
            output.local_seconds(n["createdAt"]),
            n["event"],
            n["jobName"] or "",
            n["notifier"],
            n["status"],
            str(n["attempts"]),
            (n["lastError"] or "").splitlines()[0] if n["lastError"] else "",
        ]
        for n in data["notifications"]
    ]
    headers = ["ID", "WHEN", "EVENT", "JOB", "NOTIFIER", "STATUS", "ATTEMPTS", "LAST ERROR"]
    footer = f"{len(rows)} of {data['total']}" if data["total"] > len(rows) else None
    output.print_table(None, headers, rows, footer=footer)


@app.command("notifiers")
def list_notifiers(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the notifiers of the config (the daemon's, with --api), secrets masked.

    Example: jobctl notifications notifiers
    """
    app_ctx: AppContext = ctx.obj
    data = app_ctx.service().list_notifiers()
    if as_json:
        output.print_json(data)
        return
    output.print_table(
        None, ["NAME", "TYPE", "TARGET"], [[n["name"], n["type"], n["target"]] for n in data["notifiers"]]
    )


@app.command("test")
def test_notifier(
    ctx: typer.Context,
    notifier: Annotated[str, typer.Argument(help="The notifier's name.")],
    as_json: JsonFlag = False,
) -> None:
    """Send a test event through NOTIFIER now; exit 1 when it was not delivered.

    A sample job (jobctl-test-job) and run fill every placeholder, as a real event would.

    Example: jobctl notifications test ops-mail
    """
    app_ctx: AppContext = ctx.obj
    result = app_ctx.service().test_notifier(notifier)
    if as_json:
        output.print_json(result)
    elif result["ok"]:
        output.print_line(f"test notification delivered through {notifier}")
    if not result["ok"]:
        if not as_json:  # the command's own failure (exit 1), not a warning beside a success
            raise JobctlError(f"test notification through {notifier} failed: {result['error']}")
        raise typer.Exit(1)
