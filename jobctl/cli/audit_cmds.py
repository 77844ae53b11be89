"""``jobctl audit``: who changed what, newest first (admin through the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from jobctl.cli import output
from jobctl.cli.context import AppContext
from jobctl.cli.tables import Column

if TYPE_CHECKING:
    from jobctl.service.contract import JobService


def audit(
    ctx: typer.Context,
    job: Annotated[
        str | None,
        typer.Option("--job", help="Only changes to this job (a deleted one by id).", metavar="JOB"),
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Only changes by this actor (token name or local:USER).", metavar="A")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From: ISO 8601 time, or a duration ago (24h, 7d).", metavar="TIME")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="How many entries, newest first (1-100).")] = 50,
    page: Annotated[int, typer.Option("--page", min=1, help="Page of --limit entries.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """Show the audit log: jobs created, updated, deleted, paused, resumed, enabled, disabled and
    triggered, tokens created and revoked, task functions synced; with who and when.

    Example: jobctl audit --job backup --since 7d
    """
    app_ctx: AppContext = ctx.obj
    service = app_ctx.service()
    job_id = None if job is None else _job_id(service, job)
    data = service.list_audit(job_id=job_id, actor=actor, since=since, page=page, per_page=limit)
    if as_json:
        output.print_json(data)
        return
    rows = [
        [
            output.local_time(entry["at"]),
            entry["actor"],
            entry["action"],
            entry["targetName"] or entry["targetId"] or "-",
            _summary(entry["reason"], entry["details"]),
        ]
        for entry in data["entries"]
    ]
    columns: list[str | Column] = ["TIME", Column("ACTOR", shrink=True), "ACTION", Column("TARGET", shrink=True),
                                   Column("WHAT", shrink=True)]  # fmt: skip
    shown = len(rows)
    footer = f"{shown} of {data['total']} entries" if shown < data["total"] else f"{data['total']} entries"
    output.print_table(None, columns, rows, footer=footer)


def _job_id(service: JobService, ref: str) -> str:
    """The job's id; the id itself for a job that was deleted (its entries stay)."""
    from jobctl.errors import NotFound
    from jobctl.wire.ids import is_uuid

    try:
        return service.resolve_job(ref)
    except NotFound:
        if is_uuid(ref):
            return ref
        raise


def _detail(key: str, value: object) -> str:
    """``key=value``; a mapping (``store.pruned``'s counts) as ``key: name value, ...``, not a Python repr."""
    if isinstance(value, dict):
        return f"{key}: " + ", ".join(f"{name} {count}" for name, count in value.items())
    return f"{key}={value}"


def _summary(reason: str | None, details: dict[str, object] | None) -> str:
    parts = [f"reason: {reason}"] if reason else []
    changes = (details or {}).get("changes")
    if isinstance(changes, dict):
        parts += [f"{name} {value.get('old')!r} -> {value.get('new')!r}" for name, value in changes.items()]
    elif details:
        parts += [_detail(key, value) for key, value in details.items() if key != "settings"]
    return "; ".join(parts) or "-"
