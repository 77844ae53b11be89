"""``jobctl task-functions ...`` and ``jobctl job-types``: what can be scheduled, and how."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from jobctl.cli import output
from jobctl.cli.context import AppContext
from jobctl.cli.paging import at_least_one
from jobctl.cli.tables import Column

if TYPE_CHECKING:
    from jobctl.wire.responses import TaskFunctionList

app = typer.Typer(suggest_commands=False, help="Task functions: what jobs can run.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]


@app.command("list")
def list_task_functions(
    ctx: typer.Context,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Only active (or inactive) ones.", show_default=False)
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", callback=at_least_one("--limit"), help="Show the first N (default 50; not with --json)."
        ),
    ] = None,
    page: Annotated[int | None, typer.Option("--page", help="Only this page (default with --json: 1).")] = None,
    per_page: Annotated[
        int | None, typer.Option("--per-page", help="Entries per page, 1-100 (default with --json: 50).")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every one (with --json: every page, in one answer).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List task functions: the first 50 (--limit N), with a footer when there are more; with
    --json one page of the API's answer (--page, --per-page), or every one (--all).

    Example: jobctl task-functions list --active
    """
    from jobctl.cli import paging, render

    choice = paging.Choice(limit=limit, page=page, per_page=per_page, every=every, as_json=as_json).check()
    app_ctx: AppContext = ctx.obj
    service = app_ctx.service(reads_only=True)

    def fetch(number: int, size: int) -> TaskFunctionList:
        return service.list_task_functions(is_active=active, page=number, per_page=size)

    data = paging.read(fetch, "taskFunctions", choice)
    if as_json:
        output.print_json(data)
        return
    rows = [
        [
            str(tf["id"]),
            tf["name"],
            tf["handlerType"],
            tf["handlerPath"],
            tf["queue"] or "-",
            "yes" if tf["isActive"] else output.Markup("[dim]no[/dim]"),
            "yes" if tf["isSystem"] else "no",
        ]
        for tf in data["taskFunctions"]
    ]
    output.print_table(
        None,
        TASK_FUNCTION_COLUMNS,
        rows,
        footer=render.listing_footer(
            len(rows), data["total"], noun="task function", page=choice.shown_page, newest_first=False
        ),
    )


TASK_FUNCTION_COLUMNS = (
    Column("ID"),
    Column("NAME", shrink=True),
    Column("TYPE"),
    Column("HANDLER", shrink=True, min_width=12),
    Column("QUEUE", keep=4),
    Column("ACTIVE"),
    Column("SYSTEM", keep=3),
)


@app.command("sync")
def sync(ctx: typer.Context) -> None:
    """Upsert the config's [[task_functions]] into the store; mark the ones that left it inactive.

    Example: jobctl --config /etc/jobctl/jobctl.toml task-functions sync
    """
    from jobctl.service.registry import sync_task_functions

    app_ctx: AppContext = ctx.obj
    report = sync_task_functions(app_ctx.direct_store("jobctl task-functions sync"), app_ctx.config.task_functions)
    output.print_line(
        f"synced {len(report.upserted)} task function(s)"
        + (f"; marked inactive: {', '.join(report.deactivated)}" if report.deactivated else "")
    )


def job_types(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the schedule types (1 interval, 2 cron, 3 date).

    Example: jobctl job-types --json
    """
    app_ctx: AppContext = ctx.obj
    data = app_ctx.service().list_job_types()
    if as_json:
        output.print_json(data)
        return
    rows = [[str(t["id"]), t["name"], t["displayName"], t["description"] or ""] for t in data]
    output.print_table(None, ["ID", "NAME", "DISPLAY NAME", Column("DESCRIPTION", shrink=True, min_width=12)], rows)
