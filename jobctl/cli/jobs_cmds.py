"""``jobctl jobs ...``: list, show, why, create, update, delete, enable, disable, pause, resume, trigger."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Optional, get_type_hints

import typer

from jobctl.cli import output, render
from jobctl.cli.context import AppContext
from jobctl.cli.job_options import (
    JobOptions,
    body_errors_as_typed,
    body_from_options,
    job_body_from_json,
    task_by_name,
)
from jobctl.cli.paging import at_least_one
from jobctl.errors import ValidationFailed

if TYPE_CHECKING:
    from jobctl.wire.job_keys import SettingKey
    from jobctl.wire.responses import JobList

app = typer.Typer(suggest_commands=False, help="Create, change and inspect jobs.", no_args_is_help=True)

JobArg = Annotated[str, typer.Argument(help="Job id or unique name.", metavar="JOB")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
Every = Annotated[Optional[str], typer.Option("--every", help="Interval, e.g. 30s, 5m, 1h30m, 1d.", metavar="DURATION")]  # noqa: UP045
Cron = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--cron",
        help=(
            "Crontab expression: 5 fields (minute hour day month weekday), e.g. '0 2 * * *', or 6 with "
            "seconds FIRST (second minute hour day month weekday), e.g. '*/10 * * * * *' every 10 s, "
            "'0 0 12 * * *' noon. Six fields valid only with seconds last are refused, showing both readings."
        ),
        metavar="EXPR",
    ),
]
At = Annotated[
    str | None,
    typer.Option("--at", help="Run once at TIME (ISO 8601, or 'YYYY-MM-DD HH:MM' local).", metavar="TIME"),
]
Zone = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        help="Zone for --cron/--at (default: the job's on update, else [scheduler] timezone); on update alone, "
        "moves a cron or date job to ZONE, keeping its wall times.",
        metavar="ZONE",
    ),
]
Task = Annotated[Optional[str], typer.Option("--task", help="Task function name.", metavar="NAME")]  # noqa: UP045
Args = Annotated[
    list[str] | None,
    typer.Option(
        "--arg",
        help="Task argument KEY=VALUE, with --task or --command (e.g. shell=/bin/bash); repeatable; on update, "
        "added to the job's or changed (--task gives them all).",
        metavar="K=V",
    ),
]
Command = Annotated[
    str | None,
    typer.Option(
        "--command",
        help="Shell command (runs with /bin/sh -c, or --arg shell=PATH); on update, the other arguments stay.",
        metavar="CMD",
    ),
]
Label = Annotated[
    list[str] | None,
    typer.Option("--label", help="Label KEY=VALUE (repeatable); e.g. team=ops.", metavar="K=V"),
]
Env = Annotated[
    list[str] | None,
    typer.Option(
        "--env",
        help="Set variable NAME=VALUE for each run (repeatable; on update, added to the job's or changed).",
        metavar="NAME=V",
    ),
]
Notify = Annotated[
    list[str] | None,
    typer.Option(
        "--notify",
        help="Tell NOTIFIER about EVENTs (repeatable; replaces the job's rules): NOTIFIER:EVENT[,EVENT...]"
        "[:each-attempt], e.g. ops-mail:failure,timeout.",
        metavar="RULE",
    ),
]
Unlabel = Annotated[list[str] | None, typer.Option("--unlabel", help="Remove label KEY (repeatable).", metavar="KEY")]
FromJson = Annotated[
    str | None,
    typer.Option("--from-json", help="API body, or 'jobs show --json' output, from FILE or - (stdin).", metavar="FILE"),
]


SettingValues = Optional[dict[str, Any]]  # noqa: UP045
"""The plain settings' values by key, filled in by :func:`with_setting_options`."""


def with_setting_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` one option per plain setting of ``jobctl.wire.job_keys``.

    Typer reads a command's options from its signature; this extends the signature with an
    option for every entry of ``JOB_SETTING_KEYS`` and hands their values to the command as one
    ``settings`` dict, so ``jobs create`` and ``jobs update`` declare none of them and a new
    plain field is one entry in that table.
    """
    from jobctl.wire.job_keys import JOB_SETTING_KEYS

    hints = get_type_hints(command, include_extras=True)
    own = [
        parameter.replace(annotation=hints.get(parameter.name, parameter.annotation))
        for parameter in inspect.signature(command).parameters.values()
        if parameter.name != "settings"
    ]
    added = [
        inspect.Parameter(
            setting.key, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=_option(setting)
        )
        for setting in JOB_SETTING_KEYS
    ]
    keys = [setting.key for setting in JOB_SETTING_KEYS]

    @functools.wraps(command)
    def with_settings(**kwargs: Any) -> None:
        settings = {key: kwargs.pop(key) for key in keys}
        command(**kwargs, settings=settings)

    tail = next((i for i, parameter in enumerate(own) if parameter.name in _AFTER_SETTINGS), len(own))
    parameters = own[:tail] + added + own[tail:]
    with_settings.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    with_settings.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    return with_settings


_AFTER_SETTINGS = ("disabled", "clear_env", "from_json", "as_json")
"""``--help`` lists the plain settings before the first of these."""


def _option(setting: SettingKey) -> Any:
    """The Typer annotation of one plain setting's option."""
    python_type: type = int if setting.kind == "int" else str
    value_type: Any = list[python_type] if setting.multiple else python_type  # type: ignore[valid-type]
    option = typer.Option(setting.flag, help=setting.help, metavar=setting.metavar, show_default=False)
    return Annotated[Optional[value_type], option]  # noqa: UP045


def _ctx(ctx: typer.Context) -> AppContext:
    obj: AppContext = ctx.obj
    return obj


def given_options(ctx: typer.Context) -> set[str]:
    """The options and arguments given on this command line, as the command declares them
    (``--retry-delay``, ``NAME``): which options an error of the body they built may name."""
    given = set()
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name) if param.name else None
        if source is not None and source.name == "COMMANDLINE":
            given.add(max(param.opts, key=len) if param.param_type_name == "option" else param.human_readable_name)
    return given


@app.command("list")
def list_jobs(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Option("--name", help="Only names containing TEXT.", metavar="TEXT")] = None,  # noqa: UP045
    enabled: Annotated[
        bool | None,
        typer.Option("--enabled/--disabled", help="Only enabled (or disabled) jobs.", show_default=False),
    ] = None,
    task_function_id: Annotated[
        int | None, typer.Option("--task-function-id", help="Only jobs of this task function.")
    ] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", help="Only jobs with label KEY=VALUE (repeat: all).", metavar="K=V")
    ] = None,
    page: Annotated[int | None, typer.Option(help="Only this page (default with --json: 1).")] = None,
    per_page: Annotated[int | None, typer.Option(help="Jobs per page, 1-100 (default with --json: 20).")] = None,
    after: Annotated[
        str | None,
        typer.Option("--after", help="Only the page after CURSOR (a nextCursor of --json).", metavar="CURSOR"),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="With --json: every page, in one answer.")] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", callback=at_least_one("--limit"), help="Show the first N by name (default all; not with --json)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List jobs with their schedule, next run and last status: every job, by name (--limit N:
    the first N), with a footer when some were left out.

    With --json: one page of the API's answer (--page, --per-page; --after the nextCursor of the
    page before), or every job (--all).

    \b
    Examples:
      jobctl jobs list
      jobctl jobs list --limit 20
      jobctl jobs list --enabled --json --all
      jobctl jobs list --label team=ops --label tier=gold
    """
    from jobctl.cli import listing

    service = _ctx(ctx).service(reads_only=True)
    paged = page is not None or per_page is not None or after is not None
    _check_jobs_choice(limit=limit, paged=paged, every=every, as_json=as_json)

    def fetch(number: int, size: int, cursor: str | None = None) -> JobList:
        return service.list_jobs(
            name=name,
            is_enabled=enabled,
            task_function_id=task_function_id,
            labels=label or (),
            page=number,
            per_page=size,
            after=cursor,
        )

    if paged or (as_json and not every):
        number, size = 1 if page is None else page, 20 if per_page is None else per_page  # 0 is refused
        one = fetch(number, size, after)
        if as_json:
            output.print_json(one)
        else:
            render.jobs_table(one, page=(number, size), next_cursor=one["nextCursor"])
        return
    data = listing.every_job(
        lambda: fetch(1, listing.PAGE),
        lambda cursor: service.stream_jobs(
            name=name, is_enabled=enabled, task_function_id=task_function_id, labels=label or (), after=cursor
        ),
    )
    if as_json:
        output.print_json(data)
    else:
        by_name = sorted(data["jobs"], key=lambda job: (job["name"].casefold(), job["name"]))
        render.jobs_table({**data, "jobs": by_name[:limit]}, read=len(by_name) if limit is not None else None)


def _check_jobs_choice(*, limit: int | None, paged: bool, every: bool, as_json: bool) -> None:
    """One way of choosing jobs, as in every listing (:func:`jobctl.cli.paging.check_choice`);
    ``--after`` is one more way of asking for a page here.

    :raises UsageError:
    """
    from jobctl.cli.paging import check_choice
    from jobctl.errors import UsageError

    if every and paged:
        raise UsageError("give either --all or --page/--per-page/--after")
    if limit is not None and (paged or every):
        raise UsageError("give one of --limit, --page/--per-page/--after and --all")
    check_choice(limit=limit is not None, paged=paged, every=every, as_json=as_json)


@app.command("show")
def show(ctx: typer.Context, job: JobArg, as_json: JsonFlag = False) -> None:
    """Show one job with its task, schedule and latest runs.

    Example: jobctl jobs show backup
    """
    service = _ctx(ctx).service(reads_only=True)
    data = service.get_job(service.resolve_job(job))
    output.print_json(data) if as_json else render.job_detail(data)


@app.command("next")
def next_runs(
    ctx: typer.Context,
    job: JobArg,
    count: Annotated[int, typer.Option("-n", "--count", min=1, max=100, help="How many runs (1-100).")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Show when a job runs next, in its zone and in UTC (a range when it has jitter).

    Example: jobctl jobs next backup -n 10
    """
    from jobctl.cli.next_render import next_runs as render_next_runs

    service = _ctx(ctx).service(reads_only=True)
    job_id = service.resolve_job(job)
    data = service.get_next_runs(job_id, count=count)
    output.print_json(data) if as_json else render_next_runs(service.get_job(job_id), data)


@app.command("why")
def why(
    ctx: typer.Context,
    job: JobArg,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Start: ISO 8601 time or a duration ago (24h, 7d); default 24h.", metavar="TIME"),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="End: ISO 8601 time, a duration ago or now (default).", metavar="TIME"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Why a job ran or did not: its runs, skipped and missed slots and changes, then a verdict.

    Example: jobctl jobs why backup --since 7d
    """
    from jobctl.cli.why_render import timeline

    service = _ctx(ctx).service(reads_only=True)
    data = service.get_job_timeline(service.resolve_job(job), since=since, until=until)
    output.print_json(data) if as_json else timeline(data)


@app.command("create")
@with_setting_options
def create(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(help="Unique job name.", show_default=False)] = None,  # noqa: UP045
    every: Every = None,
    cron: Cron = None,
    at: At = None,
    timezone: Zone = None,
    task: Task = None,
    arg: Args = None,
    command: Command = None,
    label: Label = None,
    env: Env = None,
    notify: Notify = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it disabled.")] = False,
    from_json: FromJson = None,
    as_json: JsonFlag = False,
    settings: SettingValues = None,
) -> None:
    """Create a job.

    \b
    Examples:
      jobctl jobs create backup --cron '0 2 * * *' --command 'tar czf /backup/etc.tgz /etc'
      jobctl jobs create ping --every 5m --command 'curl -fsS https://example.org/health'
      jobctl jobs create cleanup --every 1d --task cleanup_tmp --arg days=7 --retries 2 --label team=ops
      jobctl jobs create build --every 1h --command make --working-directory /srv/app --umask 027 --nice 10
      jobctl jobs create sync --every 15m --command /usr/local/bin/sync --notify slack:failure,recovery
      jobctl jobs create --from-json job.json
      jobctl jobs show backup --json | jobctl --db sqlite:///other.db jobs create --from-json -
      jobctl jobs show backup --json | jobctl jobs create backup-2 --from-json - --every 6h --disabled
    """
    app_ctx = _ctx(ctx)
    service = app_ctx.service()
    options = JobOptions(
        every=every,
        cron=cron,
        at=at,
        timezone=timezone,
        task=task,
        args=arg,
        command=command,
        labels=label,
        env=env,
        notify=notify,
        settings=settings or {},
    )
    if not from_json and name is None:
        from jobctl.errors import UsageError

        raise UsageError("give the job a NAME (or use --from-json FILE)")
    resolve_task = task_by_name(service.resolve_task_function)
    try:
        body = job_body_from_json(from_json, resolve_task=resolve_task) if from_json else {}
        if name is not None:
            body["name"] = name
        body_from_options(
            body,
            options,
            current=lambda field: body.get(field),
            resolve_task=resolve_task,
            default_timezone=app_ctx.config.scheduler_timezone,
            required=not from_json,
        )
        if disabled:
            body["isEnabled"] = False
        data = service.create_job(body)
    except ValidationFailed as exc:
        raise body_errors_as_typed(exc, given_options(ctx)) from None
    output.print_json(data) if as_json else render.job_created(data)
    if data["isEnabled"] and not data["isPaused"]:
        warn_if_nothing_runs(app_ctx)


@app.command("update")
@with_setting_options
def update(
    ctx: typer.Context,
    job: JobArg,
    name: Annotated[Optional[str], typer.Option("--name", help="Rename the job.")] = None,  # noqa: UP045
    every: Every = None,
    cron: Cron = None,
    at: At = None,
    timezone: Zone = None,
    task: Task = None,
    arg: Args = None,
    command: Command = None,
    label: Label = None,
    unlabel: Unlabel = None,
    env: Env = None,
    unset_env: Annotated[
        list[str] | None, typer.Option("--unset-env", help="Remove variable NAME (repeatable).", metavar="NAME")
    ] = None,
    clear_env: Annotated[bool, typer.Option("--clear-env", help="Remove all the job's variables first.")] = False,
    notify: Notify = None,
    clear_notify: Annotated[
        bool, typer.Option("--clear-notify", help="Drop the job's rules: the config's [notify] default applies.")
    ] = False,
    from_json: FromJson = None,
    as_json: JsonFlag = False,
    settings: SettingValues = None,
) -> None:
    """Change a job; only the options given change.

    \b
    Examples:
      jobctl jobs update backup --cron '30 3 * * *'
      jobctl jobs update backup --timezone America/Chicago
      jobctl jobs update backup --timeout 1h --retries 3
      jobctl jobs update backup --env TAR_OPTIONS=--one-file-system --unset-env OLD_NAME
      jobctl jobs update backup --label tier=gold --unlabel team
      jobctl jobs update backup --notify ops-mail:failure,timeout --pause-after-failures 3
    """
    app_ctx = _ctx(ctx)
    service = app_ctx.service()
    job_id = service.resolve_job(job)
    options = JobOptions(
        every=every,
        cron=cron,
        at=at,
        timezone=timezone,
        task=task,
        args=arg,
        command=command,
        labels=label,
        unlabels=unlabel,
        env=env,
        unset_env=unset_env,
        clear_env=clear_env,
        notify=notify,
        clear_notify=clear_notify,
        settings=settings or {},
    )
    resolve_task = task_by_name(service.resolve_task_function)
    job_now: Callable[[], Mapping[str, Any]] = functools.cache(lambda: service.get_job(job_id))
    try:
        body = job_body_from_json(from_json, resolve_task=resolve_task) if from_json else {}
        if name is not None:
            body["name"] = name
        body_from_options(
            body,
            options,
            current=lambda field: body[field] if field in body else job_now().get(field),
            resolve_task=resolve_task,
            default_timezone=app_ctx.config.scheduler_timezone,
            required=False,
        )
        if not body:
            from jobctl.errors import UsageError

            raise UsageError("nothing to change: give at least one option (see jobctl jobs update --help)")
        before = None if as_json else job_now()  # to tell a no-op update; --json prints the job whatever
        data = service.update_job(job_id, body)
    except ValidationFailed as exc:
        raise body_errors_as_typed(exc, given_options(ctx)) from None
    if as_json:
        output.print_json(data)
    elif before is not None and data["updatedAt"] == before["updatedAt"]:  # a no-op update writes nothing
        render.job_unchanged(data)
    else:
        render.job_changed(data, "updated")


@app.command("delete")
def delete(
    ctx: typer.Context,
    job: JobArg,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Stop the job's running runs (TERM, grace, KILL), skip its waiting ones, then delete.",
        ),
    ] = False,
) -> None:
    """Delete a job and its history; prints `deleted job 'NAME' (ID)`.

    A job with pending or running runs is refused (exit 4, naming them) unless --force.

    Example: jobctl jobs delete old-backup
    """
    service = _ctx(ctx).service()
    job_id = service.resolve_job(job)
    name = service.get_job(job_id)["name"]
    service.delete_job(job_id, force=force)
    render.job_deleted(job_id, name)


def _status_command(verb: str, body: dict[str, object], doc: str) -> None:
    def command(ctx: typer.Context, job: JobArg, as_json: JsonFlag = False) -> None:
        service = _ctx(ctx).service()
        data = service.set_job_status(service.resolve_job(job), body)
        output.print_json(data) if as_json else render.job_changed(
            data, verb + "d" if verb.endswith("e") else verb + "ed"
        )

    command.__doc__ = doc
    app.command(verb)(command)


_status_command(
    "enable", {"isEnabled": True}, "Enable a job: it runs on schedule again.\n\nExample: jobctl jobs enable backup"
)


@app.command("disable")
def disable(
    ctx: typer.Context,
    job: JobArg,
    reason: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--reason", help="Why: recorded with the change in the audit log.", metavar="TEXT"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Disable a job: no runs at all, triggers refused.

    \b
    Examples:
      jobctl jobs disable backup
      jobctl jobs disable backup --reason "host retired"
    """
    _set_status(ctx, job, {"isEnabled": False}, reason, as_json=as_json, done="disabled")


@app.command("pause")
def pause(
    ctx: typer.Context,
    job: JobArg,
    reason: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--reason", help="Why: shown in jobs list and show until the job is resumed.", metavar="TEXT"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Pause a job: no scheduled runs, manual triggers still allowed.

    \b
    Examples:
      jobctl jobs pause backup
      jobctl jobs pause backup --reason "disk replacement until Friday"
    """
    _set_status(ctx, job, {"isPaused": True}, reason, as_json=as_json, done="paused")


def _set_status(
    ctx: typer.Context, job: str, body: dict[str, object], reason: str | None, *, as_json: bool, done: str
) -> None:
    """``PUT /jobs/{id}/status`` with ``body`` and the reason given, if any, then the job as changed."""
    service = _ctx(ctx).service()
    if reason is not None:
        body = {**body, "reason": reason}
    data = service.set_job_status(service.resolve_job(job), body)
    output.print_json(data) if as_json else render.job_changed(data, done)


_status_command("resume", {"isPaused": False}, "Resume a paused job.\n\nExample: jobctl jobs resume backup")


@app.command("trigger")
def trigger(ctx: typer.Context, job: JobArg, as_json: JsonFlag = False) -> None:
    """Queue a run now; the daemon starts it. Prints the execution id.

    Example: jobctl jobs trigger backup
    """
    app_ctx = _ctx(ctx)
    service = app_ctx.service()
    data = service.trigger_job(service.resolve_job(job))
    if as_json:
        output.print_json(data)
    else:
        output.print_line(data["executionId"])
        output.note(f"triggered job {job!r}; follow it with: jobctl executions tail {data['executionId']} -f")
    warn_if_nothing_runs(app_ctx)


NO_DAEMON = "no daemon is running against this store: nothing will run until `jobctl daemon` starts"
NO_LEADER = "the daemon at {url} is a standby and no daemon leads: nothing will run until one takes the lead"


def warn_if_nothing_runs(app_ctx: AppContext) -> None:
    """Warn when no daemon leads the scheduler, or the leader has missed its heartbeats (dead or
    frozen): the job or run was recorded, but nothing starts it for now (docs/no-daemon-warning.md).

    A warning only: the command did what it was asked, and its exit code stays. If the check
    itself fails (the store or API went away just now), nothing is said.
    """
    from jobctl.errors import JobctlError

    try:
        leader = app_ctx.service().leading_daemon()
    except JobctlError:
        return
    if leader is None:
        url = app_ctx.api_url()
        output.warn(NO_LEADER.format(url=url) if url else NO_DAEMON)
    elif leader.heartbeat_overdue:
        from jobctl.cli.scheduler_state import silent_leader_warning

        output.warn(silent_leader_warning(leader))
