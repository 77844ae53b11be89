"""``jobctl cron explain``: what a crontab expression means and when it fires, before using it.

It needs no store and no daemon (nothing is opened or created), only the config for the
default zone, so it answers as fast as ``jobctl --help``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from jobctl.cli import output
from jobctl.cli.context import AppContext
from jobctl.cli.option_terms import options_message
from jobctl.errors import UsageError, ValidationFailed

if TYPE_CHECKING:
    from jobctl.schedules.explain import Explanation

app = typer.Typer(
    suggest_commands=False, help="Crontab expressions: check one before a job uses it.", no_args_is_help=True
)


_EXPLAIN_OPTIONS = {"from": "--from", "timezone": "--timezone", "count": "--count"}
"""Fields an explanation can refuse and the options that set them (the expression keeps ``cron``)."""


@app.command("explain")
def explain(
    ctx: typer.Context,
    expression: Annotated[str, typer.Argument(help="Five fields, six with seconds first, or @daily etc.")],
    timezone: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--timezone", help="Zone to read it in (default: [scheduler] timezone).", metavar="ZONE"),
    ] = None,
    count: Annotated[int, typer.Option("-n", "--count", help="How many next instants (1-100).")] = 5,
    start: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--from", help="List instants after TIME (ISO 8601; default now).", metavar="TIME"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show an expression's fields, its meaning in English, its next runs and its pitfalls.

    Example: jobctl cron explain '0 9 * * 1-5' --timezone Europe/Berlin -n 3
    """
    from jobctl.schedules.explain import explain as explain_expression
    from jobctl.schedules.iso_times import not_a_time
    from jobctl.schedules.zones import UnknownZone, load_zone, parse_iso

    app_ctx: AppContext = ctx.obj
    zone_name = timezone or app_ctx.config.scheduler_timezone
    after = datetime.now(UTC)
    try:
        if start is not None:
            try:
                after = parse_iso(start, load_zone(zone_name))
            except UnknownZone:
                raise ValidationFailed.field(["timezone"], f"unknown time zone {zone_name!r}") from None
            except ValueError:
                raise ValidationFailed.field(["from"], not_a_time(start)) from None
        result = explain_expression(expression, timezone=zone_name, after=after, count=count)
    except ValidationFailed as exc:
        raise UsageError(options_message(exc, _EXPLAIN_OPTIONS)) from None
    if as_json:
        output.print_json(result.as_json())
        return
    _print_human(result, after)


def _print_human(result: Explanation, after: datetime) -> None:
    """A few aligned lines; the relative times count from ``--from`` when it is given."""
    from jobctl.schedules.zones import format_utc

    lines = [f"expression   {result.expression}"]
    fields = "  ".join(f"{name.replace('day_of_week', 'weekday')}={value}" for name, value in result.fields.items())
    lines.append(f"fields       {fields}")
    lines.append(f"meaning      {result.description or '-'}")
    lines.append(f"timezone     {result.timezone}")
    lines.append("next runs" if result.next else "next runs    none")
    for instant in result.next:
        when = output.relative(format_utc(instant.utc), now=after)
        local = f"{instant.local:%a %Y-%m-%d %H:%M:%S %Z}"
        lines.append(f"  {local:<32} {format_utc(instant.utc):<22} {when}")
        if instant.note is not None:
            lines.append(f"    note: {instant.note.message}")
    notes = {instant.note for instant in result.next}
    for warning in result.warnings:
        if warning not in notes:  # already printed under its instant
            lines.append(f"warning: {warning.message}")
    for line in lines:
        output.print_line(line)
