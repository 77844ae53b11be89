"""``jobctl notifications ...``: what was sent to whom, the notifiers, and a test send."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from jobctl.cli import output
from jobctl.cli.context import AppContext
from jobctl.cli.paging import at_least_one
from jobctl.errors import JobctlError

if TYPE_CHECKING:
    from jobctl.wire.responses import NotificationList

app = typer.Typer(
    suggest_commands=False, help="Notifications: deliveries, notifiers and test sends.", no_args_is_help=True
)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]


@app.command("list")
def list_notifications(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Option("--job", help="Only this job's (name or id).", metavar="JOB")] = None,
    status: Annotated[str | None, typer.Option("--status", help="pending, sent or failed.")] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", callback=at_least_one("--limit"), help="Show the newest N (default 50; not with --json)."
        ),
    ] = None,
    page: Annotated[int | None, typer.Option("--page", help="Only this page (default with --json: 1).")] = None,
    per_page: Annotated[
        int | None, typer.Option("--per-page", help="Notifications per page, 1-100 (default with --json: 50).")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every one (with --json: every page, in one answer).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List notifications, newest first: event, job, notifier, status, attempts and the last error.

    The newest 50 (--limit N), with a footer when there are more; with --json one page of the
    API's answer (--page, --per-page), or every notification (--all). A sent delivery shows no
    error; --json keeps its last failed attempt's (lastFailedAttemptError).

    \b
    Examples:
      jobctl notifications list --status failed
      jobctl notifications list --job backup
    """
    from jobctl.cli import paging, render

    choice = paging.Choice(limit=limit, page=page, per_page=per_page, every=every, as_json=as_json).check()
    app_ctx: AppContext = ctx.obj
    service = app_ctx.service(reads_only=True)
    job_id = service.resolve_job(job) if job is not None else None  # --job "" names no job, not every job

    def fetch(number: int, size: int) -> NotificationList:
        return service.list_notifications(job_id=job_id, status=status, page=number, per_page=size)

    data = paging.read(fetch, "notifications", choice)
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
    footer = render.listing_footer(len(rows), data["total"], noun="notification", page=choice.shown_page)
    output.print_table(None, headers, rows, footer=footer)


@app.command("notifiers")
def list_notifiers(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the notifiers of the config (the daemon's, with --api), secrets masked.

    Example: jobctl notifications notifiers
    """
    app_ctx: AppContext = ctx.obj
    data = app_ctx.service(reads_only=True).list_notifiers()
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
