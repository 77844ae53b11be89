"""``jobctl top``: a live view of the scheduler, local or through the API."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from jobctl.cli import output
from jobctl.cli.context import AppContext


def top(
    ctx: typer.Context,
    interval: Annotated[
        float, typer.Option("--interval", min=0.2, max=3600, help="Seconds between refreshes (0.2-3600).")
    ] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON (GET /overview) once.")] = False,
) -> None:
    """Watch the scheduler live: leader and instances, runs going on, next slots, recent failures
    and missed ranges, refreshed every second; q quits. When stdout is not a terminal, print
    one snapshot and exit.

    Example: jobctl top --interval 2
    """
    app_ctx: AppContext = ctx.obj
    service = app_ctx.service(reads_only=True)
    data = service.get_overview()
    if as_json:
        output.print_json(data)
        return
    from jobctl.cli.top_view import overview_lines

    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        for line in overview_lines(data):
            output.print_line(line)
        return
    from jobctl.cli.top_screen import run_live

    run_live(service.get_overview, interval=interval, first=data)
