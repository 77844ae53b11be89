"""``jobctl apply`` and ``jobctl export``: jobs kept in a file (in git), applied and written back.

Both go through the service interface, so they work the same on a local store and through the
API (``POST /apply``; export reads ``GET /jobs`` and ``GET /task-functions``). What the file's
keys mean and how a plan is made: docs/jobs-files.md.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from jobctl.cli import output
from jobctl.cli.context import AppContext
from jobctl.errors import ValidationFailed

if TYPE_CHECKING:
    from jobctl.cli.jobs_file import JobsFile
    from jobctl.service.contract import JobService


class ExportFormat(StrEnum):
    TOML = "toml"
    JSON = "json"
    CRONTAB = "crontab"


def apply(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Option("-f", "--file", help="Jobs file (TOML, or .json); - reads stdin.", metavar="FILE")
    ],
    source: Annotated[
        str | None,
        typer.Option(
            "--source", help="Name the jobs are recorded under (default: the file's absolute path).", metavar="NAME"
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete jobs of this source that the file no longer holds.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as the API's JSON.")] = False,
    allow_empty: Annotated[
        bool,
        typer.Option("--allow-empty", help="With --prune, let a file of no jobs delete every job of its source."),
    ] = False,
) -> None:
    """Make the jobs of a jobs file exist as it says: create, update (and with --prune delete).

    Jobs are known by name; each [[jobs]] table declares the whole job (keys left out take their
    defaults), but a table without paused keeps a job's pause. Nothing changes unless every job
    is valid; a second apply of the same file changes nothing. A file of no jobs with --prune is
    refused (exit 2) unless --allow-empty is given.

    \b
    Examples:
      jobctl apply -f jobs.toml --dry-run
      jobctl apply -f jobs.toml --prune
      jobctl export -o jobs.toml && jobctl --db sqlite:///other.db apply -f jobs.toml
    """
    from jobctl.cli.jobs_file import read_jobs_file
    from jobctl.cli.plan_render import print_plan
    from jobctl.errors import UsageError

    if file == "-" and not source:
        raise UsageError("give --source NAME when the jobs file comes from stdin (-f -)")
    jobs_file = read_jobs_file(file)
    name = source or default_source(file)
    service = _ctx(ctx).service()
    try:
        plan = service.apply_jobs(
            source=name, jobs=jobs_file.tables, prune=prune, dry_run=dry_run, allow_empty=allow_empty
        )
    except ValidationFailed as exc:
        _report(jobs_file, exc)
    output.print_json(plan) if as_json else print_plan(plan, dry_run=dry_run)
    if not dry_run and (plan["created"] or plan["updated"]):
        from jobctl.cli.jobs_cmds import warn_if_nothing_runs

        warn_if_nothing_runs(_ctx(ctx))
    if prune and not source:
        _warn_of_jobs_under_the_files_name(service, file, jobs_file)


def default_source(file: str) -> str:
    """The source of a file applied without ``--source``: its absolute path, symbolic links
    resolved, as ``import crontab`` names a crontab. Computed here, by the client, so through
    ``--api`` it is the client's path too. A file's name alone (what apply recorded before) is
    shared by every directory's ``jobs.toml``, and ``--prune`` of one deleted the other's jobs.

    :raises UsageError: for a path longer than a source may be (give ``--source``).
    """
    from jobctl.errors import UsageError
    from jobctl.wire.requests import SOURCE_MAX

    path = str(Path(file).resolve())
    if len(path) > SOURCE_MAX:
        raise UsageError(f"the path of {file} is over {SOURCE_MAX} characters, the longest source: give --source NAME")
    return path


def _warn_of_jobs_under_the_files_name(service: JobService, file: str, jobs_file: JobsFile) -> None:
    """Warn of the jobs that still have the file's name as their source (how apply recorded
    them before it recorded the path) and that the file does not hold: ``--prune`` leaves them,
    since a ``jobs.toml`` of another directory may hold them. The ones the file holds were
    adopted by name (the plan's ``source NAME -> PATH``)."""
    from jobctl.cli import listing

    old = Path(file).name
    held = {table.get("name") for table in jobs_file.tables if isinstance(table, dict)}
    left = sorted(job["name"] for job in listing.every_job_of(service)["jobs"] if job["source"] == old)
    left = [job_name for job_name in left if job_name not in held]
    if left:
        names = ", ".join(repr(job_name) for job_name in left)
        output.warn(
            f"not pruned: {names}: source {old!r}, a file's name as apply recorded it before it recorded the path, "
            f"so another directory's {old} may hold them: apply that file, or delete them with jobctl jobs delete"
        )


def export(
    ctx: typer.Context,
    jobs: Annotated[
        list[str] | None, typer.Argument(help="Jobs (id or name); default: every job.", metavar="[JOB]...")
    ] = None,
    export_format: Annotated[
        ExportFormat, typer.Option("--format", help="toml (default), json, or crontab.", case_sensitive=False)
    ] = ExportFormat.TOML,
    out: Annotated[
        str | None,
        typer.Option("-o", "--output", help="Write to FILE instead of stdout (-: stdout).", metavar="FILE"),
    ] = None,
) -> None:
    """Write jobs as a jobs file that apply reads back (or as a crontab that import crontab reads back).

    Jobs are sorted by name; settings at their defaults are left out. A job the format cannot
    hold is left out with a warning. In a crontab, zone, shell, MAILTO and variables are lines
    above the jobs that use them; a job no crontab holds is a comment saying why, and a line
    jobctl: not exported: JOB: why on stderr, and the exit code is 1. A new -o FILE is mode
    0600 (it holds the jobs' secrets); an existing one keeps its mode.

    \b
    Examples:
      jobctl export -o jobs.toml
      jobctl export backup report --format json
      jobctl export --format crontab
    """
    from jobctl.cli import export_formats
    from jobctl.errors import UsageError

    if out == "-":  # standard output, as for executions export and as - is standard input to apply
        out = None
    if out == "":
        raise UsageError("-o is empty: give a file to write the jobs to, or - for standard output")
    app_ctx = _ctx(ctx)
    if out is not None:
        from jobctl.cli.export import refuse_the_store

        store_file = None  # through --api: any SQLite file is refused, the daemon's store among them
        if not app_ctx.is_remote():
            from jobctl.store.url import parse_store_url

            store_file = parse_store_url(app_ctx.store_url()).sqlite_path  # else the store is overwritten
        refuse_the_store(out, store_file)
    service = app_ctx.service(reads_only=True)
    tables, skipped = export_tables(service, jobs or [])
    refused: list[tuple[str, str]] = []
    if export_format == ExportFormat.CRONTAB:
        text, refused = _crontab(service, tables, skipped)
    elif export_format == ExportFormat.JSON:
        text = export_formats.json_text(tables)
    else:
        text = export_formats.toml_text(tables)
    if export_format != ExportFormat.CRONTAB:
        for name, why in skipped:
            output.warn(f"not exported: {name}: {why}")
    if out is None:
        output.data_stream().write(text)
    else:
        _write_file(out, text)
    for name, why in refused:
        output.print_diagnostic(f"jobctl: not exported: {name}: {why}")
    if refused:
        raise typer.Exit(1)


def _write_file(path: str, text: str) -> None:
    """Write the export to ``path`` as ``executions export`` writes its FILE: a new file is its
    owner's alone from its creation (it holds the jobs' environment values, stdin and task
    arguments), an existing one keeps its mode, and a plain file is replaced whole or not at all.

    :raises UsageError: when it cannot be written.
    """
    from jobctl.cli.export import Destination

    with Destination(path) as target:
        target.write_text(text)
        target.finish()


def _crontab(
    service: JobService, tables: list[dict[str, Any]], skipped: list[tuple[str, str]]
) -> tuple[str, list[tuple[str, str]]]:
    """The crontab of ``tables`` and the jobs it cannot hold, with why (docs/crontab-import.md).
    Its ``MAILTO`` lines name addresses of the notifiers the import would read them with: the
    store's config locally, the daemon's through ``--api``."""
    from datetime import UTC, datetime

    from jobctl.service.crontab_export import crontab_export
    from jobctl.service.crontab_import import mail_routes

    notified = any(table.get("notify") for table in tables)
    routes = mail_routes(service.list_notifiers()["notifiers"]) if notified else {}
    result = crontab_export(tables, mail_routes=routes, now=datetime.now(UTC), skipped=skipped)
    return result.text, result.refused


def export_tables(service: JobService, refs: list[str]) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The ``[[jobs]]`` tables of the jobs named (every job when none), sorted by name, and the
    jobs no table can hold, with the reason."""
    from jobctl.cli import listing
    from jobctl.wire.job_tables import NotExportable, table_from_fields

    if refs:
        ids = dict.fromkeys(service.resolve_job(ref) for ref in refs)  # a job named twice (by name, id, prefix) once
        jobs: list[Any] = [service.get_job(job_id) for job_id in ids]
    else:
        jobs = listing.every_job_of(service)["jobs"]
    task_names = _task_function_names(service)
    tables, skipped = [], []
    for job in sorted(jobs, key=lambda job: job["name"]):
        try:
            tables.append(table_from_fields(job, task_name=task_names.get(job["taskFunctionId"], "?")))
        except NotExportable as exc:
            skipped.append((job["name"], exc.message))
    return tables, skipped


def _task_function_names(service: JobService) -> dict[int, str]:
    from jobctl.cli import listing

    names: dict[int, str] = {}
    page = 1
    while True:
        result = service.list_task_functions(page=page, per_page=listing.PAGE)
        names.update({tf["id"]: tf["name"] for tf in result["taskFunctions"]})
        if not result["taskFunctions"] or page * listing.PAGE >= result["total"]:
            return names
        page += 1


def _report(jobs_file: JobsFile, exc: ValidationFailed) -> NoReturn:
    """Every error on its own line, ``FILE:LINE: error: job 'NAME': KEY: message``; exit 2 (nothing
    was applied: the service checks every job before it writes)."""
    from jobctl.cli.terminal import printable
    from jobctl.wire.job_tables import NO_JOBS, in_cli_terms

    for error in _in_line_order(jobs_file, exc.errors):
        loc = [part for part in error.get("loc", []) if part != "body"]
        where = jobs_file.path
        if error.get("type") == NO_JOBS:
            message = in_cli_terms(str(error.get("msg")))
        elif len(loc) >= 2 and loc[0] == "jobs" and isinstance(loc[1], int):
            line = jobs_file.line_of(loc[1], str(loc[2]) if len(loc) > 2 else None)
            where = f"{where}:{line}" if line else f"{where}: job #{loc[1] + 1}"
            message = str(error.get("msg"))
        else:
            message = f"{'.'.join(str(part) for part in loc)}: {error.get('msg')}" if loc else str(error.get("msg"))
        sys.stderr.write(printable(f"{where}: error: {message}") + "\n")
    raise typer.Exit(2)


def _in_line_order(jobs_file: JobsFile, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``errors`` with each job's in the order of their lines, as a compiler reports them: the
    service finds them key kind by key kind (the keys it reads itself, then the model's), which
    put line 8 before line 6. Jobs stay in file order; errors of no job come first."""

    def place(numbered: tuple[int, dict[str, Any]]) -> tuple[int, int, int]:
        order, error = numbered
        loc = [part for part in error.get("loc", []) if part != "body"]
        if len(loc) >= 2 and loc[0] == "jobs" and isinstance(loc[1], int):
            line = jobs_file.line_of(loc[1], str(loc[2]) if len(loc) > 2 else None)
            return loc[1], line or 0, order
        return -1, 0, order

    return [error for _, error in sorted(enumerate(errors), key=place)]


def _ctx(ctx: typer.Context) -> AppContext:
    obj: AppContext = ctx.obj
    return obj


def register(app: typer.Typer) -> None:
    app.command("apply")(apply)
    app.command("export")(export)
