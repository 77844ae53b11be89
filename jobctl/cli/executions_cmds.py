"""``jobctl executions ...``: list, show, tail and cancel the runs of jobs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from jobctl.cli import output, render
from jobctl.cli.context import AppContext
from jobctl.cli.paging import at_least_one

if TYPE_CHECKING:
    from jobctl.service.contract import JobService
    from jobctl.wire.responses import ExecutionList

app = typer.Typer(suggest_commands=False, help="Inspect runs and their output.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since", help="Only runs recorded at or after TIME: ISO 8601 or a duration ago (24h, 7d).", metavar="TIME"
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option("--until", help="Only runs recorded before TIME: ISO 8601, a duration ago or now.", metavar="TIME"),
]


@app.command("list")
def list_executions(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Option("--job", help="Only runs of this job (name or id).", metavar="JOB")] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="pending, running, success, failed, timeout, skipped, missed or cancelled."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", callback=at_least_one("--limit"), help="Show the newest N runs (default 50; not with --json)."
        ),
    ] = None,
    page: Annotated[int | None, typer.Option(help="Only this page (default with --json: 1).")] = None,
    per_page: Annotated[int | None, typer.Option(help="Runs per page, 1-100 (default with --json: 50).")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every run (with --json: every page, in one answer).")] = False,
    since: SinceOption = None,
    until: UntilOption = None,
    after: Annotated[
        str | None,
        typer.Option("--after", help="Only the page after CURSOR (a nextCursor of --json).", metavar="CURSOR"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List runs, newest first: the latest 50 (--limit N), with a footer when there are more.
    Times without an offset are in [scheduler] timezone, as in executions export.

    With --json: one page of the API's answer (--page, --per-page; --after the nextCursor of
    the page before), or every run (--all).

    \b
    Examples:
      jobctl executions list --job backup --status failed
      jobctl executions list --limit 200
      jobctl executions list --since 24h --status failed
    """
    from jobctl.cli import listing
    from jobctl.service.windows import check_order

    app_ctx: AppContext = ctx.obj
    numbered = page is not None or per_page is not None
    paged = numbered or after is not None
    _check_choice(limit=limit is not None, paged=numbered, every=every, as_json=as_json, cursor=after is not None)
    zone, now = app_ctx.config.scheduler_timezone, datetime.now(UTC)
    from jobctl.cli.moments import history_time

    start, end = history_time("--since", since, zone, now), history_time("--until", until, zone, now)
    check_order(start, end)
    service = app_ctx.service(reads_only=True)
    job_id = service.resolve_job(job) if job is not None else None  # --job "" names no job, not every job

    def fetch(number: int, size: int, cursor: str | None = None) -> ExecutionList:
        return service.list_executions(
            job_id=job_id, status=status, page=number, per_page=size, after=cursor, since=start, until=end
        )

    if every:
        data = listing.every_execution(service.stream_executions(job_id=job_id, status=status, since=start, until=end))
    elif paged or as_json:
        data = fetch(1 if page is None else page, DEFAULT_LIMIT if per_page is None else per_page, after)
    else:
        data = listing.first_items(fetch, "executions", limit or DEFAULT_LIMIT)
    if as_json:
        output.print_json(data)
        return
    names = listing.job_names(service, {e["jobId"] for e in data["executions"]})
    shown, total = len(data["executions"]), data["total"]
    shown_page = (1 if page is None else page, DEFAULT_LIMIT if per_page is None else per_page) if numbered else None
    if total is None:  # a page after a cursor: the API counts nothing then
        footer = render.after_cursor_footer(shown, "run", data["nextCursor"])
    else:
        footer = render.executions_footer(shown, total, page=shown_page)
    render.executions_table(data, names, footer=footer)


DEFAULT_LIMIT = 50
"""Runs shown to people unless --limit says otherwise (and the API's default page size)."""


def _check_choice(*, limit: bool, paged: bool, every: bool, as_json: bool, cursor: bool = False) -> None:
    """One way of choosing runs: --limit (people), --page/--per-page, or --all, as in every
    listing; ``--after`` (``cursor``) is one more way of asking for a page, worded as ``jobs list``
    words it."""
    from jobctl.cli.paging import check_choice
    from jobctl.errors import UsageError

    if cursor and every:
        raise UsageError("give either --all or --page/--per-page/--after")
    if cursor and limit:
        raise UsageError("give one of --limit, --page/--per-page/--after and --all")
    check_choice(limit=limit, paged=paged, every=every, as_json=as_json)


@app.command("export")
def export(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Option("--job", help="Only runs of this job (name or id).", metavar="JOB")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    fmt: Annotated[str, typer.Option("--format", help="csv, json or ndjson.", metavar="FORMAT")] = "csv",
    to: Annotated[
        str | None, typer.Option("-o", "--output", help="Write to FILE (default, or -: stdout).", metavar="FILE")
    ] = None,
) -> None:
    """Write every run matching the filters, newest first, streaming (constant memory for
    millions of runs); times without an offset are in [scheduler] timezone. A plain -o FILE is
    replaced only once the export is whole: bad input or a failure midway leaves it as it was.
    A new FILE is mode 0600 (run output can hold secrets); an existing one keeps its mode.

    \b
    Examples:
      jobctl executions export --job backup --since 2026-11-01 --format ndjson -o backup.ndjson
      jobctl executions export --since 7d --format csv > runs.csv
    """
    from jobctl.cli import export as exporting
    from jobctl.errors import UsageError
    from jobctl.service.windows import check_order

    app_ctx: AppContext = ctx.obj
    if fmt not in exporting.FORMATS:
        raise UsageError(f"--format must be one of {', '.join(exporting.FORMATS)}, not {fmt!r}")
    if to == "-":  # standard output, as - is standard input to --from-json and import crontab
        to = None
    from jobctl.cli.moments import history_time

    zone, now = app_ctx.config.scheduler_timezone, datetime.now(UTC)
    start, end = history_time("--since", since, zone, now), history_time("--until", until, zone, now)
    check_order(start, end)  # the service's rule, before -o is touched
    with exporting.Destination(to) as target:  # checks -o; FILE itself is not touched yet
        store_file = None  # through --api: any SQLite file is refused, the daemon's store among them
        if not app_ctx.is_remote():
            store = app_ctx.store(create=False)  # exporting from a mistyped path is an error, not a new empty store
            store_file = store.url.sqlite_path
        exporting.refuse_the_store(to, store_file)
        service = app_ctx.service()
        job_id = service.resolve_job(job) if job is not None else None  # --job "" names no job, not every job
        rows = exporting.walk(service.stream_executions(job_id=job_id, since=start, until=end))
        count = target.write(rows, fmt)  # the first page was read: the export starts
        target.finish()
    output.note(f"exported {count} runs" + (f" to {to}" if to else ""))


@app.command("show")
def show(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(help="Execution id, or a unique prefix of it.", metavar="ID")],
    as_json: JsonFlag = False,
) -> None:
    """Show one run and its output.

    Example: jobctl executions show 3f2c9a4e
    """
    from jobctl.cli.listing import job_names

    app_ctx: AppContext = ctx.obj
    service = app_ctx.service(reads_only=True)
    data = service.get_execution(service.resolve_execution(execution_id))
    if as_json:
        output.print_json(data)
        return
    render.execution_detail(data, job_names(service, [data["jobId"]]).get(data["jobId"]))
    log = service.get_execution_log(data["id"], offset=0)
    note = render.truncation_note(data)
    if note:
        output.print_line(f"  {note}")
    if log["data"]:
        output.print_line("  output:")
        output.print_output(log["data"])


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(help="Execution id, or a unique prefix of it.", metavar="ID")],
    as_json: JsonFlag = False,
) -> None:
    """Cancel a run: a waiting one ends at once, a running one is stopped (TERM, then KILL after
    the kill grace, on its whole process group) and recorded cancelled. Exit 4 if it already
    ended, or ended on its own (succeeded) before it could be stopped.

    Example: jobctl executions cancel 3f2c9a4e
    """
    from jobctl.errors import Conflict

    app_ctx: AppContext = ctx.obj
    service = app_ctx.service()
    data = service.cancel_execution(service.resolve_execution(execution_id))
    if as_json:
        output.print_json(data)
    elif data["status"] == "cancelled":
        output.print_line(render.cancel_summary(data))
    if data["status"] != "cancelled":  # nothing was cancelled: as for a run that had already ended
        raise Conflict(
            f"execution {data['id']} ended {data['status']} before it could be stopped; nothing was cancelled"
        )


@app.command("wait")
def wait(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(help="Execution id or prefix.", metavar="ID")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the ended run as the API's JSON.")] = False,
) -> None:
    """Wait until a run has ended, then exit as jobctl run does: 0 on success, the job's exit
    code, 124 on timeout, 128+N when signal N killed it, 1 otherwise (cancelled, skipped,
    missed, failed without a code); how it ended is one line on stderr.

    Ctrl-C stops waiting (exit 130) and leaves the run alone: executions cancel stops it.

    \b
    Examples:
      id=$(jobctl jobs trigger backup) && jobctl executions wait "$id"
      jobctl executions wait 3f2c9a4e --json | jq .durationSeconds
    """
    from jobctl.cli.follow import exit_code_of, say_how_it_ended, wait_for_the_end

    app_ctx: AppContext = ctx.obj
    service = app_ctx.service(reads_only=True)
    final = wait_for_the_end(service, service.resolve_execution(execution_id))
    if as_json:
        output.print_json(final)
    say_how_it_ended(final)
    raise typer.Exit(exit_code_of(final))


@app.command("tail")
def tail(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(help="Execution id or prefix, else a job name or id (default: all jobs).", metavar="[ID|JOB]"),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep following: this run to its end, or new runs as they start.")
    ] = False,
    runs: Annotated[
        int, typer.Option("--runs", "-n", min=1, max=100, help="For a job (or all jobs): start with the latest N runs.")
    ] = 1,
) -> None:
    """Print the output of a run; with -f, follow it live (or a job's runs, or every job's, as they start).

    For a job, it shows its latest run (or the latest N with -n N): one that started, as
    skipped slots and missed ranges are no runs; -f then shows each run as it starts. With
    headers (-f, -n N) each run's header and result go to stderr.

    \b
    Examples:
      jobctl executions tail 3f2c9a4e -f
      jobctl executions tail backup -f
      jobctl executions tail backup -n 5
    """
    from jobctl.cli.follow import follow_executions, show_runs, started_runs, stream_output

    app_ctx: AppContext = ctx.obj
    service = app_ctx.service(reads_only=True)
    execution_id, job_id = _tail_target(service, target) if target is not None else (None, None)
    if execution_id is not None:
        stream_output(service, execution_id, follow=follow)
        return
    if follow:
        follow_executions(service, job_id=job_id, latest=runs)
    else:
        latest = list(reversed(started_runs(service, job_id, at_least=runs)[:runs]))
        show_runs(service, latest, follow=False, headers=runs > 1)


def _tail_target(service: JobService, target: str) -> tuple[str | None, str | None]:
    """``(execution_id, None)`` or ``(None, job_id)`` for what ``tail TARGET`` names.

    In this order: a whole execution id, a job's exact name, a unique execution id prefix,
    a job id or unique job id prefix (``docs/id-prefixes.md``). :raises NotFound, AmbiguousId:
    """
    from jobctl.errors import ExecutionGone, NotFound
    from jobctl.wire import ids

    try:
        job_id: str | None = service.resolve_job(target)
    except NotFound:
        job_id = None
    if job_id is not None and service.get_job(job_id)["name"] == target:
        return None, job_id
    try:
        return service.resolve_execution(target), None
    except ExecutionGone:
        raise
    except NotFound:
        if job_id is None:  # a whole id may be a run's that retention removed (a job is deleted, not pruned)
            note = ids.MAY_BE_PRUNED if ids.is_uuid(target) else None
            raise NotFound("job or execution", target, note=note) from None
    return None, job_id
