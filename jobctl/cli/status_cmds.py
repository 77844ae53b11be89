"""``jobctl status``: is a scheduler running, who leads, what runs next."""

from __future__ import annotations

from typing import Annotated

import typer

from jobctl.cli import output, render
from jobctl.cli.context import AppContext


def status(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False
) -> None:
    """Show the scheduler's leader, its instances, job counts and the next job.

    Example: jobctl status
    """
    app_ctx: AppContext = ctx.obj
    data = app_ctx.service(reads_only=True).get_status()
    output.print_json(data) if as_json else render.status(data)
