"""``jobctl import crontab``: bring a crontab in as jobs, through the apply machinery.

The crontab is read and linted here (no store needed for that), each job line becomes a
``[[jobs]]`` table (:mod:`jobctl.service.crontab_import`), and the tables go to the service's
``apply_jobs`` with the source ``crontab:NAME``: locally in one store transaction, remotely
as ``POST /apply``. So a re-import changes nothing, ``--prune`` deletes only the jobs whose
lines are gone, and an error anywhere writes nothing. The file itself is only read.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from jobctl.cli import output
from jobctl.cli.context import AppContext
from jobctl.cli.jobs_file import MAX_FILE_BYTES
from jobctl.errors import UsageError, ValidationFailed

if TYPE_CHECKING:
    from jobctl.schedules.crontab_file import LintIssue
    from jobctl.service.crontab_import import ImportedJob

app = typer.Typer(suggest_commands=False, help="Bring jobs in from elsewhere.", no_args_is_help=True)

MAX_BYTES = MAX_FILE_BYTES
"""The largest crontab read (1 MiB), the limit of a jobs file: beyond it, a clear error."""
STDIN = "-"


@app.command("crontab")
def import_crontab(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="The crontab to read; - (default) reads standard input.")] = STDIN,
    system: Annotated[
        bool, typer.Option("--system", help="System format (/etc/crontab, /etc/cron.d/*): a user after the times.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Lint and show the plan; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the lint and the plan as JSON.")] = False,
    prefix: Annotated[str, typer.Option("--prefix", help="Put P in front of every job name.", metavar="P")] = "",
    strict: Annotated[bool, typer.Option("--strict", help="Refuse on warnings too (exit 2).")] = False,
    skip_unsupported: Annotated[
        bool, typer.Option("--skip-unsupported", help="Leave out @reboot lines (with a warning) instead of refusing.")
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete the jobs of this crontab whose lines are gone.")
    ] = False,
    name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--name",
            help="The crontab's name in the source crontab:NAME (default: FILE's path; stdin for -).",
            metavar="NAME",
        ),
    ] = None,
    allow_empty: Annotated[
        bool,
        typer.Option("--allow-empty", help="With --prune, let a crontab of no jobs delete every job of its source."),
    ] = False,
) -> None:
    """Import a crontab as jobs: lint it, then create, update (and with --prune delete) its jobs.

    Lint lines go to stderr as FILE:LINE: error|warning: message (with --json only into the
    JSON's issues, as every --json command keeps to stdout what its JSON holds). Errors (and
    with --strict, warnings) write nothing and exit 2.

    Example: crontab -l | jobctl import crontab - --dry-run
    """
    from jobctl.schedules.crontab_file import parse_crontab
    from jobctl.service.crontab_import import crontab_jobs, mail_routes, source_name, uses_mailto

    app_ctx: AppContext = ctx.obj
    text = read_crontab(file)
    shown = "<stdin>" if file == STDIN else file
    source = source_name(name or ("stdin" if file == STDIN else str(Path(file).resolve())))
    crontab = parse_crontab(
        text,
        system=system,
        default_timezone=app_ctx.config.scheduler_timezone,
        now=datetime.now(UTC),
        skip_unsupported=skip_unsupported,
    )
    routes = mail_routes(app_ctx.service().list_notifiers()["notifiers"]) if uses_mailto(crontab) else {}
    jobs, more = crontab_jobs(crontab, prefix=prefix, mail_routes=routes)
    issues = sorted([*crontab.issues, *more], key=lambda issue: issue.line)
    if not as_json:
        _print_issues(shown, issues)  # before applying: a refusal of apply (exit 4, 5) keeps them
    refused = [issue for issue in issues if issue.severity == "error" or strict]
    plan: Any = None
    if not refused:
        try:
            plan = app_ctx.service().apply_jobs(
                source=source, jobs=[job.table for job in jobs], prune=prune, dry_run=dry_run, allow_empty=allow_empty
            )
        except ValidationFailed as exc:
            rejected = _rejections(exc, jobs)
            if not as_json:
                _print_issues(shown, rejected)
            issues, refused = [*issues, *rejected], rejected
    if as_json:
        output.print_json(_document(shown, source, issues, plan, dry_run=dry_run))
    elif plan is not None:
        from jobctl.cli.plan_render import print_plan

        print_plan(plan, dry_run=dry_run)
    if plan is not None and not dry_run and (plan["created"] or plan["updated"]):
        from jobctl.cli.jobs_cmds import warn_if_nothing_runs

        warn_if_nothing_runs(app_ctx)
    if refused and as_json:
        raise typer.Exit(2)  # the JSON says it: its issues, and a null plan
    if refused:
        only_warnings = not any(issue.severity == "error" for issue in refused)
        what = ("warning" if only_warnings else "error") + ("" if len(refused) == 1 else "s")
        output.print_diagnostic(
            f"jobctl: {shown}: {len(refused)} {what}{' (--strict)' if only_warnings else ''}: nothing imported"
        )
        raise typer.Exit(2)


def read_crontab(file: str) -> str:
    """The text of FILE (or standard input), at most :data:`MAX_BYTES`, as UTF-8.

    :raises UsageError: when it cannot be read, is too large or is not UTF-8 text.
    """
    shown = "standard input" if file == STDIN else file
    try:
        if file == STDIN:
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with open(file, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {shown}: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise UsageError(f"{shown} is over the 1 MiB limit ({MAX_BYTES} bytes): split it into several crontabs")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{shown} is not UTF-8 text (byte {exc.start})") from None


def _rejections(exc: ValidationFailed, jobs: list[ImportedJob]) -> list[LintIssue]:
    """What apply refused, at the crontab line of each job (its ``loc`` holds the job's index)."""
    from jobctl.schedules.crontab_file import LintIssue
    from jobctl.wire.job_tables import NO_JOBS, in_cli_terms

    found: list[LintIssue] = []
    for error in exc.errors:
        if error.get("type") == NO_JOBS:  # of the whole crontab, not of a line
            found.append(LintIssue(line=0, severity="error", code="no_jobs", message=in_cli_terms(error["msg"])))
            continue
        loc = [part for part in error.get("loc", []) if part != "body"]
        index = loc[1] if len(loc) > 1 and loc[0] == "jobs" and isinstance(loc[1], int) else None
        line = jobs[index].line if index is not None and 0 <= index < len(jobs) else 0
        where = ".".join(str(part) for part in loc[2:])
        message = str(error.get("msg", "invalid"))
        if where and f"{where}: " not in message:  # apply's messages name the job and key already
            message = f"{where}: {message}"
        found.append(LintIssue(line=line, severity="error", code="invalid_job", message=message))
    return found


def _print_issues(shown: str, issues: list[LintIssue]) -> None:
    for issue in issues:
        where = f"{shown}:{issue.line}" if issue.line else shown  # line 0: the whole crontab
        output.print_diagnostic(f"{where}: {issue.severity}: {issue.message}")


def _document(shown: str, source: str, issues: list[LintIssue], plan: Any, *, dry_run: bool) -> dict[str, Any]:
    """The ``--json`` output: the lint (each with its code) and the plan (null when refused)."""
    return {
        "file": shown,
        "source": source,
        "dryRun": dry_run,
        "issues": [{"line": i.line, "severity": i.severity, "code": i.code, "message": i.message} for i in issues],
        "plan": plan,
    }
