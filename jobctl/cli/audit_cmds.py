"""``jobctl audit``: who changed what, newest first (admin through the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from jobctl.cli import output, render
from jobctl.cli.context import AppContext
from jobctl.cli.paging import at_least_one
from jobctl.cli.tables import Column

if TYPE_CHECKING:
    from jobctl.service.contract import JobService
    from jobctl.wire.history import AuditList


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
        str | None,
        typer.Option(
            "--since",
            help="From: ISO 8601 time (no offset: [scheduler] timezone), or a duration ago (24h, 7d).",
            metavar="TIME",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", callback=at_least_one("--limit"), help="Show the newest N entries (default 50; not with --json)."
        ),
    ] = None,
    page: Annotated[int | None, typer.Option("--page", help="Only this page (default with --json: 1).")] = None,
    per_page: Annotated[
        int | None, typer.Option("--per-page", help="Entries per page, 1-100 (default with --json: 50).")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every entry (with --json: every page, in one answer).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """Show the audit log: jobs created, updated, deleted, paused, resumed, enabled, disabled and
    triggered, tokens created and revoked, task functions synced; with who and when.

    The newest 50 (--limit N), with a footer when there are more; with --json one page of the
    API's answer (--page, --per-page), or every entry (--all).

    Example: jobctl audit --job backup --since 7d
    """
    from datetime import UTC, datetime

    from jobctl.cli import paging
    from jobctl.cli.moments import history_time

    choice = paging.Choice(limit=limit, page=page, per_page=per_page, every=every, as_json=as_json).check()
    app_ctx: AppContext = ctx.obj
    # Read here, as export reads its times: without an offset in [scheduler] timezone, in both modes.
    start = history_time("--since", since, app_ctx.config.scheduler_timezone, datetime.now(UTC))
    service = app_ctx.service(reads_only=True)
    job_id = None if job is None else _job_id(service, job)
    sent = None if start is None else start.isoformat()

    def fetch(number: int, size: int) -> AuditList:
        return service.list_audit(job_id=job_id, actor=actor, since=sent, page=number, per_page=size)

    data = paging.read(fetch, "entries", choice)
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
    footer = render.listing_footer(len(rows), data["total"], noun="entry", page=choice.shown_page)
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
    """``key=value`` in the API's spelling (``force=true``, ``changed=["a","b"]``); a mapping
    (``store.pruned``'s counts) as ``key: name value, ...``."""
    from jobctl.wire.values import json_text

    if isinstance(value, dict):
        return f"{key}: " + ", ".join(f"{name} {json_text(count)}" for name, count in value.items())
    return f"{key}={json_text(value)}"


def _summary(reason: str | None, details: dict[str, object] | None) -> str:
    """The WHAT column: the reason, then each field an update changed (``maxInstances 1 -> 3``,
    the environment by variable names) or else the entry's details; a creation's full settings
    are left to --json."""
    from jobctl.cli.output import local_instants
    from jobctl.wire.values import change_text

    parts = [f"reason: {local_instants(reason, with_zone=True)}"] if reason else []  # as the TIME column
    changes = (details or {}).get("changes")
    if isinstance(changes, dict):
        parts += [change_text(name, change) for name, change in changes.items() if isinstance(change, dict)]
    elif details:
        parts += [_detail(key, value) for key, value in details.items() if key != "settings"]
    return "; ".join(parts) or "-"
